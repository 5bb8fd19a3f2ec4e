"""Where a model's keypoint AP goes: per-keypoint errors of its detections, and AP with perfect keypoints.

Two diagnostics of one set of COCO results against a split:

* **perfect keypoints on the model's detections** (``oracle_kpt_AP``): every prediction keeps its box and score but
  takes the keypoints of the ground-truth person its box overlaps most. This is the keypoint AP the detections and
  their ranking allow; what the model's own keypoint AP lacks from it is lost in keypoint placement.
* **error per keypoint**: for each person found (box IoU >= 0.5, the highest-scoring such prediction), the distance
  of each labelled keypoint to the truth in units of ``sqrt(area)``, the scale OKS uses. Reported as the median over
  people and as a ratio to COCO's tolerance, the distance at which that keypoint's OKS term is 0.5
  (``2 sigma_k sqrt(2 ln 2)`` in the same units): a ratio above 1 means the typical keypoint of that kind is a miss.
"""
import json
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
from mmpose.datasets.datasets.utils import parse_pose_metainfo

from rtmo_plugin.datasets.synthetic.figure import KEYPOINT_NAMES
from rtmo_plugin.evaluation import coco_ap
from rtmo_plugin.models.utils import pairwise_iou

#: COCO's per-keypoint OKS sigmas, from MMPose's COCO metainfo (the evaluation's, not the demo's training sigmas)
COCO_SIGMAS = parse_pose_metainfo(dict(from_file="configs/_base_/datasets/coco.py"))["sigmas"]
#: distance at which a keypoint's OKS term exp(-d^2 / (2 s^2 k^2)) is 0.5, in units of s = sqrt(area); k = 2 sigma
COCO_TOLERANCE = 2 * COCO_SIGMAS * np.sqrt(2 * np.log(2))


def box_iou_xywh(a: Sequence[float], b: Sequence[float]) -> float:
    """IoU of two COCO boxes given as (x, y, w, h) (the head's :func:`pairwise_iou` on their corners)."""
    corners = torch.tensor([[a[0], a[1], a[0] + a[2], a[1] + a[3]], [b[0], b[1], b[0] + b[2], b[1] + b[3]]],
                           dtype=torch.float64)
    return float(pairwise_iou(corners[:1], corners[1:], eps=1e-12)[0, 0])


def _nearest_truth(results: List[dict], annotations: List[dict]) -> List[Tuple[dict, dict, float]]:
    """(result, ground-truth annotation of its image with the highest box IoU, that IoU) per result with a truth."""
    by_image: Dict[int, List[dict]] = {}
    for ann in annotations:
        by_image.setdefault(ann["image_id"], []).append(ann)
    pairs = []
    for res in results:
        candidates = by_image.get(res["image_id"], [])
        if candidates:
            ious = [box_iou_xywh(res["bbox"], ann["bbox"]) for ann in candidates]
            best = int(np.argmax(ious))
            pairs.append((res, candidates[best], ious[best]))
    return pairs


def keypoint_error_report(ann_file: Path, results: List[dict], iou_thr: float = 0.5) -> Dict[str, object]:
    """Per-keypoint errors of the people found and the keypoint AP of perfect keypoints on the same detections.

    Args:
        ann_file: COCO keypoint annotation json (with ``area``) of the split the results are for.
        results: COCO result dicts (``image_id, bbox (xywh), keypoints (K*3), score``), e.g. from
            :func:`~rtmo_plugin.evaluation.to_coco_results`.
        iou_thr: box IoU at which a prediction counts as finding a person.

    Returns:
        dict: ``people`` (ground-truth people), ``found`` (people with a prediction at ``iou_thr``),
        ``oracle_kpt_AP``, and per keypoint name ``median_error`` (units of sqrt(area), labelled keypoints of the
        people found) and ``error_over_tolerance`` (that median over :data:`COCO_TOLERANCE`).
    """
    annotations = json.loads(Path(ann_file).read_text())["annotations"]
    pairs = _nearest_truth(results, annotations)
    oracle = []
    for res, ann, _ in pairs:
        truth = np.asarray(ann["keypoints"], dtype=np.float64).reshape(-1, 3).copy()
        truth[:, 2] = 1.0
        oracle.append(dict(res, keypoints=truth.reshape(-1).tolist()))
    best_per_person: Dict[int, Tuple[dict, dict]] = {}
    for res, ann, iou in sorted(pairs, key=lambda p: -p[0]["score"]):
        if iou >= iou_thr:
            best_per_person.setdefault(ann["id"], (res, ann))
    errors = [[] for _ in KEYPOINT_NAMES]
    for res, ann in best_per_person.values():
        truth = np.asarray(ann["keypoints"], dtype=np.float64).reshape(-1, 3)
        pred = np.asarray(res["keypoints"], dtype=np.float64).reshape(-1, 3)
        dist = np.linalg.norm(pred[:, :2] - truth[:, :2], axis=1) / np.sqrt(max(ann["area"], 1e-9))
        for k in np.flatnonzero(truth[:, 2] > 0):
            errors[k].append(dist[k])
    median = {name: float(np.median(e)) if e else float("nan") for name, e in zip(KEYPOINT_NAMES, errors)}
    return dict(people=len(annotations), found=len(best_per_person),
                oracle_kpt_AP=coco_ap(ann_file, oracle)["AP"] if oracle else 0.0,
                median_error=median,
                error_over_tolerance={name: median[name] / tol for name, tol in zip(KEYPOINT_NAMES, COCO_TOLERANCE)})
