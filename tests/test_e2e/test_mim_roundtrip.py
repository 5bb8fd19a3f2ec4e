"""`mim train` -> `--resume` -> `mim test --checkpoint` through MMPose's own entry points, with the plugin.

The config only adds ``custom_imports=['rtmo_plugin']``. CI runs it on torch 2.1.2 and 2.14.1. Under torch >= 2.6
the resume and the test steps load mmengine checkpoints with ``torch.load(weights_only=True)``, which only works
because the plugin allow-lists the checkpoint's data types (:mod:`rtmo_plugin.utils.compat`); the negative control
shows plain torch refuses the file there.
"""
import os
import subprocess
import sys
from pathlib import Path

from rtmo_plugin.utils.compat import torch_version

CONFIG = Path(__file__).parent / "configs" / "tiny_topdown_coco-mini.py"


def _mim(*args: str, cwd: Path) -> str:
    mim = Path(sys.executable).with_name("mim")
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    proc = subprocess.run([str(mim), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"mim {' '.join(args[:2])} failed:\n{out[-4000:]}"
    return out


def _data_options(coco_mini: Path) -> list:
    root, ann = f"{coco_mini}/", f"{coco_mini}/test_coco.json"
    roots = [f"{split}_dataloader.dataset.data_root={root}" for split in ("train", "val", "test")]
    return ["--cfg-options", *roots, f"val_evaluator.ann_file={ann}", f"test_evaluator.ann_file={ann}"]


def test_train_resume_test_round_trip(tmp_path: Path, shared_data: Path) -> None:
    work = tmp_path / "work"
    opts = _data_options(shared_data / "coco_mini")

    out = _mim("train", "mmpose", str(CONFIG), "--work-dir", str(work), *opts, cwd=tmp_path)
    assert "Training finished" in out or (work / "epoch_2.pth").is_file(), out[-2000:]
    assert (work / "epoch_2.pth").is_file()

    # Negative control (torch >= 2.6, whose torch.load reads plain data only by default): without
    # the plugin, torch's safe loader refuses an mmengine checkpoint. Older torch loads it anyway.
    if torch_version() >= (2, 6):
        load = f"import torch; torch.load({str(work / 'epoch_2.pth')!r})"
        probe = subprocess.run([sys.executable, "-c", load], capture_output=True, text=True)
        assert probe.returncode != 0 and "weights_only" in probe.stderr

    out = _mim("train", "mmpose", str(CONFIG), "--work-dir", str(work), "--resume", *opts, "train_cfg.max_epochs=3",
               cwd=tmp_path)
    assert "resumed epoch: 2, iter: 6" in out, out[-3000:]
    assert (work / "epoch_3.pth").is_file()

    out = _mim("test", "mmpose", str(CONFIG), "--checkpoint", str(work / "epoch_3.pth"), "--work-dir", str(work),
               *opts, cwd=tmp_path)
    assert "Load checkpoint from" in out and "coco/AP:" in out, out[-3000:]


def test_plugin_is_imported_by_custom_imports(tmp_path: Path) -> None:
    """The config's ``custom_imports`` is what brings the plugin (and its registrations) into a fresh process."""
    code = ("from mmengine.config import Config; import sys\n"
            f"cfg = Config.fromfile({str(CONFIG)!r})\n"
            "print('rtmo_plugin' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "True"
