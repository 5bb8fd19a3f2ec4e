"""Random shift / scale / rotation / shear of a whole bottom-up sample (YOLOX-Pose / RTMO)."""
import math
from typing import Any, Dict, Optional, Tuple, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmpose.registry import TRANSFORMS
from scipy.stats import truncnorm

from .instance_ops import box_corners, clip_boxes_, enclosing_boxes, hide_outside_, is_affine, warp_points

_MODES = ("affine", "affine_udp", "perspective")


def _rotation(deg: float) -> np.ndarray:
    """2x2 rotation by ``deg`` degrees (counter-clockwise in x-right / y-up axes)."""
    rad = math.radians(deg)
    return np.array([[math.cos(rad), -math.sin(rad)], [math.sin(rad), math.cos(rad)]])


def centre_scale_matrix(center: np.ndarray, scale: np.ndarray, rot: float, output_size: Tuple[int, int]
                        ) -> np.ndarray:
    """2x3 similarity taking the region of width ``scale[0]`` centred at ``center`` to the whole output.

    p -> c_out + s R(-rot) (p - center), s = out_w / scale[0], c_out = (out_w / 2, out_h / 2). The aspect ratio is
    kept (``scale[1]`` is not used), as in MMPose's ``get_warp_matrix``.
    """
    out_w, out_h = output_size
    lin = (out_w / float(scale[0])) * _rotation(-rot)
    shift = np.array([out_w * 0.5, out_h * 0.5]) - lin @ np.asarray(center, dtype=np.float64)
    return np.concatenate([lin, shift[:, None]], axis=1)


def udp_matrix(center: np.ndarray, scale: np.ndarray, rot: float, output_size: Tuple[int, int]) -> np.ndarray:
    """2x3 warp under the unbiased-data-processing convention (UDP, Huang et al. CVPR 2020).

    The input extent ``2 * center`` in pixel units maps onto ``output_size - 1`` with per-axis scales
    ``(out - 1) / scale``, rotating by ``rot`` degrees about the centre.
    """
    sx = (output_size[0] - 1) / float(scale[0])
    sy = (output_size[1] - 1) / float(scale[1])
    rot_m = _rotation(rot)
    lin = np.diag([sx, sy]) @ rot_m
    src_c = np.asarray(center, dtype=np.float64)
    shift = np.array([sx * 0.5 * scale[0], sy * 0.5 * scale[1]]) - lin @ src_c
    return np.concatenate([lin, shift[:, None]], axis=1).astype(np.float32)


def perspective_matrix(center: np.ndarray, translate: np.ndarray, scale: float, rot: float,
                       shear: np.ndarray) -> np.ndarray:
    """3x3 matrix T(center + translate) . Shear . R(rot) . S(scale) . T(-center) (float32 like the reference)."""
    to_origin = np.array([[1, 0, -center[0]], [0, 1, -center[1]], [0, 0, 1]], dtype=np.float64)
    scaling = np.diag([scale, scale, 1.0])
    rotation = np.eye(3)
    rotation[:2, :2] = _rotation(rot)
    shearing = np.array([[1, math.tan(math.radians(shear[0])), 0],
                         [math.tan(math.radians(shear[1])), 1, 0], [0, 0, 1]], dtype=np.float64)
    back = np.array([[1, 0, center[0] + translate[0]], [0, 1, center[1] + translate[1]], [0, 0, 1]], dtype=np.float64)
    return (back @ shearing @ rotation @ scaling @ to_origin).astype(np.float32)


