"""`make demo`: synthetic figures -> train a small RTMO on the CPU -> AP on the held-out split -> pictures.

Writes into outputs/demo/ (gitignored): synthetic_val_predictions.png, curves.png, summary.json.
The logic lives in rtmo_plugin.demo.
"""
import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")


def main() -> None:
    from rtmo_plugin.demo import DEMO_BUDGET_MINUTES, DEMO_CONFIG, run_demo
    from rtmo_plugin.utils.paths import REPO_ROOT

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out-dir", type=Path, default=REPO_ROOT / "outputs" / "demo")
    parser.add_argument("--num-train", type=int, default=800, help="synthetic training images")
    parser.add_argument("--num-val", type=int, default=100, help="synthetic held-out images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=None,
                        help="max epochs (default: 60, a cap, with the budget schedule; the config's with "
                             "--fixed-schedule)")
    parser.add_argument("--fixed-schedule", action="store_true",
                        help="the config's epoch-based cosine schedule instead of one that follows the budget")
    parser.add_argument("--budget-minutes", type=float, default=DEMO_BUDGET_MINUTES,
                        help="wall-clock budget of the training part (the decay follows it; training stops after "
                             "the last epoch that fits)")
    parser.add_argument("--config", type=Path, default=DEMO_CONFIG)
    args = parser.parse_args()
    summary = run_demo(args.out_dir, args.num_train, args.num_val, args.seed, args.epochs, args.budget_minutes,
                       args.config, follow_budget=not args.fixed_schedule)
    m = summary["metrics"]
    print(f"[demo] {summary['iterations']} iterations, {summary['seconds_per_iter']:.2f} s/iter, "
          f"total {summary['total_seconds'] / 60:.1f} min")
    print(f"[demo] synthetic val: keypoint AP {m['kpt_AP']:.3f} (AP50 {m['kpt_AP50']:.3f}), box AP {m['box_AP']:.3f}")
    print(f"[demo] outputs in {args.out_dir}: {', '.join(summary['files'])}")
    print(json.dumps(m))


if __name__ == "__main__":
    main()
