"""Blend the sample with a second, randomly scaled / flipped / cropped dataset image (YOLOX MixUp)."""
from typing import Any, Dict, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.dataset import Compose
from mmpose.registry import TRANSFORMS

from .instance_ops import clip_boxes_, concat_instances, fetch_aux_samples, hide_outside_, scaled_instances


@TRANSFORMS.register_module()
class PoseMixUp(BaseTransform):
    """Average the image with a random dataset image and merge both annotation sets.

    The auxiliary image is letterboxed into the top-left of a ``img_scale`` canvas (aspect kept, pad ``pad_val``),
    the canvas is resized by ``j ~ U(ratio_range)``, mirrored with probability ``1 - flip_ratio`` (the reference's
    draw ``U(0, 1) > flip_ratio``), and a window of the sample's size is cut at a random offset ``(dx, dy)`` of the
    canvas padded to at least that size. The result is ``floor((img + window) / 2)``. Auxiliary boxes / keypoints
    follow the same scale, mirror (left/right keypoints swapped by ``flip_indices``) and offset; they are clipped /
    hidden at the jittered canvas border and again at the output border. Nothing happens if the drawn image has no
    instance. Draws (kind and order) follow MMPose's ``YOLOXMixUp``.

    Deliberate difference: the canvas is resized in uint8 (rounded) where the reference resizes a float64 copy and
    truncates, so pixels may differ by 1 grey level; no float64 image is ever built here.

    Required Keys:

    - img, dataset, flip_indices (of the drawn sample)
    - keypoints, keypoints_visible; bbox, bbox_score, category_id, area (optional)

    Modified Keys:

    - img, img_shape
    - bbox, bbox_score, category_id, keypoints, keypoints_visible, area

    Args:
        img_scale (Tuple[int, int]): (W, H) of the canvas the auxiliary image is letterboxed into.
            Defaults to (640, 640).
        ratio_range (Tuple[float, float]): range of the random rescale. Defaults to (0.5, 1.5).
        flip_ratio (float): the auxiliary image is mirrored when ``U(0, 1) > flip_ratio``. Defaults to 0.5.
        pad_val (float): padding value. Defaults to 114.
        bbox_clip_border (bool): clip boxes to the canvases. Defaults to True.
        pre_transform (Sequence[dict], optional): transforms loading the drawn image, e.g. ``[LoadImage]``.
        prob (float): probability of applying the mixup. Defaults to 1.0.
    """

    def __init__(self,
                 img_scale: Tuple[int, int] = (640, 640),
                 ratio_range: Tuple[float, float] = (0.5, 1.5),
                 flip_ratio: float = 0.5,
                 pad_val: float = 114.0,
                 bbox_clip_border: bool = True,
                 pre_transform: Optional[Sequence[dict]] = None,
                 prob: float = 1.0) -> None:
        if len(img_scale) != 2 or min(img_scale) <= 0:
            raise ValueError(f"PoseMixUp: img_scale must be two positive ints (W, H), got {img_scale}")
        if not 0 < ratio_range[0] <= ratio_range[1]:
            raise ValueError(f"PoseMixUp: ratio_range must be (low, high) with 0 < low <= high, got {ratio_range}")
        self.img_scale = tuple(int(s) for s in img_scale)
        self.ratio_range = tuple(ratio_range)
        self.flip_ratio = flip_ratio
        self.pad_val = pad_val
        self.bbox_clip_border = bbox_clip_border
        self.prob = prob
        self.pre_transform = None if pre_transform is None else Compose(pre_transform)

    def transform(self, results: Dict[str, Any]) -> Dict[str, Any]:
        """Apply the mixup with probability ``prob``.

        Args:
            results (dict): the sample.

        Returns:
            dict: the blended sample.
        """
        if not np.random.uniform(0, 1) < self.prob:
            return results
        _, (aux,) = fetch_aux_samples(results, 1, self.pre_transform, "PoseMixUp")
        if len(aux["keypoints"]) == 0:
            return results

        canvas_w, canvas_h = self.img_scale
        aux_img = aux["img"]
        ratio = min(canvas_h / aux_img.shape[0], canvas_w / aux_img.shape[1])
        small_w, small_h = max(int(aux_img.shape[1] * ratio), 1), max(int(aux_img.shape[0] * ratio), 1)
        if (small_w, small_h) != aux_img.shape[1::-1]:
            aux_img = cv2.resize(aux_img, (small_w, small_h), interpolation=cv2.INTER_LINEAR)
        canvas = np.full((canvas_h, canvas_w, 3), self.pad_val, dtype=np.uint8)
        canvas[:small_h, :small_w] = aux_img

        jitter = np.random.uniform(*self.ratio_range)
        ratio *= jitter
        canvas = cv2.resize(canvas, (max(int(canvas_w * jitter), 1), max(int(canvas_h * jitter), 1)),
                            interpolation=cv2.INTER_LINEAR)
        flipped = np.random.uniform(0, 1) > self.flip_ratio
        if flipped:
            canvas = cv2.flip(canvas, 1)

        img = results["img"]
        h, w = img.shape[:2]
        jit_h, jit_w = canvas.shape[:2]
        dy = np.random.randint(0, max(0, jit_h - h) + 1)
        dx = np.random.randint(0, max(0, jit_w - w) + 1)
        window = np.full((h, w, 3), self.pad_val, dtype=np.uint8)
        y2, x2 = min(dy + h, jit_h), min(dx + w, jit_w)
        window[:y2 - dy, :x2 - dx] = canvas[dy:y2, dx:x2]
        mixed = np.add(img, window, dtype=np.uint16)
        mixed >>= 1

        extra = scaled_instances(aux, ratio)
        if "bbox" in extra and self.bbox_clip_border:
            clip_boxes_(extra["bbox"], jit_w, jit_h)
        hide_outside_(extra["keypoints"], extra["keypoints_visible"], jit_w, jit_h)
        if flipped:
            self._mirror(extra, aux, jit_w)
        if "bbox" in extra:
            extra["bbox"][:, 0::2] -= dx
            extra["bbox"][:, 1::2] -= dy
        extra["keypoints"][..., 0] -= dx
        extra["keypoints"][..., 1] -= dy

        merged = concat_instances([results, extra])
        if "bbox" in merged and self.bbox_clip_border:
            clip_boxes_(merged["bbox"], w, h)
        hide_outside_(merged["keypoints"], merged["keypoints_visible"], w, h)
        results.update(merged)
        results["img"] = mixed.astype(np.uint8)
        results["img_shape"] = (h, w)
        return results

    @staticmethod
    def _mirror(extra: Dict[str, np.ndarray], aux: Dict[str, Any], width: int) -> None:
        """Mirror the auxiliary instances horizontally in a canvas of ``width`` (in place on ``extra``)."""
        if "flip_indices" not in aux:
            raise KeyError("PoseMixUp: the drawn sample has no 'flip_indices' (dataset metainfo) to mirror it")
        if "bbox" in extra:
            bbox = extra["bbox"]
            bbox[:, 0::2] = (width - 1) - bbox[:, 2::-2]
        order = np.asarray(aux["flip_indices"], dtype=np.int64)
        kpts = extra["keypoints"][:, order]
        kpts[..., 0] = (width - 1) - kpts[..., 0]
        extra["keypoints"] = kpts
        extra["keypoints_visible"] = extra["keypoints_visible"][:, order]

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(img_scale={self.img_scale}, ratio_range={self.ratio_range}, "
                f"flip_ratio={self.flip_ratio}, pad_val={self.pad_val}, prob={self.prob})")
