"""Mask of the image regions covered by invalid instances (crowd / no keypoints), in model-input coordinates."""
from typing import Any, Dict, List

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmpose.registry import TRANSFORMS

from .instance_ops import is_affine, warp_points


def _is_rle(seg: Any) -> bool:
    return isinstance(seg, dict) and "counts" in seg and "size" in seg


@TRANSFORMS.register_module()
class PoseHeatmapMaskFromInvalid(BaseTransform):
    """Rasterise the segmentations in ``invalid_segs`` into a boolean mask of the model input.

    RTMO's stage 2 down-weights the classification loss of predictions that land on invalid people (crowd regions
    and persons without labelled keypoints), the role of MMPose's ``BottomupGetHeatmapMask(get_invalid=True)``.
    Polygons are mapped with ``warp_mat`` (and the mirror recorded by a flip) and filled directly at the output
    resolution (no full-resolution mask is built and warped); RLE masks are decoded, warped bilinearly and
    thresholded at 0.5. With ``get_invalid=False`` the complement (the valid region) is returned. If ``heatmaps``
    are present the mask is resized to their size.

    Deliberate differences from the reference: the reference rasterises polygons at image resolution then warps
    bilinearly, so edge pixels may differ; it skips RLE (crowd) segmentations, which are included here unless
    ``include_rle=False``.

    Required Keys:

    - img_shape (output (H, W)), invalid_segs (optional; list of COCO segmentations, None where an instance has
      none, as in CrowdPose)
    - warp_mat, input_size, flip, flip_direction (optional)

    Added Keys:

    - heatmap_mask (bool (H, W), or a list for multi-level heatmaps)

    Args:
        get_invalid (bool): True -> mask of invalid regions, False -> mask of valid regions. Defaults to False.
        include_rle (bool): also rasterise RLE segmentations. Defaults to True.
    """

    def __init__(self, get_invalid: bool = False, include_rle: bool = True) -> None:
        self.get_invalid = get_invalid
        self.include_rle = include_rle

    def _output_size(self, results: Dict[str, Any]) -> tuple:
        """(W, H) of the mask: ``input_size`` after a warp, else the image shape."""
        if "warp_mat" in results and results.get("input_size") is not None:
            return tuple(int(s) for s in results["input_size"])
        h, w = results["img_shape"][:2]
        return int(w), int(h)

    def _mirror(self, points: np.ndarray, results: Dict[str, Any], size: tuple) -> np.ndarray:
        direction = results.get("flip_direction") if results.get("flip", False) else None
        if direction in ("horizontal", "diagonal"):
            points[..., 0] = (size[0] - 1) - points[..., 0]
        if direction in ("vertical", "diagonal"):
            points[..., 1] = (size[1] - 1) - points[..., 1]
        return points

    def invalid_mask(self, results: Dict[str, Any]) -> np.ndarray:
        """uint8 (H, W) mask, 1 on the invalid instances."""
        out_w, out_h = self._output_size(results)
        mask = np.zeros((out_h, out_w), dtype=np.uint8)
        mat = results.get("warp_mat")
        polygons: List[np.ndarray] = []
        for index, seg in enumerate(results.get("invalid_segs") or []):
            if seg is None:
                continue  # no segmentation annotated (CrowdPose has none): nothing to mask, as in the reference
            if isinstance(seg, (list, tuple)):
                for poly in seg:
                    # COCO polygons use pixel-corner coordinates (pixel i spans [i, i + 1)); the warp and the
                    # raster below use pixel centres
                    pts = np.asarray(poly, dtype=np.float64).reshape(-1, 2) - 0.5
                    if len(pts) < 3:
                        continue
                    if mat is not None:
                        pts = warp_points(pts, mat)
                    polygons.append(self._mirror(np.asarray(pts, dtype=np.float64), results, (out_w, out_h)))
            elif _is_rle(seg):
                if self.include_rle:
                    np.maximum(mask, self._rle_mask(seg, mat, results, (out_w, out_h)), out=mask)
            else:
                raise ValueError(f"PoseHeatmapMaskFromInvalid: invalid_segs[{index}] is neither a polygon list, an "
                                 f"RLE dict nor None (got {type(seg).__name__})")
        for poly in polygons:
            # one call per polygon: a multi-contour fillPoly would XOR overlapping people (even-odd rule);
            # sub-pixel vertex precision with 4 fractional bits
            cv2.fillPoly(mask, [np.round(poly * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
        return mask

    def _rle_mask(self, seg: dict, mat: Any, results: Dict[str, Any], size: tuple) -> np.ndarray:
        """Decode an RLE and bring it into the output frame."""
        from xtcocotools import mask as cocomask  # only needed for crowd annotations

        rle = seg
        if isinstance(seg["counts"], list):
            rle = cocomask.frPyObjects(seg, seg["size"][0], seg["size"][1])
        src = cocomask.decode(rle).astype(np.float32)
        if mat is not None:
            mat = np.asarray(mat, dtype=np.float64)
            if is_affine(mat):
                src = cv2.warpAffine(src, mat[:2], size, flags=cv2.INTER_LINEAR)
            else:
                src = cv2.warpPerspective(src, mat, size, flags=cv2.INTER_LINEAR)
        elif src.shape[::-1] != tuple(size):
            src = cv2.resize(src, size, interpolation=cv2.INTER_LINEAR)
        code = {"horizontal": 1, "vertical": 0, "diagonal": -1}.get(
            results.get("flip_direction") if results.get("flip", False) else None)
        if code is not None:
            src = cv2.flip(src, code)
        return (src > 0.5).astype(np.uint8)

    def transform(self, results: Dict[str, Any]) -> Dict[str, Any]:
        """Add ``heatmap_mask``.

        Args:
            results (dict): the sample.

        Returns:
            dict: the sample with ``heatmap_mask``.
        """
        mask = self.invalid_mask(results)
        if not self.get_invalid:
            mask = 1 - mask
        heatmaps = results.get("heatmaps")
        if heatmaps is None:
            results["heatmap_mask"] = mask.astype(bool)
        else:
            levels = heatmaps if isinstance(heatmaps, list) else [heatmaps]
            resized = [cv2.resize(mask.astype(np.float32), (hm.shape[2], hm.shape[1]),
                                  interpolation=cv2.INTER_LINEAR) > 0.5 for hm in levels]
            results["heatmap_mask"] = resized if isinstance(heatmaps, list) else resized[0]
        return results

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(get_invalid={self.get_invalid}, include_rle={self.include_rle})"
