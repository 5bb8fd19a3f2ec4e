"""Overfit check: RTMO-t from scratch on the 4 coco_mini images (train = val), ours and MMPose's reference RTMO
with the same recipe (configs/demo/rtmo-t_overfit_coco-mini.py); prints box AP, keypoint AP and s/iter of both.

Not part of the test suite (tens of minutes on a CPU). Logic: experiments.overfit.
"""
import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")


def main() -> None:
    from experiments.overfit import OVERFIT_CONFIG, run_overfit
    from rtmo_plugin.utils.paths import REPO_ROOT

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out-dir", type=Path, default=REPO_ROOT / "outputs" / "overfit")
    parser.add_argument("--impl", choices=["both", "ours", "reference"], default="both")
    parser.add_argument("--iters", type=int, default=None, help="override the config's iteration count")
    parser.add_argument("--budget-minutes", type=float, default=None, help="wall-clock budget per run")
    parser.add_argument("--config", type=Path, default=OVERFIT_CONFIG)
    parser.add_argument("--input-size", type=int, default=None,
                        help="override the config's square input size (a multiple of 32)")
    parser.add_argument("--seed", type=int, default=None, help="override the config's seed")
    args = parser.parse_args()
    impls = ("ours", "reference") if args.impl == "both" else (args.impl,)
    results = run_overfit(args.out_dir, impls, args.iters, args.budget_minutes, args.config, args.input_size,
                          args.seed)
    print(f"{'impl':<10} {'iters':>6} {'s/iter':>7} {'box AP':>7} {'kpt AP':>7} {'kpt AP50':>8} {'voted AP':>8}")
    for impl, r in results.items():
        print(f"{impl:<10} {r['iterations']:>6} {r['seconds_per_iter']:>7.2f} {r['box_AP']:>7.3f} "
              f"{r['kpt_AP']:>7.3f} {r['kpt_AP50']:>8.3f} {r['vote_kpt_AP']:>8.3f}")
    print("voted AP: keypoints = per-keypoint median of the grid cells overlapping each kept box (IoU > 0.9)")
    print(json.dumps({k: {m: v for m, v in r.items() if m != 'val_curve'} for k, r in results.items()}))


if __name__ == "__main__":
    main()
