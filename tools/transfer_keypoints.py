"""Transfer an RTMO checkpoint to another keypoint set, by keypoint name; write the checkpoint and a report.

    python tools/transfer_keypoints.py SOURCE.pth SOURCE_METAINFO TARGET_CONFIG OUT.pth [--target-metainfo FILE]
        [--neighbour NAME=SRC1,SRC2 ...] [--no-neighbours]

SOURCE.pth: a K-keypoint checkpoint (official RTMO layout or one of this plugin's); SOURCE_METAINFO: the MMPose
metainfo file of its keypoints (e.g. configs/_base_/datasets/coco.py); TARGET_CONFIG: the config of the K'-keypoint
model (its dataset metainfo gives the target names unless --target-metainfo is given). Writes OUT.pth (a
``state_dict`` loadable strictly by the target config) and OUT.json / OUT.md: which tensors were copied, which
mapped row by row, and where every target keypoint's rows come from. The logic is
rtmo_plugin.utils.keypoint_transfer; ``CheckpointCompatibilityHook(keypoint_transfer=...)`` does the same inside
``mim train`` with ``load_from``.
"""
import argparse
from pathlib import Path
from typing import Dict, List, Optional, Tuple


def parse_neighbours(items: List[str]) -> Dict[str, Tuple[str, ...]]:
    """``['neck=left_shoulder,right_shoulder']`` -> ``{'neck': ('left_shoulder', 'right_shoulder')}``."""
    out = {}
    for item in items:
        name, _, sources = item.partition("=")
        if not name or not sources:
            raise SystemExit(f"--neighbour expects NAME=SRC1[,SRC2...], got {item!r}")
        out[name] = tuple(s for s in sources.split(",") if s)
    return out


def main(argv: Optional[List[str]] = None) -> None:
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner.checkpoint import _load_checkpoint
    from mmpose.registry import MODELS

    from rtmo_plugin.datasets.metainfo_check import load_checked_metainfo
    from rtmo_plugin.utils.checkpoint_check import extract_state_dict
    from rtmo_plugin.utils.keypoint_transfer import DEFAULT_NEIGHBOURS, transfer_checkpoint_state

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="K-keypoint checkpoint")
    parser.add_argument("source_metainfo", help="metainfo file of the checkpoint's keypoints")
    parser.add_argument("target_config", help="config of the K'-keypoint model")
    parser.add_argument("out", type=Path, help="output checkpoint (.pth); the report goes next to it")
    parser.add_argument("--target-metainfo", default=None, help="default: the config's train dataset metainfo")
    parser.add_argument("--neighbour", action="append", default=[],
                        help="NAME=SRC1,SRC2: initialise target keypoint NAME from the mean of these source rows")
    parser.add_argument("--no-neighbours", action="store_true", help="fresh init for every unmatched keypoint")
    args = parser.parse_args(argv)

    init_default_scope("mmpose")
    cfg = Config.fromfile(args.target_config)
    target_meta = args.target_metainfo or cfg.train_dataloader.dataset.get("metainfo")
    if target_meta is None:
        raise SystemExit("the target config's train dataset sets no metainfo: pass --target-metainfo")
    source_meta, target_meta = load_checked_metainfo(args.source_metainfo), load_checked_metainfo(target_meta)
    names = [[m["keypoint_id2name"][i] for i in range(m["num_keypoints"])] for m in (source_meta, target_meta)]
    neighbours = {} if args.no_neighbours else dict(DEFAULT_NEIGHBOURS, **parse_neighbours(args.neighbour))

    model_cfg = cfg.model
    model_cfg.backbone.init_cfg = None  # no pretrained download: every backbone tensor comes from the checkpoint
    model = MODELS.build(model_cfg)
    model.init_weights()
    checkpoint = _load_checkpoint(args.source, map_location="cpu")
    state, report = transfer_checkpoint_state(extract_state_dict(checkpoint), model, model_cfg, names[0], names[1],
                                              neighbours)
    model.load_state_dict(state, strict=True)  # proves the result loads as the target model
    args.out.parent.mkdir(parents=True, exist_ok=True)
    meta = dict(keypoint_transfer=dict(source=str(args.source), source_metainfo=args.source_metainfo,
                                       target_config=args.target_config))
    torch.save(dict(state_dict=state, meta=meta), str(args.out))
    report.write(str(args.out.with_suffix(".json")), str(args.out.with_suffix(".md")))
    counts = report.to_dict()["counts"]
    print(f"{args.out}: {len(names[0])} -> {len(names[1])} keypoints; {counts}")
    print(f"report: {args.out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
