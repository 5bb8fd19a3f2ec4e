"""Codec between image-level keypoint annotations and what a one-stage (bbox-free) pose head consumes."""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
from mmpose.codecs.base import BaseKeypointCodec
from mmpose.registry import KEYPOINT_CODECS

# COCO's convention for a missing segmentation area: 0.53 * box area (as MMPose's CocoDataset does).
_AREA_FROM_BOX = 0.53


def _visible(keypoints_visible: np.ndarray) -> np.ndarray:
    """(N, K) boolean visibility from (N, K) flags or (N, K, 2) flags + weights."""
    flags = keypoints_visible[..., 0] if keypoints_visible.ndim == 3 else keypoints_visible
    return flags > 0


@KEYPOINT_CODECS.register_module()
class BBoxFreeKeypointCodec(BaseKeypointCodec):
    """Encode the people of one image into per-instance targets; decode predictions back to the image.

    No detector box is involved anywhere: boxes come from the annotation, or -- when the annotation has none --
    are the tightest box around each instance's visible keypoints (``expand_bbox`` grows annotated boxes to contain
    them too). Encoding produces (packed by ``PackPoseInputs`` into ``gt_instance_labels`` through
    :attr:`label_mapping_table`):

    - ``bbox`` -> ``bboxes`` (N, 4) xyxy in input pixels;
    - ``bbox_labels`` -> ``labels`` (N,) int64 = ``category_id - 1`` (0 when no category is given);
    - ``keypoints`` (N, K, 2), ``keypoints_visible`` (N, K) -- passed through;
    - ``area`` -> ``areas`` (N,) -- the annotation's, or 0.53 * box area (min 1) when absent.

    Decoding maps model-input coordinates back to the image with the letterbox meta of
    :class:`PoseLetterboxResize`: ``p_img = p / input_size * input_scale + input_center - input_scale / 2``.

    Note:
        - instance number: N
        - keypoint number: K

    Args:
        expand_bbox (bool): grow annotated boxes to contain their visible keypoints. Defaults to False.
        input_size (Tuple[int, int], optional): model input (W, H), used by :meth:`decode` when no size is given.
    """

    auxiliary_encode_keys = {"category_id", "bbox", "area"}
    label_mapping_table = dict(
        bbox="bboxes",
        bbox_labels="labels",
        keypoints="keypoints",
        keypoints_visible="keypoints_visible",
        area="areas",
    )
    instance_mapping_table = dict(
        bbox="bboxes",
        bbox_score="bbox_scores",
        keypoints="keypoints",
        keypoints_visible="keypoints_visible",
    )

    def __init__(self, expand_bbox: bool = False, input_size: Optional[Tuple[int, int]] = None) -> None:
        super().__init__()
        self.expand_bbox = expand_bbox
        self.input_size = None if input_size is None else tuple(input_size)

    def encode(self,
               keypoints: np.ndarray,
               keypoints_visible: Optional[np.ndarray] = None,
               bbox: Optional[np.ndarray] = None,
               category_id: Optional[Sequence[int]] = None,
               area: Optional[np.ndarray] = None) -> Dict[str, np.ndarray]:
        """Encode the instances of one image.

        Args:
            keypoints (np.ndarray): (N, K, 2) keypoints in input pixels.
            keypoints_visible (np.ndarray, optional): (N, K) or (N, K, 2) visibility; all visible if None.
            bbox (np.ndarray, optional): (N, 4) xyxy boxes; derived from the visible keypoints if None.
            category_id (Sequence[int], optional): (N,) category ids (1-based, COCO).
            area (np.ndarray, optional): (N,) instance areas; 0.53 * box area if None.

        Returns:
            dict: ``bbox`` (N, 4) float32, ``bbox_labels`` (N,) int64, ``area`` (N,) float32 and, when the
            visibility was not given, ``keypoints_visible`` (N, K) float32.
        """
        keypoints = np.asarray(keypoints, dtype=np.float32)
        if keypoints.ndim != 3 or keypoints.shape[-1] != 2:
            raise ValueError(f"BBoxFreeKeypointCodec.encode: keypoints must have shape (N, K, 2), got "
                             f"{keypoints.shape}")
        num = keypoints.shape[0]
        encoded: Dict[str, np.ndarray] = {}
        if keypoints_visible is None:
            keypoints_visible = np.ones(keypoints.shape[:2], dtype=np.float32)
            encoded["keypoints_visible"] = keypoints_visible
        keypoints_visible = np.asarray(keypoints_visible)
        if keypoints_visible.shape[:2] != keypoints.shape[:2]:
            raise ValueError(f"BBoxFreeKeypointCodec.encode: keypoints_visible shape {keypoints_visible.shape} "
                             f"does not match keypoints {keypoints.shape}")
        vis = _visible(keypoints_visible)

        kpt_boxes = self.keypoint_boxes(keypoints, vis)
        if bbox is None:
            boxes = kpt_boxes
        else:
            boxes = np.array(bbox, dtype=np.float32).reshape(-1, 4)
            if boxes.shape[0] != num:
                raise ValueError(f"BBoxFreeKeypointCodec.encode: {boxes.shape[0]} boxes for {num} instances")
            if self.expand_bbox:
                has_vis = vis.any(axis=1)
                boxes[has_vis, :2] = np.minimum(boxes[has_vis, :2], kpt_boxes[has_vis, :2])
                boxes[has_vis, 2:] = np.maximum(boxes[has_vis, 2:], kpt_boxes[has_vis, 2:])
        encoded["bbox"] = boxes

        if category_id is None:
            labels = np.zeros(num, dtype=np.int64)
        else:
            labels = np.asarray(category_id, dtype=np.int64).reshape(-1) - 1
            if labels.shape[0] != num:
                raise ValueError(f"BBoxFreeKeypointCodec.encode: {labels.shape[0]} category ids for {num} instances")
        encoded["bbox_labels"] = labels

        if area is None:
            wh = np.clip(boxes[:, 2:] - boxes[:, :2], 0, None)
            area = np.maximum(_AREA_FROM_BOX * wh[:, 0] * wh[:, 1], 1.0)
        encoded["area"] = np.asarray(area, dtype=np.float32).reshape(-1)
        if encoded["area"].shape[0] != num:
            raise ValueError(f"BBoxFreeKeypointCodec.encode: {encoded['area'].shape[0]} areas for {num} instances")
        return encoded

    @staticmethod
    def keypoint_boxes(keypoints: np.ndarray, visible: np.ndarray) -> np.ndarray:
        """(N, 4) tightest boxes around the visible keypoints; zeros for an instance with none visible.

        Args:
            keypoints (np.ndarray): (N, K, 2).
            visible (np.ndarray): (N, K) bool.
        """
        if keypoints.shape[0] == 0:
            return np.zeros((0, 4), dtype=np.float32)
        lo = np.where(visible[..., None], keypoints, np.inf).min(axis=1)
        hi = np.where(visible[..., None], keypoints, -np.inf).max(axis=1)
        boxes = np.concatenate([lo, hi], axis=1).astype(np.float32)
        boxes[~visible.any(axis=1)] = 0.0
        return boxes

    def decode(self,
               keypoints: np.ndarray,
               input_center: np.ndarray,
               input_scale: np.ndarray,
               input_size: Optional[Tuple[int, int]] = None,
               bboxes: Optional[np.ndarray] = None) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        """Map predictions from model-input pixels back to the original image.

        Args:
            keypoints (np.ndarray): (N, K, 2) keypoints in input pixels.
            input_center (np.ndarray): (2,) image point at the input centre (meta ``input_center``).
            input_scale (np.ndarray): (2,) image extent covered by the input (meta ``input_scale``).
            input_size (Tuple[int, int], optional): input (W, H); defaults to the codec's ``input_size``.
            bboxes (np.ndarray, optional): (N, 4) xyxy boxes in input pixels.

        Returns:
            tuple: keypoints (N, K, 2) and boxes (N, 4) (or None) in image pixels.
        """
        size = input_size if input_size is not None else self.input_size
        if size is None:
            raise ValueError("BBoxFreeKeypointCodec.decode: give input_size (the codec was built without one)")
        size = np.asarray(size, dtype=np.float64)
        scale = np.asarray(input_scale, dtype=np.float64).reshape(2)
        offset = np.asarray(input_center, dtype=np.float64).reshape(2) - 0.5 * scale
        factor = scale / size
        kpts = (np.asarray(keypoints, dtype=np.float64) * factor + offset).astype(np.float32)
        boxes = None
        if bboxes is not None:
            boxes = np.asarray(bboxes, dtype=np.float64).reshape(-1, 2, 2) * factor + offset
            boxes = boxes.reshape(-1, 4).astype(np.float32)
        return kpts, boxes

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(expand_bbox={self.expand_bbox}, input_size={self.input_size})"
