"""run_demo end to end on a tiny synthetic set: one training epoch, evaluation, pictures, summary."""
import json
from pathlib import Path

import pytest
import torch

from rtmo_plugin.demo.run_demo import run_demo


def test_tiny_demo_writes_metrics_curves_and_pictures(tmp_path: Path) -> None:
    torch.manual_seed(0)
    summary = run_demo(tmp_path, num_train=8, num_val=4, seed=0, max_epochs=1, budget_minutes=5)
    assert summary["iterations"] == 2  # 8 images, batch 4, one epoch
    metrics = summary["metrics"]
    for key in ("kpt_AP", "box_AP"):
        assert 0.0 <= metrics[key] <= 1.0
    assert json.loads((tmp_path / "summary.json").read_text())["metrics"] == metrics
    # the one validation (end of epoch 1) scored the same EMA weights as the final evaluation
    curve = summary["val_curve"]
    assert curve["iters"] == [2]
    assert curve["kpt AP"][-1] == pytest.approx(metrics["kpt_AP"])
    assert curve["box AP"][-1] == pytest.approx(metrics["box_AP"])
    assert curve["coco/AP"][-1] == pytest.approx(metrics["kpt_AP"])  # mmengine's CocoMetric, same predictions
    expected = ["synthetic_val_predictions.png", "curves.png"]
    assert sorted(summary["files"]) == sorted(expected)  # synthetic images only: the model saw no real photo
    for name in expected:
        assert (tmp_path / name).stat().st_size > 0
