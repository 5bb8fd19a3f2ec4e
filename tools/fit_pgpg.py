"""Fit the RMPE pose-guided proposal generator (PGPG) from COCO annotations + detections.

Example (shared sample data)::

    .venv/bin/python tools/fit_pgpg.py \
        --ann ../shared/data/coco_mini/test_coco.json \
        --dets ../shared/data/coco_mini/test_coco_det_AP_H_56.json --out work_dirs/pgpg.json

The JSON is used by ``dict(type='PoseGuidedProposals', mode='atomic', model_file=...)``.
"""
import argparse
from pathlib import Path

from rtmo_plugin.models.rmpe.pgpg import fit_pgpg, save_pgpg


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--ann', required=True, help='COCO keypoint annotation json')
    parser.add_argument('--dets', required=True,
                        help='COCO detection results json on the same images (offset samples)')
    parser.add_argument('--out', required=True, help='output JSON')
    parser.add_argument('--num-atoms', type=int, default=4, help='k of the atomic-pose k-means')
    parser.add_argument('--num-components', type=int, default=3,
                        help='Gaussian components per atom')
    parser.add_argument('--iou-thr', type=float, default=0.5,
                        help='IoU for a detection to count as a proposal of a GT box')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    for path in (args.ann, args.dets):
        if not Path(path).is_file():
            parser.error(f'file not found: {path}')
    model = fit_pgpg(args.ann, args.dets, num_atoms=args.num_atoms,
                     num_components=args.num_components, iou_thr=args.iou_thr, seed=args.seed)
    save_pgpg(model, args.out)
    print(f'{args.out}: {model["num_poses"]} poses, {model["num_offsets"]} offsets, '
          f'atom sizes {model["atom_sizes"]}')


if __name__ == '__main__':
    main()
