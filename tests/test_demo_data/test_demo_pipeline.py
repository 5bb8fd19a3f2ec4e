"""run_demo end to end on a tiny synthetic set: one training iteration, evaluation, pictures, summary."""
import json
from pathlib import Path

import pytest
import torch

from rtmo_plugin.demo_data.pipeline import run_demo
from rtmo_plugin.utils.paths import shared_data_dir


def test_tiny_demo_writes_metrics_curves_and_pictures(tmp_path: Path) -> None:
    torch.manual_seed(0)
    summary = run_demo(tmp_path, num_train=8, num_val=4, seed=0, max_epochs=1, budget_minutes=5)
    assert summary["iterations"] == 2  # 8 images, batch 4, one epoch
    metrics = summary["metrics"]
    for key in ("kpt_AP", "box_AP", "proxy_kpt_AP", "mean_pose_kpt_AP", "oracle_kpt_AP"):
        assert 0.0 <= metrics[key] <= 1.0
    assert len(summary["keypoint_errors"]["error_over_tolerance"]) == 17
    by_people = summary["ap_by_people"]  # the 4 val images grouped by crowd size, each group scored alone
    assert sum(row["images"] for row in by_people.values()) == 4
    assert all(0.0 <= row["kpt_AP"] <= 1.0 for row in by_people.values())
    assert json.loads((tmp_path / "summary.json").read_text())["metrics"] == metrics
    # the one validation (end of epoch 1) scored the same EMA weights as the final evaluation
    curve = summary["val_curve"]
    assert curve["iters"] == [2]
    assert curve["kpt AP"][-1] == pytest.approx(metrics["kpt_AP"])
    assert curve["box AP"][-1] == pytest.approx(metrics["box_AP"])
    assert curve["coco/AP"][-1] == pytest.approx(metrics["kpt_AP"])  # mmengine's CocoMetric, same predictions
    expected = ["synthetic_val_predictions.png", "curves.png"]
    if shared_data_dir().is_dir():
        expected += ["coco_mini_predictions.png", "street_predictions.mp4", "street_frame0_predictions.png"]
    assert sorted(summary["files"]) == sorted(expected)
    for name in expected:
        assert (tmp_path / name).stat().st_size > 0


def test_tiny_demo_on_two_processes_shares_out_the_batch(tmp_path: Path) -> None:
    summary = run_demo(tmp_path, num_train=8, num_val=4, seed=0, max_epochs=1, budget_minutes=5, processes=2)
    assert summary["processes"] == 2
    assert summary["iterations"] == 2  # the config's batch 4 per step, 2 images on each of the 2 processes
    assert summary["val_curve"]["iters"] == [2]
    for key in ("kpt_AP", "box_AP", "proxy_kpt_AP"):
        assert 0.0 <= summary["metrics"][key] <= 1.0
    assert (tmp_path / "work_dir" / "final.pth").is_file() and (tmp_path / "curves.png").stat().st_size > 0
