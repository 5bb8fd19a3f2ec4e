"""Four-image mosaic for bottom-up pose training (YOLOX-Pose / RTMO stage 1)."""
from typing import Any, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.dataset import Compose
from mmpose.registry import TRANSFORMS

from .instance_ops import clip_boxes_, concat_instances, fetch_aux_samples, hide_outside_, scaled_instances

# Which corner of each of the four tiles touches the mosaic centre, as the tile's offset from the centre in units
# of the tile size: the current image goes top-left of the centre, the three drawn ones top-right, bottom-left,
# bottom-right.
_TILE_ANCHORS: Tuple[Tuple[int, int], ...] = ((-1, -1), (0, -1), (-1, 0), (0, 0))


@TRANSFORMS.register_module()
class PoseMosaic(BaseTransform):
    """Paste the current image and three random dataset images around a random centre of a 2W x 2H canvas.

    Each image is resized by ``min(H / h, W / w)`` (aspect kept) and placed with one corner on the centre
    ``(int(u_x * W), int(u_y * H))``, ``u ~ U(center_range)``; the parts falling off the canvas are cut. Boxes and
    keypoints move with their pixels, areas scale by the squared resize ratio; boxes are then clipped to the canvas
    and keypoints falling off it become invisible. Random draws (order and kind) are those of MMPose's ``Mosaic``:
    ``U(0, 1)`` for ``prob``, three ``randint(0, len(dataset))`` indices, ``U`` for the centre x then y.

    Required Keys:

    - img, dataset (the pipeline's dataset, set by MMPose datasets' ``prepare_data``)
    - keypoints, keypoints_visible; bbox, bbox_score, category_id, area (optional)

    Modified Keys:

    - img, img_shape
    - bbox, bbox_score, category_id, keypoints, keypoints_visible, area (concatenated over the four images)

    Args:
        img_scale (Sequence[int]): (W, H) of one tile; the canvas is (2W, 2H). Defaults to (640, 640).
        center_range (Sequence[float]): range of the centre as a fraction of (W, H). Defaults to (0.5, 1.5).
        pad_val (float): canvas fill value. Defaults to 114.
        pre_transform (Sequence[dict], optional): transforms loading each drawn image, e.g.
            ``[dict(type='LoadImage')]``.
        prob (float): probability of applying the mosaic. Defaults to 1.0.
    """

    num_aux_images = 3

    def __init__(self,
                 img_scale: Tuple[int, int] = (640, 640),
                 center_range: Tuple[float, float] = (0.5, 1.5),
                 pad_val: float = 114.0,
                 pre_transform: Optional[Sequence[dict]] = None,
                 prob: float = 1.0) -> None:
        if len(img_scale) != 2 or min(img_scale) <= 0:
            raise ValueError(f"PoseMosaic: img_scale must be two positive ints (W, H), got {img_scale}")
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f"PoseMosaic: prob must lie in [0, 1], got {prob}")
        self.img_scale = tuple(int(s) for s in img_scale)
        self.center_range = tuple(center_range)
        self.pad_val = pad_val
        self.prob = prob
        self.pre_transform = None if pre_transform is None else Compose(pre_transform)

    def transform(self, results: Dict[str, Any]) -> Dict[str, Any]:
        """Apply the mosaic with probability ``prob``.

        Args:
            results (dict): the sample.

        Returns:
            dict: the sample with the mosaic image (2H, 2W, 3) and the merged annotations.
        """
        if not np.random.uniform(0, 1) < self.prob:
            return results
        _, aux = fetch_aux_samples(results, self.num_aux_images, self.pre_transform, "PoseMosaic")
        tile_w, tile_h = self.img_scale
        canvas_w, canvas_h = 2 * tile_w, 2 * tile_h
        center_x = int(np.random.uniform(*self.center_range) * tile_w)
        center_y = int(np.random.uniform(*self.center_range) * tile_h)

        img0 = results["img"]
        # only the parts no tile covers are filled with pad_val (saves a full-canvas memset)
        canvas = np.empty((canvas_h, canvas_w, 3), dtype=img0.dtype)
        parts: List[Dict[str, np.ndarray]] = []
        for data, (ax, ay) in zip((results, *aux), _TILE_ANCHORS):
            img = data["img"]
            h, w = img.shape[:2]
            ratio = min(tile_h / h, tile_w / w)
            new_w, new_h = max(int(w * ratio), 1), max(int(h * ratio), 1)  # a 1-px-wide image stays 1 px
            if (new_w, new_h) != (w, h):
                img = cv2.resize(img, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
            # top-left corner of the tile on the canvas, then its visible part
            left, top = center_x + ax * new_w, center_y + ay * new_h
            x1, y1 = max(left, 0), max(top, 0)
            x2, y2 = min(left + new_w, canvas_w), min(top + new_h, canvas_h)
            if x2 > x1 and y2 > y1:
                canvas[y1:y2, x1:x2] = img[y1 - top:y2 - top, x1 - left:x2 - left]
            quadrant = (0 if ax else center_x, 0 if ay else center_y,
                        center_x if ax else canvas_w, center_y if ay else canvas_h)
            self._pad_around(canvas, quadrant, (x1, y1, max(x1, x2), max(y1, y2)))
            parts.append(scaled_instances(data, ratio, (left, top)))

        merged = concat_instances(parts)
        if "bbox" in merged:
            clip_boxes_(merged["bbox"], canvas_w, canvas_h)
        if "keypoints" in merged:
            hide_outside_(merged["keypoints"], merged["keypoints_visible"], canvas_w, canvas_h)
        results.update(merged)
        results["img"] = canvas
        results["img_shape"] = canvas.shape[:2]
        return results

    def _pad_around(self, canvas: np.ndarray, quadrant: Tuple[int, int, int, int],
                    pasted: Tuple[int, int, int, int]) -> None:
        """Fill ``quadrant`` (x1, y1, x2, y2) minus the ``pasted`` rectangle inside it with ``pad_val``."""
        qx1, qy1, qx2, qy2 = quadrant
        px1, py1, px2, py2 = pasted
        canvas[qy1:py1, qx1:qx2] = self.pad_val
        canvas[py2:qy2, qx1:qx2] = self.pad_val
        canvas[py1:py2, qx1:px1] = self.pad_val
        canvas[py1:py2, px2:qx2] = self.pad_val

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(img_scale={self.img_scale}, center_range={self.center_range}, "
                f"pad_val={self.pad_val}, prob={self.prob})")
