"""Short from-scratch training runs that show which part of RTMO learns slowly (boxes, proxy keypoints, DCC, scores).
Logic: experiments.recipe_probe. Needs the demo data (`make demo` writes outputs/demo/data).

Examples (the table in docs/demo_recipe.md):
  python -m experiments.run_recipe_probe --memorize 8 --iters 300
  python -m experiments.run_recipe_probe --memorize 8 --iters 300 \
      --training-metainfo configs/_base_/datasets/coco_training_sigmas_x6.py --dcc-lr-mult 1.0
"""
import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")


def main() -> None:
    from mmengine.registry import init_default_scope
    from mmpose.utils import register_all_modules

    register_all_modules(init_default_scope=False)
    init_default_scope("mmpose")
    import rtmo_plugin  # noqa: F401
    from experiments.recipe_probe import ProbeOptions, run_probe
    from rtmo_plugin.demo import DEMO_CONFIG
    from rtmo_plugin.utils.paths import REPO_ROOT

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=DEMO_CONFIG)
    parser.add_argument("--data-root", type=Path, default=REPO_ROOT / "outputs" / "demo" / "data")
    parser.add_argument("--iters", type=int, default=300)
    parser.add_argument("--lr", type=float, default=4e-3)
    parser.add_argument("--dcc-lr-mult", type=float, default=0.1)
    parser.add_argument("--encoder-lr-mult", type=float, default=0.05)
    parser.add_argument("--clip", type=float, default=0.1, help="gradient-norm clip, 0 = none")
    parser.add_argument("--loss-mle", type=float, default=1.0)
    parser.add_argument("--loss-oks", type=float, default=30.0)
    parser.add_argument("--training-metainfo", default=None,
                        help="metainfo file for the OKS loss and the assigner (default: the config's)")
    parser.add_argument("--memorize", type=int, default=0, help="train on the first N images, no augmentation")
    parser.add_argument("--mle-start", type=int, default=0, help="MLE loss off before this iteration")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--log-every", type=int, default=25)
    parser.add_argument("--out", type=Path, default=None, help="write the rows as JSON here")
    args = parser.parse_args()
    if not (args.data_root / "annotations" / "train.json").is_file():
        parser.error(f"no synthetic data in {args.data_root}: run `make demo` (or tools/make_demo.py) first")
    opts = ProbeOptions(config=args.config, data_root=args.data_root, iters=args.iters, lr=args.lr,
                        dcc_lr_mult=args.dcc_lr_mult, encoder_lr_mult=args.encoder_lr_mult, clip=args.clip,
                        loss_mle=args.loss_mle, loss_oks=args.loss_oks, training_metainfo=args.training_metainfo,
                        memorize=args.memorize, mle_start=args.mle_start, batch_size=args.batch_size,
                        log_every=args.log_every)
    rows = run_probe(opts)
    if args.out is not None:
        args.out.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
