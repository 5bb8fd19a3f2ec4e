"""COCO keypoint metric with RMPE parametric pose NMS (and box NMS) as metric-time options."""
from typing import Dict, Optional

import numpy as np
import torch
from mmpose.evaluation.metrics import CocoMetric
from mmpose.registry import METRICS, TASK_UTILS
from torchvision.ops import nms as box_iou_nms

#: NMS modes handled by CocoMetric itself
_COCO_NMS_MODES = ('oks_nms', 'soft_oks_nms', 'none')
#: NMS modes added here
_EXTRA_NMS_MODES = ('pose_nms', 'box_nms')


@METRICS.register_module()
class PoseNMSCocoMetric(CocoMetric):
    """:class:`mmpose.evaluation.CocoMetric` whose ``nms_mode`` also accepts ``'pose_nms'``.

    Works for any MMPose model (top-down or bottom-up) because it acts on the collected
    per-image instances, after scoring with ``score_mode``:

    - ``'pose_nms'``: RMPE parametric pose NMS (:class:`ParametricPoseNMS`, built from
      ``pose_nms_cfg``); kept poses are replaced by their merged keypoints / keypoint scores.
      The instance score of a kept pose is the one computed by ``score_mode``.
    - ``'box_nms'``: IoU NMS on the instance boxes (``pred_instances.bboxes``; the keypoint
      extent when absent) with IoU threshold ``nms_thr``.
    - ``'oks_nms'``, ``'soft_oks_nms'``, ``'none'``: as in CocoMetric.

    Args:
        nms_mode (str): one of ``'oks_nms'``, ``'soft_oks_nms'``, ``'none'``, ``'pose_nms'``,
            ``'box_nms'``. Defaults to ``'pose_nms'``.
        pose_nms_cfg (dict, optional): config of the pose NMS (TASK_UTILS); defaults to
            ``dict(type='ParametricPoseNMS')`` (COCO constants, box normalisation).
        nms_thr (float): OKS threshold (oks modes) or IoU threshold (``'box_nms'``).
        dump_bbox (bool): write the instance boxes into the results json, as CocoMetric does.
            COCO's ``loadRes`` then takes a result's area from its box instead of its keypoint
            extent, which changes the area-range APs (M/L); False keeps the boxes for NMS only.
        **kwargs: every other CocoMetric argument.
    """

    def __init__(self,
                 nms_mode: str = 'pose_nms',
                 pose_nms_cfg: Optional[dict] = None,
                 nms_thr: float = 0.9,
                 dump_bbox: bool = True,
                 **kwargs) -> None:
        if nms_mode not in _COCO_NMS_MODES + _EXTRA_NMS_MODES:
            raise ValueError(f'PoseNMSCocoMetric: nms_mode must be one of '
                             f'{_COCO_NMS_MODES + _EXTRA_NMS_MODES}, got {nms_mode!r}')
        parent_mode = nms_mode if nms_mode in _COCO_NMS_MODES else 'none'
        super().__init__(nms_mode=parent_mode, nms_thr=nms_thr, **kwargs)
        # CocoMetric reads ``self.nms_mode``; the extra modes run in ``results2json``
        self.extra_nms_mode = nms_mode if nms_mode in _EXTRA_NMS_MODES else None
        self.dump_bbox = bool(dump_bbox)
        self.pose_nms = None
        if nms_mode == 'pose_nms':
            cfg = dict(type='ParametricPoseNMS') if pose_nms_cfg is None else dict(pose_nms_cfg)
            self.pose_nms = TASK_UTILS.build(cfg)

    def results2json(self, keypoints: Dict[int, list], outfile_prefix: str) -> str:
        """Apply the extra NMS per image, then dump like CocoMetric.

        Args:
            keypoints (Dict[int, list]): image id -> instances, each a dict with
                ``'keypoints'`` ``(K, 3)`` (x, y, score), ``'score'`` and optionally
                ``'bbox'`` ``(4,)`` in xywh.
            outfile_prefix (str): prefix of the json file.

        Returns:
            str: what CocoMetric.results2json returns.
        """
        if self.extra_nms_mode is not None:
            keypoints = {img_id: self._nms_one_image(img_id, insts)
                         for img_id, insts in keypoints.items()}
        if not self.dump_bbox:
            keypoints = {img_id: [{k: v for k, v in inst.items() if k != 'bbox'} for inst in insts]
                         for img_id, insts in keypoints.items()}
        #: number of instances written by the last evaluation (after all NMS)
        self.num_results = sum(len(insts) for insts in keypoints.values())
        return super().results2json(keypoints, outfile_prefix)

    def _nms_one_image(self, img_id: int, instances: list) -> list:
        """Run the selected extra NMS on the instances of one image."""
        if not instances:
            return instances
        kpts = np.stack([np.asarray(inst['keypoints'], dtype=np.float32)
                         for inst in instances])  # (N, K, 3)
        scores = np.array([float(inst['score']) for inst in instances], dtype=np.float32)
        boxes = np.stack([self._box_xyxy(inst, k) for inst, k in zip(instances, kpts)])
        if self.extra_nms_mode == 'box_nms':
            keep = box_iou_nms(torch.from_numpy(boxes), torch.from_numpy(scores),
                               self.nms_thr).tolist()
            return [instances[i] for i in keep]
        try:
            result = self.pose_nms(kpts[..., :2], kpts[..., 2], boxes, scores)
        except ValueError as err:
            raise ValueError(f'PoseNMSCocoMetric: image {img_id}: {err}') from err
        kept = []
        for j, i in enumerate(result.keep.tolist()):
            inst = dict(instances[i])
            inst['keypoints'] = np.concatenate(
                [result.keypoints[j].cpu().numpy(),
                 result.keypoint_scores[j].cpu().numpy()[:, None]], axis=-1)
            kept.append(inst)
        return kept

    @staticmethod
    def _box_xyxy(instance: dict, kpts: np.ndarray) -> np.ndarray:
        """Instance box as ``(4,)`` xyxy: its xywh ``'bbox'`` or the keypoint extent."""
        if 'bbox' in instance:
            x, y, w, h = np.asarray(instance['bbox'], dtype=np.float32).reshape(-1)[:4]
            return np.array([x, y, x + w, y + h], dtype=np.float32)
        xy = kpts[:, :2]
        return np.concatenate([xy.min(axis=0), xy.max(axis=0)]).astype(np.float32)
