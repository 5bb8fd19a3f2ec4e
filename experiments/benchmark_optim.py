"""Seconds per training step of the demo model: batched optimiser/EMA drop-ins vs. MMPose/MMDet's, same process.

Usage: python -m experiments.benchmark_optim [--rounds 6] [--batches 10]
       [--config configs/demo/rtmo-tiny_synthetic-160.py]
Data: 40 synthetic training images, generated into a temporary directory (deterministic, seed 0).
"""
import argparse
import os
import platform
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6, help="measured rounds per variant (alternating)")
    parser.add_argument("--batches", type=int, default=10, help="training steps per round")
    parser.add_argument("--config", type=Path, default=REPO / "configs/demo/rtmo-tiny_synthetic-160.py")
    args = parser.parse_args()

    import torch
    from mmpose.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    import rtmo_plugin  # noqa: F401
    from experiments.step_benchmark import benchmark_training_step, format_report
    from rtmo_plugin.datasets.synthetic.generator import generate_split
    from rtmo_plugin.demo import build_config

    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        for split in ("train", "val"):
            generate_split(data, split, 40 if split == "train" else 4, seed=0, progress=False)
        cfg = build_config(data, Path(tmp) / "work", config=args.config.resolve())
        cfg.log_level = "WARNING"
        result = benchmark_training_step(cfg, num_batches=args.batches, rounds=args.rounds)
    print(f"training step of {args.config.name} (batch {cfg.train_dataloader.batch_size}), "
          f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    print("\n".join(format_report(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
