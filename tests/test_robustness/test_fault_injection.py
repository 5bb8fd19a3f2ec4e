"""SIGKILL while a checkpoint is being written: the previous checkpoint stays loadable and --resume continues.

A child process trains the toy model (toy_runner.py) with the checkpoint hook the RTMO configs use
(``AtomicCheckpointHook``). Its 2nd checkpoint write is stopped half-way (deterministically: the child writes a
marker and sleeps at that point), the test kills it with SIGKILL, then checks the work dir and resumes.
The negative control shows MMEngine's stock ``CheckpointHook`` losing every checkpoint in the same situation
(``max_keep_ckpts=1``: it deletes the old checkpoint before writing the new one).
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import pytest
from mmengine.runner.checkpoint import _load_checkpoint

SCRIPT = Path(__file__).with_name("toy_runner.py")


def _env() -> dict:
    return dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")


def _kill_while_saving(work: Path, extra: List[str]) -> None:
    """Start training, wait until the injected stall is reached, SIGKILL the process."""
    marker = work.parent / f"{work.name}.stalled"
    proc = subprocess.Popen([sys.executable, str(SCRIPT), str(work), "--max-iters", "8", "--interval", "2",
                             "--stall-at", "2", "--marker", str(marker), *extra],
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 240
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(f"training exited before the stall point:\n{proc.stdout.read()[-3000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("stall point not reached in time")
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL


def _resume(work: Path) -> str:
    proc = subprocess.run([sys.executable, str(SCRIPT), str(work), "--max-iters", "8", "--interval", "2",
                           "--keep", "1", "--resume"], env=_env(), capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    return out


def _last_checkpoint(work: Path) -> Path:
    pointer = (work / "last_checkpoint").read_text().strip()
    assert pointer, "last_checkpoint is empty"
    return Path(pointer)


@pytest.mark.parametrize("stall_in", ["put", pytest.param("replace", marks=pytest.mark.slow)])
def test_sigkill_during_checkpoint_write_then_resume(tmp_path, stall_in):
    """Killed half-way through writing iter_4.pth (put) or before its rename (replace)."""
    work = tmp_path / "work"
    _kill_while_saving(work, ["--stall-in", stall_in, "--keep", "1"])
    last = _last_checkpoint(work)
    assert last.name == "iter_2.pth" and last.is_file()
    assert _load_checkpoint(str(last), map_location="cpu")["meta"]["iter"] == 2
    assert not (work / "iter_4.pth").exists()  # no half-written file under a final name
    leftovers = [p.name for p in work.iterdir() if ".tmp-" in p.name]
    assert len(leftovers) == 1, leftovers  # the killed run's temporary file; the resumed run removes it
    if stall_in == "replace":
        return  # the resume path is the same as for 'put'; save the time of a second child process
    out = _resume(work)
    assert "resumed epoch: 0, iter: 2" in out, out[-3000:]
    assert "TRAINING DONE at iter 8" in out
    assert "removed an incomplete checkpoint of a previous run" in out
    assert not [p for p in work.iterdir() if ".tmp-" in p.name]
    assert _last_checkpoint(work).name == "iter_8.pth"
    assert sorted(p.name for p in work.glob("iter_*.pth")) == ["iter_8.pth"]  # max_keep_ckpts=1 honoured
    assert _load_checkpoint(str(work / "iter_8.pth"), map_location="cpu")["meta"]["iter"] == 8


def test_stock_checkpoint_hook_loses_the_checkpoint(tmp_path):
    """Negative control: the same kill with MMEngine's CheckpointHook leaves nothing loadable."""
    work = tmp_path / "work"
    _kill_while_saving(work, ["--stall-in", "put", "--keep", "1", "--hook", "CheckpointHook"])
    last = _last_checkpoint(work)
    assert last.name == "iter_2.pth" and not last.exists()  # deleted before the new one was written
    with pytest.raises(Exception):
        _load_checkpoint(str(work / "iter_4.pth"), map_location="cpu")  # half-written


def test_best_checkpoint_is_written_atomically(tmp_path, monkeypatch):
    """``save_best`` goes through the same temp-file + rename path (no temp files left, loadable best file)."""
    from mmpose.registry import HOOKS

    import rtmo_plugin.engine.hooks.atomic_checkpoint_hook as ach

    from .toy_runner import ToyDataset, make_runner

    committed = []
    original = ach.commit_file
    monkeypatch.setattr(ach, "commit_file", lambda tmp, final: (committed.append(Path(final).name),
                                                                original(tmp, final)))

    runner = make_runner(str(tmp_path), ToyDataset(4), 4, "atomic-best")
    runner.train()
    hook = HOOKS.build(dict(type="AtomicCheckpointHook", interval=2, by_epoch=False, save_best="loss", rule="less"))
    hook.before_train(runner)
    hook.after_val_epoch(runner, {"loss": 0.5})
    hook.after_val_epoch(runner, {"loss": 0.25})
    best = sorted(p.name for p in tmp_path.glob("best_*.pth"))
    assert best == ["best_loss_iter_4.pth"], best
    assert _load_checkpoint(str(tmp_path / best[0]), map_location="cpu")["meta"]["iter"] == 4
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]
    assert committed.count("best_loss_iter_4.pth") == 2, committed  # both improvements, each via temp + rename