@TRANSFORMS.register_module()
class PoseRandomAffine(BaseTransform):
    r"""Warp the image and all its annotations with one random affine / perspective matrix to ``input_size``.

    ``transform_mode='perspective'`` (stage 1): :math:`M = T(c + t) \cdot Sh \cdot R \cdot S \cdot T(-c)` with
    ``c`` the centre of the *output*, ``t = u \cdot shift\_factor \cdot (W, H)``, ``S`` the scale drawn in
    ``scale_factor``, ``R`` a rotation by ``u \cdot rotate\_factor`` degrees, ``Sh`` shears of
    ``u \cdot shear\_factor`` degrees per axis. ``'affine'`` / ``'affine_udp'`` (stage 2): the image region of size
    ``scale_rate * (w, h)`` (fixed to the output aspect by ``scale_type``) centred at the image centre plus
    ``offset_rate * (w, h)`` is mapped onto the output; with all probabilities 0 and ``scale_type='long'`` this is a
    centred letterbox. ``u`` are draws of ``distribution`` on [-1, 1] taken in the same order and the same way as
    MMPose's ``BottomupRandomAffine`` (so equal seeds give equal matrices).

    Boxes: the four corners are warped and (``bbox_keep_corner=False``) replaced by their enclosing box;
    keypoints are warped; with ``clip_border`` boxes are clipped to the output and keypoints leaving it become
    invisible; areas scale by ``det(M)``. One ``cv2.warpAffine`` (or ``warpPerspective`` for a truly projective
    matrix) per image; keypoints and boxes are warped in one vectorised matrix product.

    Required Keys:

    - img, img_shape
    - keypoints, keypoints_visible, bbox, area (optional)

    Modified Keys:

    - img, img_shape (set to the output (H, W); the reference leaves the pre-warp shape)
    - keypoints, keypoints_visible, bbox, area (optional)

    Added Keys:

    - input_size, warp_mat ((2, 3) for the affine modes, (3, 3) for 'perspective')

    Args:
        input_size (Tuple[int, int]): output (W, H).
        shift_factor (float): max shift as a fraction of the size. Defaults to 0.2.
        shift_prob (float): probability of shifting. Defaults to 1.0.
        scale_factor (Tuple[float, float]): scale range. Defaults to (0.75, 1.5).
        scale_prob (float): probability of scaling. Defaults to 1.0.
        scale_type (str): 'short' or 'long' side fitted to the output (affine modes). Defaults to 'short'.
        rotate_factor (float): max rotation in degrees. Defaults to 30.
        rotate_prob (float): probability of rotating. Defaults to 1.0.
        shear_factor (float): max shear in degrees ('perspective' only). Defaults to 2.0.
        shear_prob (float): probability of shearing. Defaults to 1.0.
        use_udp (bool): accepted for config compatibility; UDP is selected by ``transform_mode='affine_udp'``.
        pad_val (float | Tuple[float]): fill value. Defaults to 0.
        border (Tuple[int, int]): accepted for config compatibility (unused, as in the reference).
        distribution (str): 'trunc_norm' (standard normal truncated to [-1, 1]) or 'uniform'.
        transform_mode (str): 'affine', 'affine_udp' or 'perspective'. Defaults to 'affine'.
        bbox_keep_corner (bool): keep the four warped corners (N, 4, 2) instead of xyxy boxes. Defaults to True.
        clip_border (bool): clip boxes and hide keypoints outside the output. Defaults to False.
    """

    def __init__(self,
                 input_size: Optional[Tuple[int, int]] = None,
                 shift_factor: float = 0.2,
                 shift_prob: float = 1.0,
                 scale_factor: Tuple[float, float] = (0.75, 1.5),
                 scale_prob: float = 1.0,
                 scale_type: str = "short",
                 rotate_factor: float = 30.0,
                 rotate_prob: float = 1.0,
                 shear_factor: float = 2.0,
                 shear_prob: float = 1.0,
                 use_udp: bool = False,
                 pad_val: Union[float, Tuple[float, ...]] = 0,
                 border: Tuple[int, int] = (0, 0),
                 distribution: str = "trunc_norm",
                 transform_mode: str = "affine",
                 bbox_keep_corner: bool = True,
                 clip_border: bool = False) -> None:
        if input_size is None or len(input_size) != 2 or min(input_size) <= 0:
            raise ValueError(f"PoseRandomAffine: input_size must be two positive ints (W, H), got {input_size}")
        if transform_mode not in _MODES:
            raise ValueError(f"PoseRandomAffine: transform_mode must be one of {_MODES}, got {transform_mode!r}")
        if distribution not in ("trunc_norm", "uniform"):
            raise ValueError(f"PoseRandomAffine: distribution must be 'trunc_norm' or 'uniform', got {distribution!r}")
        if scale_type not in ("short", "long"):
            raise ValueError(f"PoseRandomAffine: scale_type must be 'short' or 'long', got {scale_type!r}")
        self.input_size = tuple(input_size)
        self.shift_factor, self.shift_prob = shift_factor, shift_prob
        self.scale_factor, self.scale_prob, self.scale_type = tuple(scale_factor), scale_prob, scale_type
        self.rotate_factor, self.rotate_prob = rotate_factor, rotate_prob
        self.shear_factor, self.shear_prob = shear_factor, shear_prob
        self.use_udp, self.border = use_udp, border
        self.pad_val = tuple(pad_val) if isinstance(pad_val, (tuple, list)) else (pad_val,) * 3
        self.distribution = distribution
        self.transform_mode = transform_mode
        self.bbox_keep_corner = bbox_keep_corner
        self.clip_border = clip_border

    def _draw(self, size: Tuple[int, ...] = ()) -> Union[np.ndarray, float]:
        """Draws on [-1, 1] from ``distribution`` (uniform: ``2 * rand - 1``)."""
        if self.distribution == "trunc_norm":
            return truncnorm.rvs(-1.0, 1.0, size=size).astype(np.float32)
        return np.random.rand(*size) * 2.0 - 1.0

    def _draw_params(self) -> Tuple[np.ndarray, float, float, np.ndarray]:
        """Offset rate (2,), scale rate, rotation (deg), shear (2,) (deg); each gated by its probability."""
        offset = self._draw((2,)) * self.shift_factor if np.random.rand() < self.shift_prob else np.zeros(2)
        if np.random.rand() < self.scale_prob:
            lo, hi = self.scale_factor
            scale = float((lo + (hi - lo) * (self._draw((1,)) + 1) / 2)[0])
        else:
            scale = 1.0
        rotate = float(self._draw() * self.rotate_factor) if np.random.rand() < self.rotate_prob else 0.0
        if self.transform_mode == "perspective" and np.random.rand() < self.shear_prob:
            shear = self._draw((2,)) * self.shear_factor
        else:
            shear = np.zeros(2)
        return np.asarray(offset, dtype=np.float64), scale, rotate, np.asarray(shear, dtype=np.float64)

    def _fit_aspect(self, scale_wh: np.ndarray) -> np.ndarray:
        """Grow ('long') or shrink ('short') one side of the source region to the output aspect ratio."""
        out_w, out_h = self.input_size
        aspect = out_w / out_h
        w, h = scale_wh
        wider = w > h * aspect
        if wider == (self.scale_type == "long"):
            return np.array([w, w / aspect])
        return np.array([h * aspect, h])

    def warp_matrix(self, img_w: int, img_h: int) -> np.ndarray:
        """Draw the random parameters and build the warp for an ``img_w x img_h`` input."""
        out_w, out_h = self.input_size
        offset_rate, scale_rate, rotate, shear = self._draw_params()
        if self.transform_mode == "perspective":
            center = np.array([out_w / 2, out_h / 2])
            return perspective_matrix(center, offset_rate * (out_w, out_h), scale_rate, rotate, shear)
        offset = offset_rate * (img_w, img_h)
        scale = self._fit_aspect(np.array([img_w, img_h], dtype=np.float64) * scale_rate)
        if self.transform_mode == "affine_udp":
            center = np.array([(img_w - 1.0) / 2, (img_h - 1.0) / 2])
            return udp_matrix(center + offset, scale, rotate, (out_w, out_h))
        center = np.array([img_w / 2, img_h / 2])
        return centre_scale_matrix(center + offset, scale, rotate, (out_w, out_h))

    def transform(self, results: Dict[str, Any]) -> Dict[str, Any]:
        """Warp image, keypoints, boxes and areas.

        Args:
            results (dict): the sample.

        Returns:
            dict: the warped sample of size ``input_size``.
        """
        img_h, img_w = results["img_shape"][:2]
        out_w, out_h = (int(s) for s in self.input_size)
        mat = self.warp_matrix(img_w, img_h)

        img = results["img"]
        if is_affine(mat):
            results["img"] = cv2.warpAffine(img, np.ascontiguousarray(mat[:2], dtype=np.float64), (out_w, out_h),
                                            flags=cv2.INTER_LINEAR, borderValue=self.pad_val)
        else:  # pragma: no cover - the drawn matrices are always affine; kept for user-given projective ones
            results["img"] = cv2.warpPerspective(img, mat, (out_w, out_h), borderValue=self.pad_val)
        results["img_shape"] = (out_h, out_w)

        if results.get("keypoints") is not None:
            results["keypoints"] = warp_points(results["keypoints"], mat)
            if self.clip_border:
                results["keypoints_visible"] = np.array(results["keypoints_visible"], copy=True)
                hide_outside_(results["keypoints"], results["keypoints_visible"], out_w, out_h)

        if results.get("bbox") is not None:
            corners = warp_points(box_corners(np.asarray(results["bbox"])), mat)
            bbox = corners if self.bbox_keep_corner else enclosing_boxes(corners)
            if self.clip_border:
                clip_boxes_(bbox, out_w, out_h)
            results["bbox"] = bbox

        if results.get("area") is not None:
            linear = np.asarray(mat, dtype=np.float64)
            det = np.linalg.det(linear if linear.shape[0] == 3 else linear[:, :2])
            area = np.asarray(results["area"])
            results["area"] = (area * det).astype(area.dtype, copy=False)

        results["input_size"] = self.input_size
        results["warp_mat"] = mat
        return results

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(input_size={self.input_size}, transform_mode={self.transform_mode!r}, "
                f"shift={self.shift_factor}@{self.shift_prob}, scale={self.scale_factor}@{self.scale_prob}, "
                f"scale_type={self.scale_type!r}, rotate={self.rotate_factor}@{self.rotate_prob}, "
                f"shear={self.shear_factor}@{self.shear_prob}, distribution={self.distribution!r}, "
                f"pad_val={self.pad_val}, bbox_keep_corner={self.bbox_keep_corner}, clip_border={self.clip_border})")
