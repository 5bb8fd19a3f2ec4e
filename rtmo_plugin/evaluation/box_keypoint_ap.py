"""Box AP and keypoint AP of a bottom-up model on a COCO-format split (xtcocotools COCOeval).

MMPose's ``CocoMetric`` reports keypoint AP only; this also gives the box AP of the same predictions, both from
one inference pass (the demo reports both). The instance score is the box score, as in RTMO's
``CocoMetric(score_mode='bbox', nms_mode='none')``.
"""
import contextlib
import io
import json
from pathlib import Path
from typing import Dict, List, Sequence

import torch
from torch import nn

from .coco_results import data_samples_to_coco_results


@torch.no_grad()
def predict_dataloader(model: nn.Module, dataloader: Sequence, progress: bool = False) -> List[dict]:
    """Run ``model.test_step`` over a dataloader; return the COCO results of all its outputs.

    Args:
        model: a ``BottomupPoseEstimator`` (eval mode is set here).
        dataloader: yields mmengine data batches (``inputs``, ``data_samples``) with ``img_id`` metainfo.
        progress: show a tqdm bar.
    """
    model.eval()
    results: List[dict] = []
    batches = dataloader
    if progress:
        from tqdm import tqdm
        batches = tqdm(dataloader, desc="evaluate", unit="batch", leave=False)
    for batch in batches:
        results += data_samples_to_coco_results(model.test_step(batch))
    return results


def coco_ap(ann_file: Path, results: List[dict], iou_type: str = "keypoints") -> Dict[str, float]:
    """COCO AP/AP50/AP75/AR of ``results`` against ``ann_file``.

    Args:
        ann_file: COCO annotation json (with ``area`` for OKS).
        results: COCO result dicts (see :func:`predict_dataloader`).
        iou_type: 'keypoints' (OKS, COCO sigmas) or 'bbox'.

    Returns:
        dict: ``AP, AP50, AP75, AR`` (all 0.0 when there is no prediction).
    """
    from xtcocotools.coco import COCO
    from xtcocotools.cocoeval import COCOeval

    if iou_type not in ("keypoints", "bbox"):
        raise ValueError(f"iou_type must be 'keypoints' or 'bbox', got {iou_type!r}")
    if not results:
        return dict(AP=0.0, AP50=0.0, AP75=0.0, AR=0.0)
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(ann_file))
        dt = gt.loadRes(json.loads(json.dumps(results)))
        ev = COCOeval(gt, dt, iou_type, use_area=True) if iou_type == "keypoints" else COCOeval(gt, dt, iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    s = ev.stats
    ar_index = 5 if iou_type == "keypoints" else 8  # AR@20 (keypoints) / AR@100 (bbox)
    return dict(AP=float(max(s[0], 0)), AP50=float(max(s[1], 0)), AP75=float(max(s[2], 0)),
                AR=float(max(s[ar_index], 0)))


def box_and_keypoint_ap(ann_file: Path, results: List[dict]) -> Dict[str, float]:
    """Box AP and keypoint AP of the same COCO results.

    Returns:
        dict: ``kpt_AP, kpt_AP50, kpt_AR, box_AP, box_AP50, box_AR, num_predictions``.
    """
    kpt, box = coco_ap(ann_file, results, "keypoints"), coco_ap(ann_file, results, "bbox")
    return dict(kpt_AP=kpt["AP"], kpt_AP50=kpt["AP50"], kpt_AR=kpt["AR"], box_AP=box["AP"],
                box_AP50=box["AP50"], box_AR=box["AR"], num_predictions=float(len(results)))


def evaluate_box_and_keypoints(model: nn.Module, dataloader: Sequence, ann_file: Path,
                               progress: bool = False) -> Dict[str, float]:
    """One inference pass over ``dataloader``, then :func:`box_and_keypoint_ap`."""
    return box_and_keypoint_ap(ann_file, predict_dataloader(model, dataloader, progress=progress))


class BoxAndKeypointScore:
    """``results -> {'kpt AP', 'box AP'}`` on one annotation file: a validation score a training process can pickle.

    The demo passes it to :class:`~rtmo_plugin.demo.training.ProgressRecorderHook` as its validation score.

    Args:
        ann_file: COCO keypoint annotations of the split the results predict.
    """

    def __init__(self, ann_file: Path) -> None:
        self.ann_file = Path(ann_file)

    def __call__(self, results: List[dict]) -> Dict[str, float]:
        metrics = box_and_keypoint_ap(self.ann_file, results)
        return {"kpt AP": metrics["kpt_AP"], "box AP": metrics["box_AP"]}
