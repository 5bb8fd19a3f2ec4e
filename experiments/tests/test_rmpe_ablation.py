"""The RMPE ablation's rows: each removes exactly its component from the synthetic SSTN config, and trains."""
from pathlib import Path

import pytest
import torch
from mmengine.registry import init_default_scope

from experiments.rmpe_ablation import ROWS, STAGES, keypoint_ap, row_config
from rtmo_plugin.apis import GroundTruthBoxes, RMPEInferencer
from rtmo_plugin.apis.model_loading import load_model
from rtmo_plugin.datasets.synthetic import generate_split
from rtmo_plugin.demo.training import train_with_record
from rtmo_plugin.models.rmpe import SSTNTopdownEstimator


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synthetic")
    generate_split(root, "train", 8, seed=0)
    generate_split(root, "val", 3, seed=0)
    return root


def _pipeline_types(cfg) -> list:
    return [t["type"] for t in cfg.train_dataloader.dataset.pipeline]


def test_every_row_trains_in_a_stage_after_the_parallel_sppe() -> None:
    assert sorted(name for stage in STAGES for name in stage) == sorted(ROWS)
    assert STAGES[0][0] == "no_stn"  # its weights are the other rows' parallel SPPE


def test_rows_remove_exactly_their_component(data_dir, tmp_path) -> None:
    sppe = tmp_path / "sppe.pth"
    sppe.write_bytes(b"")
    full = row_config("full", 0, data_dir, tmp_path / "full", sppe)
    assert full.model.type == "SSTNTopdownEstimator" and full.model.parallel_sppe["checkpoint"] == str(sppe)
    assert "PoseGuidedProposals" in _pipeline_types(full)
    no_stn = row_config("no_stn", 0, data_dir, tmp_path / "a", None)
    assert no_stn.model.type == "TopdownPoseEstimator" and "localization" not in no_stn.model
    assert no_stn.model.backbone == full.model.backbone and no_stn.model.head == full.model.head
    assert row_config("no_parallel", 0, data_dir, tmp_path / "b", None).model.parallel_sppe is None
    no_pgpg = row_config("no_pgpg", 0, data_dir, tmp_path / "c", sppe)
    assert _pipeline_types(no_pgpg) == [t for t in _pipeline_types(full) if t != "PoseGuidedProposals"]
    assert row_config("full", 2, data_dir, tmp_path / "d", sppe).randomness == dict(seed=2)
    with pytest.raises(FileNotFoundError, match="no_stn row"):
        row_config("full", 0, data_dir, tmp_path / "e", tmp_path / "missing.pth")
    with pytest.raises(ValueError, match="unknown variant"):
        row_config("no_sdtn", 0, data_dir, tmp_path / "f", None)


def test_a_row_trains_and_rmpe_scores_it(data_dir, tmp_path) -> None:
    init_default_scope("mmpose")
    torch.manual_seed(0)
    cfg = row_config("no_parallel", 0, data_dir, tmp_path / "row", None)
    cfg.train_cfg["max_epochs"] = 1
    cfg.train_dataloader.batch_size = 4
    record = train_with_record(cfg, desc="row", show=False)
    assert record.iters and all(torch.isfinite(torch.tensor(v)).all() for v in record.losses.values())
    model = load_model(cfg, tmp_path / "row" / "final.pth")
    assert isinstance(model, SSTNTopdownEstimator)
    boxes = GroundTruthBoxes(data_dir / "annotations" / "val.json", jitter=True, proposals_per_person=2)
    scores = keypoint_ap(RMPEInferencer(boxes, model, pose_nms=None), data_dir)
    assert scores["poses"] == 2 * sum(len(b) for b in boxes.boxes.values())  # no NMS: every proposal's pose
    assert 0.0 <= scores["AP"] <= 1.0 and scores["ms_per_image"] > 0
