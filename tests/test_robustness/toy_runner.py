"""A tiny MMEngine training set-up for the hook tests (and, run as a script, for the SIGKILL fault injection).

The model is a linear layer with two loss terms: ``loss_main`` from the first two input columns and ``loss_aux``
multiplied by the third column, so a sample whose third value is NaN makes exactly ``loss_aux`` (and the total
``loss``) non-finite. The hooks under test are the real ones (registered in mmpose's HOOKS registry).

Script use (fault injection, see test_fault_injection.py)::

    python toy_runner.py WORK_DIR --max-iters 8 --interval 2 [--hook CheckpointHook] [--keep 3]
                         [--stall-at N --stall-in put|replace --marker FILE] [--resume]

``--stall-at N`` makes the N-th checkpoint save stop half-way (``put``: after writing half the bytes of the file;
``replace``: after the complete temporary file, before its rename), write ``--marker`` and sleep, so the test can
SIGKILL the process at exactly that moment.
"""
import argparse
import importlib.util
import os
import time
from pathlib import Path
from types import ModuleType
from typing import Dict, Iterable, List, Optional

import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset


class ToyModel(BaseModel):
    """``Linear(2, 3)`` with the loss terms described in the module docstring."""

    def __init__(self, out_features: int = 3) -> None:
        super().__init__()
        self.linear = nn.Linear(2, out_features)
        g = torch.Generator().manual_seed(1)  # same initial weights in every runner
        with torch.no_grad():
            self.linear.weight.copy_(torch.randn(self.linear.weight.shape, generator=g) * 0.5)
            self.linear.bias.zero_()

    def forward(self, inputs: torch.Tensor, data_samples: Optional[list] = None, mode: str = "tensor"):
        out = self.linear(inputs[:, :2])
        if mode == "loss":
            return {"loss_main": (out - 1.0).pow(2).mean(), "loss_aux": 0.1 * (out.abs().mean(1) * inputs[:, 2]).mean()}
        return out


class ToyDataset(Dataset):
    """``n`` fixed samples ``{'inputs': (3,)}``; samples in ``nan_at`` get a NaN third value."""

    def __init__(self, n: int = 8, nan_at: Iterable[int] = (), keep: Optional[List[int]] = None) -> None:
        g = torch.Generator().manual_seed(0)
        data = torch.cat([torch.randn(n, 2, generator=g), torch.ones(n, 1)], dim=1)
        for i in nan_at:
            data[i, 2] = float("nan")
        self.data = data if keep is None else data[keep]

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, idx: int) -> Dict[str, torch.Tensor]:
        return {"inputs": self.data[idx]}


def make_runner(work_dir: str, dataset: Dataset, max_iters: int, name: str, interval: int = 2,
                hook: str = "AtomicCheckpointHook", keep: int = -1, custom_hooks: Optional[list] = None,
                optimizer: Optional[dict] = None, resume: bool = False, load_from: Optional[str] = None,
                model: Optional[nn.Module] = None) -> Runner:
    """An iteration-based runner, batch 1, no shuffling, checkpoints every ``interval`` iterations."""
    return Runner(
        model=model or ToyModel(),
        work_dir=work_dir,
        experiment_name=name,
        train_dataloader=dict(dataset=dataset, sampler=dict(type="DefaultSampler", shuffle=False), batch_size=1,
                              num_workers=0, collate_fn=dict(type="default_collate")),
        train_cfg=dict(by_epoch=False, max_iters=max_iters, val_interval=10 ** 6),
        optim_wrapper=dict(optimizer=optimizer or dict(type="SGD", lr=0.05)),
        default_hooks=dict(checkpoint=dict(type=hook, interval=interval, by_epoch=False, max_keep_ckpts=keep),
                           logger=dict(type="LoggerHook", interval=1)),
        custom_hooks=custom_hooks or [],
        default_scope="mmpose",
        resume=resume,
        load_from=load_from,
        randomness=dict(seed=0),
        log_level="INFO",
    )


def _load_plugin_file(*parts: str) -> ModuleType:
    """Import one file of rtmo_plugin on its own (it must have no relative imports).

    The child processes need only the checkpoint hook (registers ``AtomicCheckpointHook``) and the torch.load
    allow-list (``utils/compat.py``, for ``--resume`` under torch >= 2.6); loading just these files instead of the
    whole plugin (which registers all of MMPose) keeps their start-up short on a busy 2-core machine.
    """
    path = Path(__file__).resolve().parents[2].joinpath("rtmo_plugin", *parts)
    spec = importlib.util.spec_from_file_location("rtmo_plugin_" + path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _install_stall(ach: ModuleType, at: int, where: str, marker: str) -> None:
    """Make the ``at``-th checkpoint write stop half-way (see the module docstring)."""
    from mmengine.fileio.backends.local_backend import LocalBackend

    count = {"n": 0}

    def stall() -> None:
        with open(marker, "w") as f:
            f.write(str(os.getpid()))
        time.sleep(300)

    original_put = LocalBackend.put

    def put(self, obj: bytes, filepath) -> None:
        if ".pth" in str(filepath):
            count["n"] += 1
            if where == "put" and count["n"] == at:
                with open(filepath, "wb") as f:
                    f.write(obj[: len(obj) // 2])
                    f.flush()
                    os.fsync(f.fileno())
                stall()
        return original_put(self, obj, filepath)

    LocalBackend.put = put
    if where == "replace":
        original_commit = ach.commit_file

        def commit_file(tmp: str, final: str) -> None:
            if final.endswith(".pth") and count["n"] == at:
                stall()
            original_commit(tmp, final)

        ach.commit_file = commit_file


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("work_dir")
    parser.add_argument("--max-iters", type=int, default=8)
    parser.add_argument("--interval", type=int, default=2)
    parser.add_argument("--hook", default="AtomicCheckpointHook")
    parser.add_argument("--keep", type=int, default=-1)
    parser.add_argument("--stall-at", type=int, default=0)
    parser.add_argument("--stall-in", choices=("put", "replace"), default="put")
    parser.add_argument("--marker", default="")
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)
    _load_plugin_file("utils", "compat.py")
    ach = _load_plugin_file("engine", "hooks", "atomic_checkpoint_hook.py")
    if args.stall_at:
        _install_stall(ach, args.stall_at, args.stall_in, args.marker)
    runner = make_runner(args.work_dir, ToyDataset(n=args.max_iters), args.max_iters, name=f"toy-{os.getpid()}",
                         interval=args.interval, hook=args.hook, keep=args.keep, resume=args.resume)
    runner.train()
    print(f"TRAINING DONE at iter {runner.iter}")


if __name__ == "__main__":
    main()
