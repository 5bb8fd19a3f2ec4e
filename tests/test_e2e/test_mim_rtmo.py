"""The real RTMO configs through MMPose's CLI: `mim train` on coco_mini (tiny input, 2 epochs, stage switch inside),
`mim test --checkpoint` with COCO keypoint AP, and the CrowdPose config with the crowd AP (easy/medium/hard)."""
import os
import re
import subprocess
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
S = "(128,128)"


def _mim(*args: str, cwd: Path) -> str:
    mim = Path(sys.executable).with_name("mim")
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    proc = subprocess.run([str(mim), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"mim {' '.join(args[:3])} failed:\n{out[-5000:]}"
    return out


def _loader_options(split: str, root: Path, ann: str) -> list:
    p = f"{split}_dataloader"
    return [f"{p}.dataset.data_root={root}/", f"{p}.dataset.ann_file={ann}", f"{p}.dataset.data_prefix.img=.",
            f"{p}.num_workers=0", f"{p}.persistent_workers=False", f"{p}.batch_size=2"]


def coco_options(coco_mini: Path) -> list:
    opts = []
    for split in ("train", "val", "test"):
        opts += _loader_options(split, coco_mini, "test_coco.json")
    ann = f"{coco_mini}/test_coco.json"
    return opts + [
        f"val_evaluator.ann_file={ann}", f"test_evaluator.ann_file={ann}",
        "model.backbone.init_cfg=None",  # no download: from scratch
        f"model.test_cfg.input_size={S}", "model.data_preprocessor.batch_augments.0.random_size_range=(96,160)",
        # stage-1 pipeline: PoseMosaic, PoseRandomAffine, PoseMixUp, ..., GenerateTarget at index 7
        f"train_dataloader.dataset.pipeline.1.img_scale={S}", f"train_dataloader.dataset.pipeline.2.input_size={S}",
        f"train_dataloader.dataset.pipeline.3.img_scale={S}",
        f"train_dataloader.dataset.pipeline.7.encoder.input_size={S}",
        f"val_dataloader.dataset.pipeline.1.input_size={S}", f"test_dataloader.dataset.pipeline.1.input_size={S}",
        # stage switch at epoch max_epochs - 0 - 1 = 1: the stage-2 pipeline also at 128
        "custom_hooks.0.num_last_epochs=0", f"custom_hooks.0.new_train_pipeline.1.input_size={S}",
        f"custom_hooks.0.new_train_pipeline.6.encoder.input_size={S}",
        "train_cfg.max_epochs=2", "train_cfg.val_interval=2", "default_hooks.checkpoint.interval=1",
    ]


def test_mim_train_and_test_rtmo_s_on_coco_mini(tmp_path: Path, shared_data: Path) -> None:
    config = REPO / "configs" / "rtmo-s_8xb32-600e_coco.py"
    work = tmp_path / "work"
    opts = coco_options(shared_data / "coco_mini")
    out = _mim("train", "mmpose", str(config), "--work-dir", str(work), "--cfg-options", *opts, cwd=tmp_path)
    assert (work / "epoch_1.pth").is_file() and (work / "epoch_2.pth").is_file()
    assert "RTMOStageSwitchHook: epoch 1: new train dataloader" in out and "use_aux_loss: False -> True" in out
    assert "loss_bbox_aux" in out  # the auxiliary L1 loss is logged once switched on
    assert re.search(r"coco/AP: [0-9.]+", out), out[-3000:]  # validation at epoch 2
    ckpt = torch.load(str(work / "epoch_2.pth"), map_location="cpu", weights_only=False)
    assert "ema_state_dict" in ckpt and any(k.startswith("head.dcc.") for k in ckpt["state_dict"])

    out = _mim("test", "mmpose", str(config), "--checkpoint", str(work / "epoch_2.pth"), "--work-dir", str(work),
               "--cfg-options", *opts, cwd=tmp_path)
    assert "Load checkpoint from" in out
    for key in ("coco/AP", "coco/AP .5", "coco/AR"):
        assert re.search(re.escape(key) + r": [0-9.]+", out), f"{key} missing:\n{out[-3000:]}"


def test_mim_test_crowdpose_reports_crowd_ap(tmp_path: Path, shared_data: Path) -> None:
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS

    config = REPO / "configs" / "rtmo-s_8xb32-700e_crowdpose.py"
    cfg = Config.fromfile(str(config))
    cfg.model.backbone.init_cfg = None
    init_default_scope("mmpose")
    model = MODELS.build(cfg.model)
    model.init_weights()
    ckpt = tmp_path / "random_init.pth"
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), str(ckpt))

    root = shared_data / "crowdpose_mini"
    opts = _loader_options("test", root, "test_crowdpose.json") + [
        f"model.test_cfg.input_size={S}", f"test_dataloader.dataset.pipeline.1.input_size={S}",
        "test_dataloader.batch_size=1"]
    out = _mim("test", "mmpose", str(config), "--checkpoint", str(ckpt), "--work-dir", str(tmp_path / "w"),
               "--cfg-options", *opts, cwd=tmp_path)
    for key in ("crowdpose/AP", "crowdpose/AP(E)", "crowdpose/AP(M)", "crowdpose/AP(H)"):
        assert re.search(re.escape(key) + r": -?[0-9.]+", out), f"{key} missing:\n{out[-3000:]}"
