"""Drop instances too small or with too few visible keypoints to be trained on."""
from typing import Any, Dict, Optional, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmpose.registry import TRANSFORMS

from .instance_ops import take_instances, visibility_flags


@TRANSFORMS.register_module()
class PoseInstanceFilter(BaseTransform):
    """Keep the instances whose box is larger than ``min_gt_bbox_wh`` (strictly, per side), whose area is at least
    ``min_gt_area`` and which have at least ``min_kpt_vis`` visible keypoints (each test only when enabled).

    What happens when no instance survives follows MMPose's ``FilterAnnotations`` (same arguments):
    ``keep_empty=True`` drops the sample (returns None, the dataset then draws another index);
    ``keep_empty=False`` keeps the image with zero instances, a pure negative sample (the RTMO configs' choice).
    A sample that has no instance to begin with is returned unchanged.

    Required Keys:

    - keypoints, keypoints_visible (when ``by_kpt``)
    - bbox (when ``by_box``), area (when ``by_area``)

    Modified Keys:

    - bbox, bbox_score, category_id, keypoints, keypoints_visible, area (optional)

    Args:
        min_gt_bbox_wh (Tuple[float, float]): box width and height must exceed these. Defaults to (1, 1).
        min_gt_area (float): minimum area. Defaults to 1.
        min_kpt_vis (int): minimum number of visible keypoints. Defaults to 1.
        by_box (bool): test the box size. Defaults to False.
        by_area (bool): test the area. Defaults to False.
        by_kpt (bool): test the visible keypoint count. Defaults to True.
        keep_empty (bool): see above. Defaults to True.
    """

    def __init__(self,
                 min_gt_bbox_wh: Tuple[float, float] = (1, 1),
                 min_gt_area: float = 1,
                 min_kpt_vis: int = 1,
                 by_box: bool = False,
                 by_area: bool = False,
                 by_kpt: bool = True,
                 keep_empty: bool = True) -> None:
        if not (by_box or by_area or by_kpt):
            raise ValueError("PoseInstanceFilter: enable at least one of by_box, by_area, by_kpt")
        self.min_gt_bbox_wh = tuple(min_gt_bbox_wh)
        self.min_gt_area = min_gt_area
        self.min_kpt_vis = min_kpt_vis
        self.by_box, self.by_area, self.by_kpt = by_box, by_area, by_kpt
        self.keep_empty = keep_empty

    def keep_mask(self, results: Dict[str, Any]) -> np.ndarray:
        """(N,) boolean mask of the instances that pass every enabled test."""
        num = len(results["keypoints"])
        keep = np.ones(num, dtype=bool)
        if self.by_box and results.get("bbox") is not None:
            bbox = np.asarray(results["bbox"])
            keep &= (bbox[:, 2] - bbox[:, 0] > self.min_gt_bbox_wh[0]) & \
                (bbox[:, 3] - bbox[:, 1] > self.min_gt_bbox_wh[1])
        if self.by_area and results.get("area") is not None:
            keep &= np.asarray(results["area"]) >= self.min_gt_area
        if self.by_kpt:
            vis = visibility_flags(np.asarray(results["keypoints_visible"]))
            keep &= vis.sum(axis=1) >= self.min_kpt_vis
        return keep

    def transform(self, results: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """Filter the instances.

        Args:
            results (dict): the sample.

        Returns:
            dict | None: the filtered sample, or None when it must be dropped.
        """
        if results.get("keypoints") is None:
            raise KeyError("PoseInstanceFilter: results['keypoints'] is missing")
        if len(results["keypoints"]) == 0:
            return results
        keep = self.keep_mask(results)
        if self.keep_empty and not keep.any():
            return None
        take_instances(results, keep)
        return results

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(min_gt_bbox_wh={self.min_gt_bbox_wh}, min_gt_area={self.min_gt_area}, "
                f"min_kpt_vis={self.min_kpt_vis}, by_box={self.by_box}, by_area={self.by_area}, "
                f"by_kpt={self.by_kpt}, keep_empty={self.keep_empty})")
