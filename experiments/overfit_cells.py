"""How much of an overfit-check model's keypoint AP the choice of grid cell costs (docs/demo_recipe.md, point 23).

Prints the keypoint AP of a trained checkpoint with the kept cells' poses, with the per-keypoint median and with the
score-weighted mean of the poses of the cells that overlap each kept detection. Logic: experiments.cell_vote.
make overfit reports the median vote of both models too.
Example: python -m experiments.overfit_cells outputs/overfit/ours/final.pth
"""
import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")


def main() -> None:
    from mmengine.registry import init_default_scope
    from mmpose.utils import register_all_modules

    import rtmo_plugin  # noqa: F401
    from experiments.cell_vote import cell_vote_report
    from experiments.overfit import OVERFIT_CONFIG, build_overfit_config
    from rtmo_plugin.utils.paths import shared_data_dir

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path, help="weights of our model trained by experiments/overfit_check.py")
    parser.add_argument("--config", type=Path, default=OVERFIT_CONFIG)
    parser.add_argument("--input-size", type=int, default=None, help="the input size the checkpoint was trained at")
    parser.add_argument("--iou-thr", type=float, default=0.9)
    args = parser.parse_args()
    if not args.checkpoint.is_file():
        parser.error(f"checkpoint not found: {args.checkpoint}")
    register_all_modules(init_default_scope=False)
    init_default_scope("mmpose")
    coco_mini = shared_data_dir() / "coco_mini"
    cfg = build_overfit_config("ours", args.checkpoint.parent, coco_mini, config=args.config,
                               input_size=args.input_size)
    print(json.dumps(cell_vote_report(cfg, args.checkpoint, coco_mini / "test_coco.json", args.iou_thr)))


if __name__ == "__main__":
    main()
