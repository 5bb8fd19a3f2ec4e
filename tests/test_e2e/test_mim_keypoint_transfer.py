"""`mim train` of the CrowdPose-14 RTMO-s config from a COCO-17 checkpoint: load_from + CheckpointCompatibilityHook's
keypoint_transfer (tiny input, 2 one-iteration epochs on the 2 crowdpose_mini photos, stage 1 only); without the
option the same checkpoint is refused."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[2]
S = "(128,128)"
CROWDPOSE = REPO / "configs" / "rtmo-s_8xb32-700e_crowdpose.py"


def _mim(*args: str, cwd: Path) -> str:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    proc = subprocess.run([str(Path(sys.executable).with_name("mim")), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"mim {' '.join(args[:3])} failed:\n{out[-5000:]}"
    return out


def _loader_options(split: str, root: Path, ann: str) -> list:
    p = f"{split}_dataloader"
    return [f"{p}.dataset.data_root={root}/", f"{p}.dataset.ann_file={ann}", f"{p}.dataset.data_prefix.img=.",
            f"{p}.num_workers=0", f"{p}.persistent_workers=False", f"{p}.batch_size=2"]


@pytest.fixture(scope="module")
def coco17_checkpoint(tmp_path_factory) -> Path:
    """A randomly initialised RTMO-s COCO-17 checkpoint (the layout of the official one)."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpose.registry import MODELS

    cfg = Config.fromfile(str(REPO / "configs" / "rtmo-s_8xb32-600e_coco.py"))
    cfg.model.backbone.init_cfg = None
    init_default_scope("mmpose")
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    path = tmp_path_factory.mktemp("ckpt") / "rtmo-s_coco17_random.pth"
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), str(path))
    return path


def crowdpose_options(root: Path, ckpt: Path) -> list:
    opts = []
    for split in ("train", "val", "test"):
        opts += _loader_options(split, root, "test_crowdpose.json")
    ann = f"{root}/test_crowdpose.json"
    return opts + [
        f"val_evaluator.ann_file={ann}", f"test_evaluator.ann_file={ann}", "model.backbone.init_cfg=None",
        f"model.test_cfg.input_size={S}", "model.data_preprocessor.batch_augments.0.random_size_range=(96,160)",
        f"train_dataloader.dataset.pipeline.1.img_scale={S}", f"train_dataloader.dataset.pipeline.2.input_size={S}",
        f"train_dataloader.dataset.pipeline.3.img_scale={S}",
        f"train_dataloader.dataset.pipeline.7.encoder.input_size={S}",
        f"val_dataloader.dataset.pipeline.1.input_size={S}", f"test_dataloader.dataset.pipeline.1.input_size={S}",
        # no stage-2 pipeline (not this test's subject): the stage switch is tested on COCO in test_mim_rtmo.py, the
        # CrowdPose stage-2 pipeline in test_letterbox_and_mask.py
        "custom_hooks.0.num_last_epochs=None",
        "train_cfg.max_epochs=2", "train_cfg.val_interval=2", "default_hooks.checkpoint.interval=2",
        f"load_from={ckpt}",
    ]


def test_mim_train_crowdpose_from_coco17_checkpoint(tmp_path: Path, shared_data: Path, coco17_checkpoint) -> None:
    work = tmp_path / "work"
    opts = crowdpose_options(shared_data / "crowdpose_mini", coco17_checkpoint)
    # custom_hooks.4 is the config's CheckpointCompatibilityHook
    opts.append("custom_hooks.4.keypoint_transfer.source_metainfo=configs/_base_/datasets/coco.py")
    out = _mim("train", "mmpose", str(CROWDPOSE), "--work-dir", str(work), "--cfg-options", *opts, cwd=REPO)
    assert "keypoint transfer 17 -> 14 keypoints" in out, out[-3000:]
    report = json.loads((work / "keypoint_transfer.json").read_text())
    assert report["counts"]["matched_keypoints"] == 12 and report["dropped"] == []
    assert report["keypoints"]["neck"] == "mean of left_shoulder, right_shoulder"
    assert "crowdpose/AP" in out
    state = torch.load(str(work / "epoch_2.pth"), map_location="cpu", weights_only=False)["state_dict"]
    assert tuple(state["head.dcc.pos_enc"].shape) == (14, 128)


def test_mim_train_refuses_the_same_checkpoint_without_the_option(tmp_path: Path, shared_data: Path,
                                                                  coco17_checkpoint) -> None:
    opts = crowdpose_options(shared_data / "crowdpose_mini", coco17_checkpoint)
    with pytest.raises(AssertionError, match=r"vs \[14, 128\](.|\n)*keypoint_transfer=dict\(source_metainfo"):
        _mim("train", "mmpose", str(CROWDPOSE), "--work-dir", str(tmp_path / "w"), "--cfg-options", *opts,
             cwd=REPO)
