"""Diagnostic: how much of a trained RTMO's keypoint AP is lost to the choice of grid cell.

Several grid cells predict each person: their boxes overlap, and with RTMO's stage-1 class target (the OKS of the
proxy keypoints) their scores can all be ~1. The box NMS keeps one of them, and their DCC poses may differ. This
module puts, on each kept detection, the per-keypoint median (or the score-weighted mean) of the poses of the cells
whose boxes overlap it, and scores the result like the original (docs/demo_recipe.md, point 23). The model is not
changed: the cells come from a second prediction with the box NMS off (``test_cfg.nms_thr`` just below 1.0,
:data:`NO_NMS_THR`).
It works on COCO results, so our head and MMPose's ``RTMOHead`` get the same vote (:func:`median_vote_kpt_ap`).
The vote is a diagnostic, not a prediction mode: its effect on a model trained on real data is not measured.
"""
import copy
import math
from pathlib import Path
from typing import Any, Dict, List, Tuple

import numpy as np

from experiments.keypoint_errors import box_iou_xywh

VOTES = ("median", "mean")


def overlapping_cells(kept: List[dict], cells: List[dict], iou_thr: float = 0.9) -> List[List[dict]]:
    """Per kept detection, the cells of its image whose boxes (x, y, w, h) overlap its box at IoU > ``iou_thr``."""
    by_image: Dict[Any, List[dict]] = {}
    for cell in cells:
        by_image.setdefault(cell["image_id"], []).append(cell)
    return [[c for c in by_image.get(det["image_id"], []) if box_iou_xywh(c["bbox"], det["bbox"]) > iou_thr]
            for det in kept]


def vote_keypoints(kept: List[dict], cells: List[dict], iou_thr: float = 0.9, vote: str = "median") -> List[dict]:
    """Each kept detection with its keypoints replaced by a vote over the cells whose boxes overlap it.

    Args:
        kept: COCO results after the box NMS (``image_id``, ``bbox`` (x, y, w, h), ``keypoints`` (K * 3),
            ``score``).
        cells: COCO results of the same images without the box NMS.
        iou_thr: a cell takes part if its box overlaps the kept box at IoU > ``iou_thr``.
        vote: ``'median'`` (per keypoint coordinate) or ``'mean'`` (weighted by the cells' scores).

    Returns:
        Copies of ``kept``, boxes, scores and keypoint scores unchanged; a detection without an overlapping cell
        keeps its keypoints.

    Raises:
        ValueError: on an unknown ``vote``.
    """
    if vote not in VOTES:
        raise ValueError(f"vote must be one of {VOTES}, got {vote!r}")
    voted = []
    for det, group in zip(kept, overlapping_cells(kept, cells, iou_thr)):
        out = copy.deepcopy(det)
        if group:
            poses = np.array([np.reshape(c["keypoints"], (-1, 3))[:, :2] for c in group], dtype=np.float64)
            if vote == "median":
                xy = np.median(poses, axis=0)
            else:
                weights = np.array([c["score"] for c in group], dtype=np.float64)
                xy = (poses * weights[:, None, None]).sum(0) / weights.sum()
            pose = np.reshape(det["keypoints"], (-1, 3)).astype(np.float64)
            pose[:, :2] = xy
            out["keypoints"] = pose.reshape(-1).tolist()
        voted.append(out)
    return voted


# MMPose 1.3.2's RTMOHead.predict fails with nms_thr=1.0 once a box passes the score threshold (``keep_idxs_nms``
# is never set); the largest float below 1.0 keeps every cell but one of two exactly coinciding boxes
NO_NMS_THR = math.nextafter(1.0, 0.0)


def kept_and_cells(model: Any, loader: Any) -> Tuple[List[dict], List[dict]]:
    """COCO results of ``model`` on ``loader`` as configured (the kept detections) and without the box NMS (every
    cell above ``score_thr``, :data:`NO_NMS_THR`); ``model.test_cfg`` is restored."""
    from rtmo_plugin.evaluation import predict_dataloader

    saved = model.test_cfg
    try:
        kept = predict_dataloader(model, loader)
        model.test_cfg = dict(saved, nms_thr=NO_NMS_THR)
        return kept, predict_dataloader(model, loader)
    finally:
        model.test_cfg = saved


def median_vote_results(model: Any, loader: Any, iou_thr: float = 0.9) -> List[dict]:
    """COCO results of ``model`` on ``loader`` with the per-keypoint median vote of the overlapping cells.

    The vote works on COCO results predicted with and without the box NMS, so it applies to our head and to
    MMPose's ``RTMOHead`` alike. ``model.test_cfg`` is restored.
    """
    return vote_keypoints(*kept_and_cells(model, loader), iou_thr, "median")


def median_vote_kpt_ap(model: Any, loader: Any, ann_file: Path, iou_thr: float = 0.9) -> float:
    """Keypoint AP of :func:`median_vote_results` against ``ann_file``."""
    from rtmo_plugin.evaluation import coco_ap

    return coco_ap(ann_file, median_vote_results(model, loader, iou_thr))["AP"]


def cell_vote_report(cfg: Any, checkpoint: Path, ann_file: Path, iou_thr: float = 0.9) -> Dict[str, float]:
    """Keypoint AP of a checkpoint with the kept cells' poses and with each vote; cells per kept detection.

    Args:
        cfg: the model's config (its ``val_dataloader`` is the evaluation set).
        checkpoint: the weights.
        ann_file: the evaluation set's COCO annotations.
        iou_thr: see :func:`vote_keypoints`.
    """
    from mmengine.runner import Runner

    from experiments.overfit import load_trained_model
    from rtmo_plugin.evaluation import coco_ap

    loader = Runner.build_dataloader(cfg.val_dataloader)
    kept, cells = kept_and_cells(load_trained_model(cfg, checkpoint), loader)
    report = {"kept_kpt_AP": coco_ap(ann_file, kept)["AP"]}
    for vote in VOTES:
        report[f"{vote}_kpt_AP"] = coco_ap(ann_file, vote_keypoints(kept, cells, iou_thr, vote))["AP"]
    counts = [len(group) for group in overlapping_cells(kept, cells, iou_thr)]
    report["cells_per_detection"] = float(np.mean(counts)) if counts else 0.0
    return report
