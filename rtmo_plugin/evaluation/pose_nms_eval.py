"""Evaluate a COCO keypoint results file under different NMS modes (box, OKS, pose NMS)."""
import json
from collections import OrderedDict
from pathlib import Path
from typing import Dict, List, Optional, Union

import numpy as np
from mmengine.logging import MMLogger
from mmpose.datasets.datasets.utils import parse_pose_metainfo

from .pose_nms_coco_metric import PoseNMSCocoMetric

#: pixel size of one unit of the MMPose-0.x ``scale`` field stored in top-down results
_PIXEL_STD = 200.0


def load_coco_results(pred_file: Union[str, Path], num_keypoints: int = 17) -> List[dict]:
    """Load and validate a COCO keypoint results json.

    Args:
        pred_file (str | Path): list of dicts with ``image_id``, ``keypoints`` (3·K floats) and
            ``score``; optional ``bbox`` (xywh) or ``center``/``scale`` (MMPose 0.x, scale in
            units of 200 px).
        num_keypoints (int): K.

    Returns:
        list[dict]: the validated entries.
    """
    with open(pred_file) as f:
        preds = json.load(f)
    if not isinstance(preds, list):
        raise ValueError(f'{pred_file}: expected a json list of COCO results, got '
                         f'{type(preds).__name__}')
    for i, p in enumerate(preds):
        for key in ('image_id', 'keypoints', 'score'):
            if key not in p:
                raise ValueError(f'{pred_file}: entry {i} has no field {key!r}')
        if len(p['keypoints']) != 3 * num_keypoints:
            raise ValueError(f'{pred_file}: entry {i} field "keypoints" has '
                             f'{len(p["keypoints"])} values, expected {3 * num_keypoints}')
    return preds


def _pred_box_xyxy(pred: dict, kpts: np.ndarray) -> np.ndarray:
    """Box of a result entry: ``bbox`` (xywh), else ``center``/``scale``, else keypoint extent."""
    if 'bbox' in pred:
        x, y, w, h = [float(v) for v in pred['bbox'][:4]]
        return np.array([x, y, x + w, y + h], dtype=np.float32)
    if 'center' in pred and 'scale' in pred:
        c = np.asarray(pred['center'], dtype=np.float32)
        half = np.asarray(pred['scale'], dtype=np.float32) * _PIXEL_STD / 2
        return np.concatenate([c - half, c + half])
    return np.concatenate([kpts.min(axis=0), kpts.max(axis=0)]).astype(np.float32)


def evaluate_coco_results(pred_file: Union[str, Path],
                          ann_file: Union[str, Path],
                          nms_mode: str,
                          nms_thr: float = 0.9,
                          pose_nms_cfg: Optional[dict] = None,
                          metainfo: str = 'configs/_base_/datasets/coco.py') -> Dict[str, float]:
    """COCO keypoint AP of a results file after the chosen NMS.

    Each entry is fed to :class:`PoseNMSCocoMetric` as one top-down sample with
    ``score_mode='bbox'`` (the file's ``score`` ranks the instances) and its area from the
    ``scale`` field when present (as MMPose 0.x did; used by OKS-NMS). The boxes serve the NMS
    only and are not written to the evaluated json, so ``'none'`` reproduces the plain COCO
    evaluation of the file.

    Args:
        pred_file (str | Path): COCO keypoint results json.
        ann_file (str | Path): COCO keypoint annotation json.
        nms_mode (str): ``'none'``, ``'box_nms'``, ``'oks_nms'``, ``'soft_oks_nms'`` or
            ``'pose_nms'``.
        nms_thr (float): IoU threshold (box NMS) or OKS threshold (OKS NMS).
        pose_nms_cfg (dict, optional): ParametricPoseNMS config for ``'pose_nms'``.
        metainfo (str): MMPose dataset meta file (keypoint count, sigmas).

    Returns:
        dict[str, float]: ``'AP'``, ``'AP .5'``, ... as CocoMetric names them, and
        ``'num_results'``, the number of instances left after the NMS.
    """
    meta = parse_pose_metainfo(dict(from_file=metainfo))
    num_k = meta['num_keypoints']
    preds = load_coco_results(pred_file, num_k)
    metric = PoseNMSCocoMetric(ann_file=str(ann_file), score_mode='bbox', nms_mode=nms_mode,
                               nms_thr=nms_thr, pose_nms_cfg=pose_nms_cfg, dump_bbox=False)
    metric.dataset_meta = meta
    samples = []
    for idx, p in enumerate(preds):
        kpts = np.asarray(p['keypoints'], dtype=np.float32).reshape(num_k, 3)
        gt_instances = {}
        if 'scale' in p:
            gt_instances['bbox_scales'] = np.asarray(p['scale'], np.float32)[None] * _PIXEL_STD
        samples.append(dict(
            id=idx, img_id=int(p['image_id']), category_id=int(p.get('category_id', 1)),
            pred_instances=dict(keypoints=kpts[None, :, :2], keypoint_scores=kpts[None, :, 2],
                                bboxes=_pred_box_xyxy(p, kpts[:, :2])[None],
                                bbox_scores=np.array([float(p['score'])], np.float32)),
            gt_instances=gt_instances))
    metric.process([], samples)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel('WARNING')  # CocoMetric logs its progress at INFO
    try:
        stats = metric.compute_metrics(metric.results)
    finally:
        logger.setLevel(level)
    out = OrderedDict((k, float(v)) for k, v in stats.items())
    out['num_results'] = float(metric.num_results)
    return out
