"""Test-time letterbox: aspect-kept resize into the model input, centred padding, with the inverse recorded."""
from typing import Any, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmpose.registry import TRANSFORMS

from .instance_ops import box_corners, enclosing_boxes, warp_points
from .pose_random_affine import centre_scale_matrix, udp_matrix


def _ceil_to(size: Sequence[float], base: int) -> Tuple[int, int]:
    """Round each side up to a multiple of ``base``."""
    return tuple(int(np.ceil(s / base) * base) for s in size)


@TRANSFORMS.register_module()
class PoseLetterboxResize(BaseTransform):
    """Resize the whole image into the model input keeping its aspect ratio; the image is centred, the rest padded.

    ``resize_mode='fit'``: the image fits inside ``input_size`` (which must be a multiple of ``size_factor``);
    ``'expand'``: its shorter side fills the input and the padded input grows to a multiple of ``size_factor``.
    The model input maps back to the image by ``p_img = p / input_size * input_scale + input_center -
    input_scale / 2`` with ``input_center = (w / 2, h / 2)`` and ``input_scale = (w, h) * padded / resized``
    (what :class:`BBoxFreeKeypointCodec.decode` and MMPose's ``BottomupPoseEstimator`` use). Same arguments and
    outputs as MMPose's ``BottomupResize`` (one ``cv2.warpAffine`` per scale).

    Required Keys:

    - img, ori_shape
    - keypoints, keypoints_visible, bbox (optional, only with ``transform_annotations``)

    Modified Keys:

    - img (a list of images when ``aug_scales`` is given), img_shape
    - keypoints, bbox (optional, only with ``transform_annotations``)

    Added Keys:

    - input_size, input_center, input_scale, warp_mat, aug_scale / aug_scales

    Args:
        input_size (Tuple[int, int]): model input (W, H).
        aug_scales (List[float], optional): extra scales for multi-scale testing. Defaults to None.
        size_factor (int): padded sides are multiples of this. Defaults to 32.
        resize_mode (str): 'fit' or 'expand'. Defaults to 'fit'.
        pad_val (tuple): padding colour. Defaults to (0, 0, 0).
        use_udp (bool): unbiased data processing warp (no padding offset). Defaults to False.
        transform_annotations (bool): also map keypoints and boxes into the main input (an addition; useful to
            build targets for validation losses or round-trip checks). Defaults to False.
    """

    def __init__(self,
                 input_size: Tuple[int, int],
                 aug_scales: Optional[List[float]] = None,
                 size_factor: int = 32,
                 resize_mode: str = "fit",
                 pad_val: tuple = (0, 0, 0),
                 use_udp: bool = False,
                 transform_annotations: bool = False) -> None:
        if resize_mode not in ("fit", "expand"):
            raise ValueError(f"PoseLetterboxResize: resize_mode must be 'fit' or 'expand', got {resize_mode!r}")
        if len(input_size) != 2 or min(input_size) <= 0:
            raise ValueError(f"PoseLetterboxResize: input_size must be two positive ints (W, H), got {input_size}")
        self.input_size = tuple(input_size)
        self.aug_scales = aug_scales
        self.size_factor = size_factor
        self.resize_mode = resize_mode
        self.pad_val = tuple(pad_val) if isinstance(pad_val, (tuple, list)) else (pad_val,) * 3
        self.use_udp = use_udp
        self.transform_annotations = transform_annotations

    def sizes(self, img_w: int, img_h: int, input_size: Tuple[int, int]
              ) -> Tuple[Tuple[float, float], Tuple[int, int]]:
        """(resized (w, h) -- possibly fractional, padded (W, H)) for an image of ``img_w x img_h``."""
        aspect = img_w / img_h
        if self.resize_mode == "fit":
            padded = _ceil_to(input_size, self.size_factor)
            if padded != tuple(input_size):
                raise ValueError(f"PoseLetterboxResize: with resize_mode='fit' the input size {input_size} must be "
                                 f"a multiple of size_factor={self.size_factor}")
            return (min(padded[0], padded[1] * aspect), min(padded[1], padded[0] / aspect)), padded
        base_w, base_h = _ceil_to(input_size, self.size_factor)
        resized = (max(base_w, base_h * aspect), max(base_h, base_w / aspect))
        return resized, _ceil_to(resized, self.size_factor)

    def transform(self, results: Dict[str, Any]) -> Dict[str, Any]:
        """Letterbox ``results['img']``.

        Args:
            results (dict): the sample.

        Returns:
            dict: the sample resized to the model input.
        """
        img = results["img"]
        img_h, img_w = results.get("ori_shape", img.shape[:2])[:2]
        w, h = self.input_size
        targets = [(w, h)] + [(int(w * s), int(h * s)) for s in (self.aug_scales or [])]
        images = []
        for i, size in enumerate(targets):
            resized, padded = self.sizes(img_w, img_h, size)
            if self.use_udp:
                center = np.array([(img_w - 1.0) / 2, (img_h - 1.0) / 2], dtype=np.float32)
                scale = np.array([img_w, img_h], dtype=np.float32)
                mat = udp_matrix(center, scale, 0.0, resized)
            else:
                center = np.array([img_w / 2, img_h / 2], dtype=np.float32)
                scale = np.array([img_w * padded[0] / resized[0], img_h * padded[1] / resized[1]], dtype=np.float32)
                mat = centre_scale_matrix(center, scale, 0.0, padded)
            images.append(cv2.warpAffine(img, np.asarray(mat, dtype=np.float64), padded, flags=cv2.INTER_LINEAR,
                                         borderValue=self.pad_val))
            if i == 0:
                results.update(img_shape=padded[::-1], input_center=center, input_scale=scale, input_size=padded,
                               warp_mat=mat)
                if self.transform_annotations:
                    self._map_annotations(results, mat)
        if self.aug_scales:
            results["img"] = images
            results["aug_scales"] = self.aug_scales
        else:
            results["img"] = images[0]
            results["aug_scale"] = None
        return results

    @staticmethod
    def _map_annotations(results: Dict[str, Any], mat: np.ndarray) -> None:
        """Warp keypoints and xyxy boxes into the input."""
        if results.get("keypoints") is not None:
            results["keypoints"] = warp_points(results["keypoints"], mat)
        if results.get("bbox") is not None:
            results["bbox"] = enclosing_boxes(warp_points(box_corners(np.asarray(results["bbox"])), mat))
        if results.get("area") is not None:
            area = np.asarray(results["area"])
            results["area"] = (area * abs(np.linalg.det(np.asarray(mat, np.float64)[:, :2]))).astype(area.dtype)

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(input_size={self.input_size}, aug_scales={self.aug_scales}, "
                f"size_factor={self.size_factor}, resize_mode={self.resize_mode!r}, pad_val={self.pad_val}, "
                f"use_udp={self.use_udp})")
