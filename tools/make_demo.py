"""`make demo`: synthetic figures -> train a small RTMO on the CPU -> AP on the held-out split -> visualisations.

Writes into outputs/demo/ (gitignored): curves.png, synthetic_val_predictions.png, coco_mini_predictions.png,
street_predictions.mp4 / street_frame0_predictions.png (when ../shared/data exists), summary.json.
Logic lives in rtmo_plugin.demo_data.pipeline.
"""
import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    from rtmo_plugin.demo_data.pipeline import DEMO_BUDGET_MINUTES, DEMO_CONFIG, run_demo
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
                        help="wall-clock budget for the training part (the decay follows it; training stops after the "
                             "last epoch that fits)")
    parser.add_argument("--config", type=Path, default=DEMO_CONFIG)
    parser.add_argument("--processes", type=int, default=1,
                        help="training processes (CPU, gloo); they share out the OMP_NUM_THREADS threads")
    parser.add_argument("--sync", choices=("gradients", "weights"), default="gradients",
                        help="with --processes > 1: 'gradients' = DDP, the config's batch shared out over the ranks; "
                             "'weights' = local SGD, each rank steps on the config's batch and the weights are "
                             "averaged every --average-every iterations")
    parser.add_argument("--average-every", type=int, default=4, help="iterations between averagings (--sync weights)")
    args = parser.parse_args()
    if args.processes < 1:
        parser.error(f"--processes must be >= 1, got {args.processes}")
    if args.average_every < 1:
        parser.error(f"--average-every must be >= 1, got {args.average_every}")
    summary = run_demo(args.out_dir, args.num_train, args.num_val, args.seed, args.epochs, args.budget_minutes,
                       args.config, follow_budget=not args.fixed_schedule, processes=args.processes,
                       sync=args.sync, average_every=args.average_every)
    m = summary["metrics"]
    print(f"[demo] {summary['iterations']} iterations, {summary['seconds_per_iter']:.2f} s/iter, "
          f"total {summary['total_seconds'] / 60:.1f} min")
    print(f"[demo] synthetic val: keypoint AP {m['kpt_AP']:.3f} (AP50 {m['kpt_AP50']:.3f}), "
          f"box AP {m['box_AP']:.3f}; the proxy keypoints of the same detections: AP {m['proxy_kpt_AP']:.3f}; "
          f"the training set's average pose in the true boxes: AP {m['mean_pose_kpt_AP']:.3f}")
    ratio = summary["keypoint_errors"]["error_over_tolerance"]
    print(f"[demo] perfect keypoints on the same detections would score AP {m['oracle_kpt_AP']:.3f}; median "
          "keypoint error / COCO's OKS-0.5 tolerance: " + ", ".join(f"{k} {v:.1f}" for k, v in ratio.items()))
    print("[demo] keypoint AP by people per image: " + ", ".join(
        f"{n}: {v['kpt_AP']:.3f} ({v['images']:.0f} images)" for n, v in summary["ap_by_people"].items()))
    print(f"[demo] outputs in {args.out_dir}: {', '.join(summary['files'])}")
    print(json.dumps(m))


if __name__ == "__main__":
    main()
