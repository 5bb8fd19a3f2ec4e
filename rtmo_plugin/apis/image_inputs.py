"""Validate user images and letterbox them to the model input.

Accepted images (numpy, BGR channel order like OpenCV):

* ``(H, W)`` or ``(H, W, 1)`` grayscale -> replicated to 3 channels;
* ``(H, W, 3)`` BGR; ``(H, W, 4)`` BGRA -> alpha dropped;
* dtypes ``uint8``; ``uint16`` (scaled by 255/65535); float (taken as 0-255 values, must be finite); ``bool`` and
  other types are refused. Any size from 1x1 up.

Anything else raises ``ValueError``/``TypeError`` naming the offending image (its index in the batch).
"""
from dataclasses import dataclass
from typing import Tuple

import cv2
import numpy as np

from ..datasets.transforms.pose_letterbox_resize import PoseLetterboxResize

#: padding value of RTMO's test-time letterbox (MMPose ``BottomupResize(pad_val=(114, 114, 114))``)
PAD_VALUE = 114


def to_bgr_uint8(img: np.ndarray, name: str = "image") -> np.ndarray:
    """Convert an accepted image to contiguous ``(H, W, 3)`` uint8 BGR.

    Args:
        img (np.ndarray): see the module docstring.
        name (str): how to refer to the image in error messages.

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8.
    """
    if not isinstance(img, np.ndarray):
        raise TypeError(f"{name}: expected a numpy array (H, W[, C]), got {type(img).__name__}")
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (3, 4)):
        raise ValueError(f"{name}: expected shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got {img.shape}")
    if img.shape[0] < 1 or img.shape[1] < 1:
        raise ValueError(f"{name}: empty image of shape {img.shape}")
    if img.dtype == np.uint8:
        out = img
    elif img.dtype == np.uint16:
        out = np.round(img.astype(np.float32) * (255.0 / 65535.0)).astype(np.uint8)
    elif np.issubdtype(img.dtype, np.floating):
        if not np.all(np.isfinite(img)):
            raise ValueError(f"{name}: float image contains NaN or inf")
        out = np.clip(np.round(img), 0, 255).astype(np.uint8)
    else:
        raise TypeError(f"{name}: unsupported dtype {img.dtype} (use uint8, uint16 or float in 0-255)")
    if out.ndim == 2:
        out = cv2.cvtColor(out, cv2.COLOR_GRAY2BGR)
    elif out.shape[2] == 4:
        out = cv2.cvtColor(out, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(out)


@dataclass(frozen=True)
class LetterboxInfo:
    """Geometry of one letterboxed image: ``input = (image - centre) * scale + input_size / 2``.

    Attributes:
        image_size (tuple[int, int]): original ``(w, h)``.
        input_size (tuple[int, int]): model input ``(W, H)``.
        scale (float): resize factor ``min(W / w, H / h)``.
    """

    image_size: Tuple[int, int]
    input_size: Tuple[int, int]
    scale: float

    @property
    def center(self) -> np.ndarray:
        """Image centre ``(w / 2, h / 2)`` (MMPose meta ``input_center``)."""
        return np.array([self.image_size[0] / 2.0, self.image_size[1] / 2.0], dtype=np.float32)

    @property
    def input_scale(self) -> np.ndarray:
        """Image extent covered by the whole model input, ``input_size / scale`` (MMPose meta ``input_scale``)."""
        return np.array([self.input_size[0] / self.scale, self.input_size[1] / self.scale], dtype=np.float32)

    def to_image(self, points: np.ndarray) -> np.ndarray:
        """Map input-pixel coordinates ``(..., 2)`` back to the original image."""
        half = np.array(self.input_size, dtype=np.float32) / 2.0
        return ((points - half) / self.scale + self.center).astype(np.float32)

    def meta(self) -> dict:
        """The metainfo ``BottomupPoseEstimator`` uses to map predictions back to the image."""
        w, h = self.image_size
        return dict(input_size=self.input_size, input_center=self.center, input_scale=self.input_scale,
                    ori_shape=(h, w), img_shape=(self.input_size[1], self.input_size[0]))


def letterbox(img: np.ndarray, input_size: Tuple[int, int]) -> Tuple[np.ndarray, LetterboxInfo]:
    """Aspect-preserving resize to fit ``input_size`` with centred padding (RTMO's test-time resize).

    The config pipelines' :class:`~rtmo_plugin.datasets.transforms.PoseLetterboxResize` does the work, so the
    inferencer sees exactly the pixels ``mim test`` sees.

    Args:
        img (np.ndarray): ``(h, w, 3)`` uint8 BGR.
        input_size (tuple[int, int]): ``(W, H)``.

    Returns:
        tuple: ``(H, W, 3)`` uint8 canvas and its :class:`LetterboxInfo`.
    """
    h, w = img.shape[:2]
    out_w, out_h = int(input_size[0]), int(input_size[1])
    resize = PoseLetterboxResize((out_w, out_h), size_factor=1, pad_val=(PAD_VALUE,) * 3)
    canvas = resize.transform(dict(img=img, ori_shape=(h, w)))["img"]
    return canvas, LetterboxInfo((w, h), (out_w, out_h), float(min(out_w / w, out_h / h)))
