"""CheckpointCompatibilityHook's keypoint_transfer option, in process (the mim train path is tested in
tests/test_e2e/test_mim_keypoint_transfer.py)."""
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from rtmo_plugin.engine.hooks import CheckpointCompatibilityHook
from rtmo_plugin.utils.checkpoint_check import CheckpointMismatchError

COCO, HALPE = "configs/_base_/datasets/coco.py", "configs/_base_/datasets/halpe26.py"


def build(cfg: Config) -> torch.nn.Module:
    from mmpose.registry import MODELS

    init_default_scope("mmpose")
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


@pytest.fixture(scope="module")
def models(repo_root: Path):
    src_cfg = Config.fromfile(str(repo_root / "configs" / "demo" / "rtmo-tiny_synthetic-160.py"))
    tgt_cfg = Config.fromfile(str(repo_root / "configs" / "demo" / "rtmo-tiny_synthetic-160_halpe26.py"))
    return build(src_cfg), build(tgt_cfg), tgt_cfg


def runner_for(model, cfg, tmp_path: Path, resume: bool = False) -> SimpleNamespace:
    return SimpleNamespace(model=model, cfg=cfg, _load_from="src.pth", _resume=resume, work_dir=str(tmp_path),
                           logger=logging.getLogger("test"), _train_loop=None, _val_loop=None, _test_loop=None)


def test_transfer_on_load_from_then_strict_check(models, tmp_path: Path) -> None:
    src, tgt, cfg = models
    hook = CheckpointCompatibilityHook(keypoint_transfer=dict(source_metainfo=COCO, target_metainfo=HALPE))
    ckpt = dict(state_dict=src.state_dict(), ema_state_dict={"steps": torch.tensor(1)})
    hook.after_load_checkpoint(runner_for(tgt, cfg, tmp_path), ckpt)
    assert ckpt["state_dict"]["head.dcc.pos_enc"].shape == (26, 128) and "ema_state_dict" not in ckpt
    assert (tmp_path / "keypoint_transfer.json").is_file() and (tmp_path / "keypoint_transfer.md").is_file()
    tgt.load_state_dict(ckpt["state_dict"], strict=True)


def test_target_checkpoint_and_resume_are_not_transferred(models, tmp_path: Path) -> None:
    src, tgt, cfg = models
    hook = CheckpointCompatibilityHook(keypoint_transfer=dict(source_metainfo=COCO, target_metainfo=HALPE))
    own = dict(state_dict={k: v.clone() for k, v in tgt.state_dict().items()})
    hook.after_load_checkpoint(runner_for(tgt, cfg, tmp_path), own)  # already 26 keypoints: checked only
    assert hook.transfer_report is None
    with pytest.raises(CheckpointMismatchError):  # resuming never transfers
        hook.after_load_checkpoint(runner_for(tgt, cfg, tmp_path, resume=True), dict(state_dict=src.state_dict()))


def test_default_still_refuses_and_bad_options_are_rejected(models, tmp_path: Path) -> None:
    src, tgt, cfg = models
    with pytest.raises(CheckpointMismatchError, match="keypoint_transfer"):
        CheckpointCompatibilityHook().after_load_checkpoint(runner_for(tgt, cfg, tmp_path),
                                                            dict(state_dict=src.state_dict()))
    with pytest.raises(ValueError, match="source_metainfo"):
        CheckpointCompatibilityHook(keypoint_transfer=dict(target_metainfo=HALPE))
    with pytest.raises(ValueError, match="source_metainfo"):
        CheckpointCompatibilityHook(keypoint_transfer=dict(source_metainfo=COCO, neighbors={}))
