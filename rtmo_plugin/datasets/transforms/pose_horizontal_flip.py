"""Keypoint-aware random flip of a bottom-up sample (left/right joints swap with the image)."""
from typing import Any, Dict, List, Optional, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmpose.registry import TRANSFORMS

# cv2.flip codes
_FLIP_CODES = {"horizontal": 1, "vertical": 0, "diagonal": -1}


@TRANSFORMS.register_module()
class PoseHorizontalFlip(BaseTransform):
    """Randomly mirror the image, boxes and keypoints; mirrored keypoints swap left/right by ``flip_indices``.

    Horizontal: ``x' = w - 1 - x`` for keypoints and box corners (xyxy boxes keep ``x1 <= x2``); keypoint ``k``
    of the result is keypoint ``flip_indices[k]`` of the input (coordinates and visibility). 'vertical' and
    'diagonal' are supported as in MMPose's ``RandomFlip``, whose arguments and random draw
    (one ``np.random.choice`` over the directions plus "no flip") this transform shares.

    Deliberate difference: the mirror width is the width of the image actually flipped; MMPose's ``RandomFlip``
    unpacks ``input_size`` (W, H) as (H, W), which only matters for non-square inputs.

    Required Keys:

    - img, img_shape, flip_indices (when keypoints are present)
    - bbox, bbox_center, keypoints, keypoints_visible, img_mask (optional)

    Modified Keys:

    - img, bbox, bbox_center, keypoints, keypoints_visible, img_mask (optional)

    Added Keys:

    - flip, flip_direction

    Args:
        prob (float | list[float]): flip probability, or one per direction. Defaults to 0.5.
        direction (str | list[str]): 'horizontal', 'vertical', 'diagonal' or a list. Defaults to 'horizontal'.
    """

    def __init__(self, prob: Union[float, List[float]] = 0.5,
                 direction: Union[str, List[str]] = "horizontal") -> None:
        directions = [direction] if isinstance(direction, str) else list(direction)
        bad = [d for d in directions if d not in _FLIP_CODES]
        if bad or not directions:
            raise ValueError(f"PoseHorizontalFlip: direction must be one or more of {sorted(_FLIP_CODES)}, got "
                             f"{direction!r}")
        if isinstance(prob, (list, tuple)):
            if len(prob) != len(directions) or not 0 <= sum(prob) <= 1 or min(prob) < 0:
                raise ValueError(f"PoseHorizontalFlip: prob list {prob} must have one probability per direction "
                                 f"({len(directions)}) summing to at most 1")
            probs = [float(p) for p in prob]
        else:
            if not 0 <= prob <= 1:
                raise ValueError(f"PoseHorizontalFlip: prob must lie in [0, 1], got {prob}")
            probs = [float(prob) / len(directions)] * len(directions)
        self.prob = prob
        self.direction = direction
        self._options: List[Optional[str]] = directions + [None]
        self._probs = probs + [1.0 - sum(probs)]

    def choose_direction(self) -> Optional[str]:
        """Draw the direction (None: no flip)."""
        return self._options[int(np.random.choice(len(self._options), p=self._probs))]

    def transform(self, results: Dict[str, Any]) -> Dict[str, Any]:
        """Flip the sample (or mark it unflipped).

        Args:
            results (dict): the sample.

        Returns:
            dict: the sample.
        """
        direction = self.choose_direction()
        results["flip"] = direction is not None
        results["flip_direction"] = direction
        if direction is None:
            return results
        code = _FLIP_CODES[direction]
        img = results["img"]
        first = img[0] if isinstance(img, list) else img
        h, w = first.shape[:2]
        results["img"] = [cv2.flip(i, code) for i in img] if isinstance(img, list) else cv2.flip(img, code)
        if results.get("img_mask") is not None:
            results["img_mask"] = cv2.flip(np.ascontiguousarray(results["img_mask"]), code)
        flip_x = direction in ("horizontal", "diagonal")
        flip_y = direction in ("vertical", "diagonal")

        if results.get("bbox") is not None:
            bbox = np.array(results["bbox"], dtype=np.float32, copy=True)
            if flip_x:
                bbox[..., 0::2] = (w - 1) - bbox[..., 2::-2]
            if flip_y:
                bbox[..., 1::2] = (h - 1) - bbox[..., 3::-2]
            results["bbox"] = bbox
        if results.get("bbox_center") is not None:
            center = np.array(results["bbox_center"], dtype=np.float32, copy=True)
            if flip_x:
                center[..., 0] = (w - 1) - center[..., 0]
            if flip_y:
                center[..., 1] = (h - 1) - center[..., 1]
            results["bbox_center"] = center
        if results.get("keypoints") is not None:
            kpts = np.asarray(results["keypoints"])
            vis = results.get("keypoints_visible")
            if direction != "diagonal":  # a diagonal flip swaps the sides twice
                order = self._flip_indices(results, kpts.shape[-2])
                kpts = kpts[..., order, :]
                vis = None if vis is None else np.asarray(vis)[:, order]
            else:
                kpts = kpts.copy()
                vis = None if vis is None else np.array(vis, copy=True)
            if flip_x:
                kpts[..., 0] = (w - 1) - kpts[..., 0]
            if flip_y:
                kpts[..., 1] = (h - 1) - kpts[..., 1]
            results["keypoints"] = kpts
            if vis is not None:
                results["keypoints_visible"] = vis
        return results

    @staticmethod
    def _flip_indices(results: Dict[str, Any], num_keypoints: int) -> np.ndarray:
        """``results['flip_indices']`` checked against the keypoint count."""
        if "flip_indices" not in results:
            raise KeyError("PoseHorizontalFlip: results['flip_indices'] is missing (set by MMPose datasets from "
                           "the dataset metainfo)")
        order = np.asarray(results["flip_indices"], dtype=np.int64)
        if order.shape != (num_keypoints,) or (order < 0).any() or (order >= num_keypoints).any():
            raise ValueError(f"PoseHorizontalFlip: flip_indices {order.tolist()} is not a permutation of "
                             f"{num_keypoints} keypoints")
        return order

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(prob={self.prob}, direction={self.direction!r})"
