"""The robustness pieces inside a real RTMO training (RTMO-t overfit config on coco_mini, a few iterations).

Slow (RTMO-t forward/backward on the CPU): ``make test-slow``. Uses the wiring proposed for the RTMO configs:
``CheckedCocoDataset``, ``AtomicCheckpointHook``, ``NonFiniteLossHook`` and ``CheckpointCompatibilityHook``.
"""
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint
from mmpose.registry import HOOKS

from rtmo_plugin.engine.hooks import NonFiniteLossError

from .test_checkpoint_check import REPO


class _PoisonHeadHook(Hook):
    """Test helper: sets the box-loss weight to NaN before iteration ``at`` (0-based), so ``loss_bbox`` is NaN.

    (Poisoning a weight instead makes the SimOTA assignment fail first, inside the forward pass.)
    """

    def __init__(self, at: int) -> None:
        self.at = at

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if runner.iter == self.at:
            runner.model.head.loss_bbox.loss_weight = float("nan")


def _cfg(shared_data, work_dir, max_epochs: int, extra_hooks=()) -> Config:
    cfg = Config.fromfile(str(REPO / "configs" / "demo" / "rtmo-t_overfit_coco-mini.py"))
    root = str(shared_data / "coco_mini") + "/"
    cfg.train_dataloader.dataset.update(type="CheckedCocoDataset", data_root=root)
    cfg.train_dataloader.batch_size = 2
    cfg.train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10 ** 6)
    cfg.val_dataloader = cfg.test_dataloader = cfg.val_cfg = cfg.test_cfg = cfg.val_evaluator = None
    cfg.test_evaluator = None
    cfg.default_hooks.checkpoint = dict(type="AtomicCheckpointHook", interval=1, max_keep_ckpts=2)
    cfg.default_hooks.logger = dict(type="LoggerHook", interval=1)
    cfg.custom_hooks = [h for h in cfg.custom_hooks if h["type"] != "EMAHook"] + [
        dict(type="NonFiniteLossHook"), dict(type="CheckpointCompatibilityHook"), *extra_hooks]
    cfg.param_scheduler = []
    cfg.model.backbone.init_cfg = None
    cfg.work_dir = str(work_dir)
    cfg.randomness = dict(seed=0)
    return cfg


@pytest.mark.slow
def test_rtmo_train_resume_and_nan_stop(shared_data, tmp_path):
    HOOKS.register_module(module=_PoisonHeadHook, force=True)  # registered only when this slow test runs
    work = tmp_path / "work"
    Runner.from_cfg(_cfg(shared_data, work, 1)).train()  # 2 iterations (4 images, batch 2)
    assert (work / "epoch_1.pth").is_file() and (work / "last_checkpoint").read_text().endswith("epoch_1.pth")

    cfg = _cfg(shared_data, work, 2, extra_hooks=[dict(type="_PoisonHeadHook", at=3)])
    cfg.resume = True
    runner = Runner.from_cfg(cfg)
    with pytest.raises(NonFiniteLossError) as info:
        runner.train()  # resumes at iteration 2; iteration index 3 (4th, 1-based 4) is poisoned
    msg = str(info.value)
    assert "iteration 4 (epoch 2)" in msg and "loss_bbox=nan" in msg and "epoch_1.pth" in msg, msg
    assert not (work / "epoch_2.pth").exists()
    ckpt = _load_checkpoint(str(work / "epoch_1.pth"), map_location="cpu")
    assert all(torch.isfinite(v).all() for v in ckpt["state_dict"].values() if v.is_floating_point())
    assert ckpt["meta"]["epoch"] == 1
