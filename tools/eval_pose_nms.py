"""COCO keypoint AP of a results file with no NMS, box NMS, OKS-NMS and RMPE pose NMS side by side.

Example (defaults = the shared sample data)::

    .venv/bin/python tools/eval_pose_nms.py
    .venv/bin/python tools/eval_pose_nms.py --preds my_results.json --ann my_ann.json
    # raw (pre-NMS) instances of a trained bottom-up model on the images of --ann:
    .venv/bin/python tools/eval_pose_nms.py --config configs/rtmo-t_8xb32-600e_coco.py \
        --checkpoint rtmo-t.pth --raw-out work_dirs/raw_preds.json
"""
import argparse
import contextlib
import io
from pathlib import Path

from rtmo_plugin.utils import shared_data_dir

#: (label, nms_mode, kwargs of evaluate_coco_results)
VARIANTS = [
    ('no NMS', 'none', {}),
    ('box NMS (IoU 0.5)', 'box_nms', dict(nms_thr=0.5)),
    ('box NMS (IoU 0.6)', 'box_nms', dict(nms_thr=0.6)),
    ('OKS-NMS (0.9)', 'oks_nms', dict(nms_thr=0.9)),
    ('soft-OKS-NMS (0.9)', 'soft_oks_nms', dict(nms_thr=0.9)),
    ('pose NMS, box norm. (paper)', 'pose_nms',
     dict(pose_nms_cfg=dict(type='ParametricPoseNMS', normalisation='box'))),
    ('pose NMS, pixel norm. (AlphaPose)', 'pose_nms',
     dict(pose_nms_cfg=dict(type='ParametricPoseNMS', normalisation='pixel'))),
    ('pose NMS, box norm., ranked by score', 'pose_nms',
     dict(pose_nms_cfg=dict(type='ParametricPoseNMS', normalisation='box', rank_by='score'))),
    ('pose NMS, box norm., no PCK criterion', 'pose_nms',
     dict(pose_nms_cfg=dict(type='ParametricPoseNMS', normalisation='box', match_thr=None))),
    ('pose NMS, box norm., no merge', 'pose_nms',
     dict(pose_nms_cfg=dict(type='ParametricPoseNMS', normalisation='box', merge=False))),
]


def main() -> None:
    data = shared_data_dir()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--preds', default=str(data / 'eval_refs' / 'example_coco_preds.json'),
                        help='COCO keypoint results json')
    parser.add_argument('--ann', default=str(data / 'coco_mini' / 'test_coco.json'),
                        help='COCO keypoint annotation json')
    parser.add_argument('--config', help='bottom-up model config: evaluate its raw instances '
                        'on the images of --ann instead of --preds')
    parser.add_argument('--checkpoint', help='weights for --config')
    parser.add_argument('--img-dir', help='image folder of --ann (default: its folder)')
    parser.add_argument('--score-thr', type=float, default=0.1,
                        help='instance score threshold for --config')
    parser.add_argument('--raw-out', default='work_dirs/raw_preds.json',
                        help='where the raw instances of --config are written')
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args()
    for path in (args.ann, ) if args.config else (args.preds, args.ann):
        if not Path(path).is_file():
            parser.error(f'file not found: {path}')

    from mmpose.utils import register_all_modules
    register_all_modules()
    from rtmo_plugin.evaluation import dump_raw_predictions, evaluate_coco_results
    if args.config:
        raw = dump_raw_predictions(args.config, args.checkpoint, args.ann,
                                   args.img_dir or Path(args.ann).parent, args.raw_out,
                                   score_thr=args.score_thr, device=args.device)
        print(f'{len(raw)} raw instances (score > {args.score_thr}, no box NMS) -> '
              f'{args.raw_out}')
        args.preds = args.raw_out

    rows = []
    for label, mode, kwargs in VARIANTS:
        with contextlib.redirect_stdout(io.StringIO()):  # COCOeval prints its summary
            stats = evaluate_coco_results(args.preds, args.ann, mode, **kwargs)
        rows.append((label, stats))
    names = [n for n in rows[0][1] if n != 'num_results']
    print(f'preds: {args.preds}\nann:   {args.ann}\n')
    print('| NMS | kept | ' + ' | '.join(names) + ' |')
    print('|---|---|' + '---|' * len(names))
    for label, stats in rows:
        print(f'| {label} | {int(stats["num_results"])} | '
              + ' | '.join(f'{stats[n]:.4f}' for n in names) + ' |')


if __name__ == '__main__':
    main()
