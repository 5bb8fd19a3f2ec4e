"""Random hue / saturation / value jitter (YOLOX colour augmentation)."""
from typing import Any, Dict

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmpose.registry import TRANSFORMS

_LEVELS = np.arange(256, dtype=np.int16)


@TRANSFORMS.register_module()
class PoseHSVJitter(BaseTransform):
    """Shift hue (mod 180), saturation and value (clipped to [0, 255]) of an 8-bit BGR image by random integers.

    Gains ``g = int16(U(-1, 1, 3) * (hue_delta, saturation_delta, value_delta) * randint(0, 2, 3))`` -- each
    channel is switched on with probability 1/2 -- drawn exactly like MMPose's ``YOLOXHSVRandomAug``. The shift is
    applied with one per-channel lookup table on the OpenCV HSV image instead of int16 arithmetic.

    Deliberate difference: when all three gains are 0 the image is returned untouched (the reference still
    converts BGR -> HSV -> BGR, which quantises colours without augmenting anything).

    Required Keys:

    - img (uint8, (H, W, 3) BGR)

    Modified Keys:

    - img

    Args:
        hue_delta (int): max hue shift (OpenCV hue units, 0..179). Defaults to 5.
        saturation_delta (int): max saturation shift. Defaults to 30.
        value_delta (int): max value shift. Defaults to 30.
    """

    def __init__(self, hue_delta: int = 5, saturation_delta: int = 30, value_delta: int = 30) -> None:
        self.hue_delta = hue_delta
        self.saturation_delta = saturation_delta
        self.value_delta = value_delta

    def draw_gains(self) -> np.ndarray:
        """The (3,) int16 gains (hue, saturation, value)."""
        gains = np.random.uniform(-1, 1, 3) * [self.hue_delta, self.saturation_delta, self.value_delta]
        gains *= np.random.randint(0, 2, 3)
        return gains.astype(np.int16)

    @staticmethod
    def lookup_table(gains: np.ndarray) -> np.ndarray:
        """(1, 256, 3) uint8 table mapping each HSV channel level to its shifted level."""
        table = np.empty((256, 3), dtype=np.uint8)
        table[:, 0] = (_LEVELS + gains[0]) % 180
        table[:, 1] = np.clip(_LEVELS + gains[1], 0, 255)
        table[:, 2] = np.clip(_LEVELS + gains[2], 0, 255)
        return table[None]

    def transform(self, results: Dict[str, Any]) -> Dict[str, Any]:
        """Jitter ``results['img']``.

        Args:
            results (dict): the sample.

        Returns:
            dict: the sample with the jittered image.
        """
        gains = self.draw_gains()
        if not gains.any():
            return results
        img = results["img"]
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f"PoseHSVJitter: results['img'] must be a uint8 (H, W, 3) BGR image, got "
                             f"{img.dtype} {img.shape}")
        hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
        cv2.LUT(hsv, self.lookup_table(gains), dst=hsv)
        results["img"] = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
        return results

    def __repr__(self) -> str:
        return (f"{self.__class__.__name__}(hue_delta={self.hue_delta}, saturation_delta={self.saturation_delta}, "
                f"value_delta={self.value_delta})")
