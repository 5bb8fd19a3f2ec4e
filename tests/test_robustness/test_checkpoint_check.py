"""Checkpoint compatibility: RTMO-l into RTMO-s and CrowdPose-14 into COCO-17 fail with keys and shapes listed."""
from pathlib import Path
from typing import Dict

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from mmpose.registry import MODELS

from rtmo_plugin.utils.checkpoint_check import (
    CheckpointMismatchError,
    check_checkpoint_compatibility,
    extract_state_dict,
)

from .toy_runner import ToyDataset, ToyModel, make_runner

REPO = Path(__file__).resolve().parents[2]
KEY_LISTS = REPO.parent / "shared" / "docs" / "state_dict_keys"


def _official_shapes(variant: str) -> Dict[str, torch.Tensor]:
    """A stand-in for an official checkpoint: 'meta' tensors with the shapes of the released RTMO checkpoints."""
    path = KEY_LISTS / f"rtmo-{variant}.txt"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    out = {}
    for line in path.read_text().splitlines():
        key, shape = line.split("\t")
        dims = [int(d) for d in shape.strip("[]").split(",") if d.strip()]
        out[key] = torch.empty(dims, device="meta")
    return out


@pytest.fixture(scope="module")
def rtmo_s() -> Dict[str, torch.nn.Module]:
    models = {}
    for name, cfg_file in [("coco", "rtmo-s_8xb32-600e_coco.py"), ("crowdpose", "rtmo-s_8xb32-700e_crowdpose.py")]:
        cfg = Config.fromfile(str(REPO / "configs" / cfg_file))
        cfg.model.backbone.init_cfg = None
        models[name] = MODELS.build(cfg.model)
    return models


def test_official_rtmo_s_layout_is_accepted(rtmo_s):
    result = check_checkpoint_compatibility(rtmo_s["coco"], {"state_dict": _official_shapes("s")})
    assert not (result.missing or result.unexpected or result.shape_mismatch)
    assert result.model_desc == "RTMO-s, 17 keypoints"


def test_rtmo_l_into_rtmo_s(rtmo_s):
    with pytest.raises(CheckpointMismatchError) as info:
        check_checkpoint_compatibility(rtmo_s["coco"], {"state_dict": _official_shapes("l")}, source="rtmo-l.pth")
    msg = str(info.value)
    assert "rtmo-l.pth does not match the model (checkpoint looks like RTMO-l, 17 keypoints, model is RTMO-s, " \
           "17 keypoints)" in msg, msg[:500]
    assert "backbone.stem.conv.conv.weight: [64, 12, 3, 3] vs [32, 12, 3, 3]" in msg, msg[:2000]
    assert "head.head_module.conv_cls.0.0.conv.weight: [256, 256, 3, 3] vs [128, 128, 3, 3]" in msg or \
        "... and" in msg
    assert "missing in the checkpoint" in msg and "unexpected in the checkpoint" in msg  # l has 3 bottlenecks


def test_crowdpose_into_coco_lists_every_keypoint_layer(rtmo_s):
    ckpt = {"state_dict": rtmo_s["crowdpose"].state_dict()}
    with pytest.raises(CheckpointMismatchError) as info:
        check_checkpoint_compatibility(rtmo_s["coco"], ckpt)
    msg = str(info.value)
    assert "(checkpoint looks like RTMO-s, 14 keypoints, model is RTMO-s, 17 keypoints)" in msg
    assert "18 shape mismatches" in msg
    for line in ["head.loss_oks.sigmas: [14] vs [17]", "head.head_module.out_kpt_vis.0.weight: [14, 144, 1, 1] vs "
                 "[17, 144, 1, 1]", "head.head_module.out_kpt_reg.1.bias: [28] vs [34]"]:
        assert line in msg, msg
    assert "missing in the checkpoint" not in msg  # same variant: only the keypoint layers differ


def test_allowances_and_prefix_handling():
    model = ToyModel(3)
    state = {"module." + k: v for k, v in model.state_dict().items()}  # DDP-saved keys
    assert not check_checkpoint_compatibility(model, {"state_dict": state}).missing
    partial = {"state_dict": {"linear.weight": model.linear.weight, "extra.buffer": torch.zeros(2)}}
    with pytest.raises(CheckpointMismatchError, match=r"missing in the checkpoint.*\n    linear.bias: \[3\]"):
        check_checkpoint_compatibility(model, partial)
    result = check_checkpoint_compatibility(model, partial, allow_missing=True, allow_unexpected=True)
    assert result.missing == [("linear.bias", (3,))] and result.unexpected == [("extra.buffer", (2,))]
    assert not check_checkpoint_compatibility(model, partial, ignore_keys=[r"^linear\.bias$", "^extra"]).missing
    assert list(extract_state_dict({"state_dict": {"_metadata": 1, "module.a": 2}})) == ["a"]


def test_hook_stops_load_from_before_weights_are_copied(tmp_path):
    """Through Runner (load_from, as ``mim train/test --checkpoint`` use it): 4-output checkpoint, 3-output model."""
    path = tmp_path / "other.pth"
    torch.save({"state_dict": ToyModel(4).state_dict(), "meta": {}}, path)
    runner = make_runner(str(tmp_path / "w"), ToyDataset(4), 2, "compat-hook", load_from=str(path),
                         custom_hooks=[dict(type="CheckpointCompatibilityHook")])
    before = runner.model.linear.weight.detach().clone()
    with pytest.raises(CheckpointMismatchError, match=r"other\.pth does not match.*\n.*\n    linear\.weight: "
                                                      r"\[4, 2\] vs \[3, 2\]"):
        runner.train()
    assert torch.equal(runner.model.linear.weight, before)


def test_hook_passes_matching_checkpoint_and_resume(tmp_path):
    work = tmp_path / "w"
    make_runner(str(work), ToyDataset(4), 2, "compat-a").train()
    runner = make_runner(str(work), ToyDataset(4), 4, "compat-b", resume=True,
                         custom_hooks=[dict(type="CheckpointCompatibilityHook")])
    runner.train()
    assert runner.iter == 4


def test_mim_test_path_with_tiny_pose_config(tmp_path, shared_data):
    """``tools/test.py`` = Runner.from_cfg(cfg with load_from).test(): a 14-keypoint head into a 17-keypoint one."""
    cfg = Config.fromfile(str(REPO / "tests" / "test_e2e" / "configs" / "tiny_topdown_coco-mini.py"))
    root = str(shared_data / "coco_mini") + "/"
    for split in ("val_dataloader", "test_dataloader"):
        cfg[split].dataset.data_root = root
    cfg.test_evaluator.ann_file = cfg.val_evaluator.ann_file = root + "test_coco.json"
    other = cfg.model.copy()
    other.head = dict(other.head, out_channels=14)
    torch.save({"state_dict": MODELS.build(other).state_dict(), "meta": {}}, tmp_path / "crowd14.pth")
    cfg.load_from = str(tmp_path / "crowd14.pth")
    cfg.work_dir = str(tmp_path / "w")
    cfg.custom_hooks = [dict(type="CheckpointCompatibilityHook")]
    with pytest.raises(CheckpointMismatchError, match=r"head\.final_layer\.weight: \[14, 32, 1, 1\] vs \[17, 32"):
        Runner.from_cfg(cfg).test()
