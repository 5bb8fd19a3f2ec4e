"""Draw predicted skeletons, person boxes and scores on an image with OpenCV."""
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

from .inferencer import PosePrediction

#: COCO-17 limbs (0-based keypoint indices), used when the model carries no skeleton
COCO17_SKELETON: Tuple[Tuple[int, int], ...] = (
    (15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7), (6, 8), (7, 9),
    (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6))


def skeleton_from_meta(dataset_meta: Optional[dict], num_keypoints: int) -> Sequence[Tuple[int, int]]:
    """Limb list from MMPose dataset meta (``skeleton_links``), else COCO-17 for 17 keypoints, else none."""
    links = (dataset_meta or {}).get("skeleton_links")
    if links:
        return [tuple(map(int, link)) for link in links]
    return COCO17_SKELETON if num_keypoints == 17 else ()


def _point(xy: np.ndarray) -> Optional[Tuple[int, int]]:
    """Integer pixel of a keypoint, None when not finite (cv2 needs bounded ints; far points are clipped)."""
    if not np.all(np.isfinite(xy)):
        return None
    x, y = np.clip(xy, -1e5, 1e5)
    return int(round(float(x))), int(round(float(y)))


def _color(index: int) -> Tuple[int, int, int]:
    """A distinct BGR colour per instance (golden-ratio hue walk)."""
    hue = int((index * 0.618033988749895 % 1.0) * 179)
    hsv = np.uint8([[[hue, 200, 255]]])
    return tuple(int(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0])


def draw_poses(image: np.ndarray, pred: PosePrediction, skeleton: Sequence[Tuple[int, int]] = COCO17_SKELETON,
               kpt_thr: float = 0.3, draw_boxes: bool = True, draw_scores: bool = True,
               instance_thr: float = 0.0) -> np.ndarray:
    """Return a copy of ``image`` with the poses drawn.

    Args:
        image (np.ndarray): ``(H, W, 3)`` uint8 BGR.
        pred (PosePrediction): predictions in image pixels (or anything with ``keypoints (N, K, 2)``,
            ``keypoint_scores (N, K)``, ``bboxes (N, 4)`` and ``bbox_scores (N,)``, e.g. ``pred_instances``).
        skeleton (Sequence[tuple[int, int]]): limbs as keypoint index pairs.
        kpt_thr (float): keypoints (and limbs) with a score below this are not drawn.
        draw_boxes (bool): draw person boxes.
        draw_scores (bool): write the person score above each box.
        instance_thr (float): instances whose person score is below this are not drawn. Defaults to 0.

    Returns:
        np.ndarray: the annotated copy.
    """
    canvas = image.copy()
    thickness = max(1, int(round(max(canvas.shape[:2]) / 400)))
    for i in range(len(pred)):
        if float(pred.bbox_scores[i]) < instance_thr:
            continue
        color = _color(i)
        kpts, kscores = pred.keypoints[i], pred.keypoint_scores[i]
        for a, b in skeleton:
            if a < len(kpts) and b < len(kpts) and kscores[a] >= kpt_thr and kscores[b] >= kpt_thr:
                pa, pb = _point(kpts[a]), _point(kpts[b])
                if pa is not None and pb is not None:
                    cv2.line(canvas, pa, pb, color, thickness + 1, cv2.LINE_AA)
        for xy, score in zip(kpts, kscores):
            point = _point(xy)
            if score >= kpt_thr and point is not None:
                cv2.circle(canvas, point, thickness + 2, color, -1, cv2.LINE_AA)
        corners = [_point(pred.bboxes[i][:2]), _point(pred.bboxes[i][2:])]
        if draw_boxes and None not in corners:
            (x1, y1), (x2, y2) = corners
            cv2.rectangle(canvas, (x1, y1), (x2, y2), color, thickness)
            if draw_scores:
                label = f"{pred.bbox_scores[i]:.2f}"
                cv2.putText(canvas, label, (x1, max(y1 - 4, 10)), cv2.FONT_HERSHEY_SIMPLEX, 0.4 * thickness + 0.1,
                            color, thickness, cv2.LINE_AA)
    return canvas
