"""`mim train` killed with SIGKILL mid-way, continued with `--resume`, ends like an uninterrupted run: same iteration
count and (deterministic data, one thread) identical weights, EMA weights and optimizer step."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch
from test_distributed_cpu import data_options, make_tiny_synthetic, run_env

CONFIG = Path(__file__).resolve().parent / "configs" / "tiny_synthetic_resume.py"


def _mim_train(work: Path, data: Path, *extra: str) -> list:
    mim = Path(sys.executable).with_name("mim")
    return [str(mim), "train", "mmpose", str(CONFIG), "--work-dir", str(work), *extra, "--cfg-options",
            *data_options(data)]


def _load(path: Path) -> dict:
    return torch.load(str(path), map_location="cpu", weights_only=False)


def test_kill_9_then_resume_matches_uninterrupted(tmp_path: Path) -> None:
    data = make_tiny_synthetic(tmp_path / "data", num_train=4)
    env = run_env()

    ref_dir = tmp_path / "uninterrupted"
    proc = subprocess.run(_mim_train(ref_dir, data), env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]

    work = tmp_path / "killed"
    victim = subprocess.Popen(_mim_train(work, data), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    deadline = time.time() + 600
    while not (work / "epoch_2.pth").is_file() and victim.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    assert victim.poll() is None, "the run ended before it could be killed"
    os.killpg(victim.pid, signal.SIGKILL)  # kill -9 the whole process group (mim and its python child)
    victim.wait(timeout=60)
    assert victim.returncode == -signal.SIGKILL
    assert not (work / "epoch_4.pth").exists()

    proc = subprocess.run(_mim_train(work, data, "--resume"), env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "resumed epoch" in out, out[-3000:]

    ref, got = _load(ref_dir / "epoch_4.pth"), _load(work / "epoch_4.pth")
    assert got["meta"]["epoch"] == ref["meta"]["epoch"] == 4
    assert got["meta"]["iter"] == ref["meta"]["iter"] == 8  # 4 epochs x 4 images / batch 2
    for key in ("state_dict", "ema_state_dict"):
        assert ref[key].keys() == got[key].keys()
        for name, tensor in ref[key].items():
            assert torch.equal(tensor, got[key][name]), f"{key}[{name}] differs after resume"
    steps = [s["step"] for s in got["optimizer"]["state"].values()]
    assert steps and all(float(s) == 8 for s in steps)
