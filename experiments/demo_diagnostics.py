"""Where the demo model's keypoint AP goes: diagnostics of a finished ``make demo`` run.

Reads the demo's output folder (its synthetic data and ``work_dir/final.pth``) and prints, on the val split:
keypoint and box AP; the keypoint AP of the proxy-regression keypoints of the same detections; the AP that perfect
keypoints on the same detections would score; the training set's average pose placed in the true boxes (a
pose-blind floor); the median keypoint error per keypoint over COCO's tolerance; AP per number of people per
image. Writes them to ``<out-dir>/diagnostics.json``.

Usage: python -m experiments.demo_diagnostics [--out-dir outputs/demo]
"""
import argparse
import json
import os
from pathlib import Path
from typing import Any, Dict

os.environ.setdefault("OMP_NUM_THREADS", "2")


def demo_diagnostics(out_dir: Path) -> Dict[str, Any]:
    """The diagnostics of the demo run in ``out_dir`` (see the module docstring)."""
    from mmengine.runner import Runner

    from experiments.crowd_breakdown import ap_by_people_count
    from experiments.keypoint_errors import keypoint_error_report
    from experiments.mean_pose_baseline import mean_pose_ap
    from experiments.proxy_keypoints import proxy_keypoints_as_output
    from rtmo_plugin.apis import load_model
    from rtmo_plugin.demo import build_config
    from rtmo_plugin.evaluation import box_and_keypoint_ap, evaluate_box_and_keypoints, predict_dataloader

    data_dir, checkpoint = out_dir / "data", out_dir / "work_dir" / "final.pth"
    if not checkpoint.is_file():
        raise FileNotFoundError(f"{checkpoint} not found: run `make demo` first (or pass --out-dir)")
    cfg = build_config(data_dir, out_dir / "work_dir")
    model = load_model(cfg, checkpoint)
    loader = Runner.build_dataloader(cfg.val_dataloader)
    ann_file = data_dir / "annotations" / "val.json"
    results = predict_dataloader(model, loader, progress=True)
    report: Dict[str, Any] = dict(box_and_keypoint_ap(ann_file, results))
    errors = keypoint_error_report(ann_file, results)
    report["oracle_kpt_AP"] = errors["oracle_kpt_AP"]
    report["error_over_tolerance"] = errors["error_over_tolerance"]
    with proxy_keypoints_as_output(model.head):
        report["proxy_kpt_AP"] = evaluate_box_and_keypoints(model, loader, ann_file)["kpt_AP"]
    report["mean_pose_kpt_AP"] = mean_pose_ap(data_dir / "annotations" / "train.json", ann_file)["AP"]
    report["ap_by_people"] = ap_by_people_count(ann_file, results)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out-dir", type=Path, default=Path("outputs") / "demo")
    args = parser.parse_args()
    report = demo_diagnostics(args.out_dir)
    print(f"keypoint AP {report['kpt_AP']:.3f}, box AP {report['box_AP']:.3f}; proxy keypoints "
          f"{report['proxy_kpt_AP']:.3f}; perfect keypoints on the same detections {report['oracle_kpt_AP']:.3f}; "
          f"average pose in the true boxes {report['mean_pose_kpt_AP']:.3f}")
    print("median keypoint error / COCO's OKS-0.5 tolerance: "
          + ", ".join(f"{k} {v:.1f}" for k, v in report["error_over_tolerance"].items()))
    print("keypoint AP by people per image: " + ", ".join(
        f"{n}: {v['kpt_AP']:.3f} ({v['images']:.0f} images)" for n, v in report["ap_by_people"].items()))
    (args.out_dir / "diagnostics.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
