"""The Halpe-26 keypoint set on the stick figures: COCO-17 plus head top, neck, pelvis and six foot points.

The nine added points are placed by geometry only (no random draw), so a seed gives the same figures, poses and
COCO-17 coordinates as the COCO-17 generator; the feet are painted (a dark shoe under each ankle) only when this
set is generated. Order and names are those of MMPose's ``halpe26.py`` metainfo (flip pairs and OKS sigmas come
from that file): 17 head, 18 neck, 19 hip, 20/21 left/right big toe, 22/23 left/right small toe, 24/25
left/right heel.
"""
import cv2
import numpy as np

from .figure import COCO_SKELETON_1BASED, KEYPOINT_NAMES, Figure

HALPE26_EXTRA_NAMES = ("head", "neck", "hip", "left_big_toe", "right_big_toe", "left_small_toe", "right_small_toe",
                       "left_heel", "right_heel")
HALPE26_KEYPOINT_NAMES = KEYPOINT_NAMES + HALPE26_EXTRA_NAMES
#: Halpe-26 skeleton, 1-based (COCO's limbs and face plus neck/pelvis and the feet).
HALPE26_SKELETON_1BASED = COCO_SKELETON_1BASED + ((18, 19), (19, 20), (20, 12), (20, 13), (16, 21), (16, 23),
                                                  (16, 25), (17, 22), (17, 24), (17, 26))
#: MMPose's metainfo file of this keypoint set (resolved inside mmpose's package).
HALPE26_METAINFO = "configs/_base_/datasets/halpe26.py"

# Foot geometry in units of the figure height H (figures face the camera: toes point at the viewer, so the foot
# shows as a short shoe below the ankle, big toe towards the body's midline, small toe outwards).
HEEL_DROP, BIG_TOE_DROP, SMALL_TOE_DROP = 0.035, 0.055, 0.05
BIG_TOE_IN, SMALL_TOE_OUT = 0.025, 0.035


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.hypot(*v))
    return v / n if n > 1e-9 else np.array([0.0, 1.0])


def halpe_extra_keypoints(fig: Figure) -> np.ndarray:
    """The nine added points of a posed figure.

    Args:
        fig: a figure with its 17 COCO keypoints.

    Returns:
        np.ndarray: (9, 2) float32 (x, y) in pixels, in :data:`HALPE26_EXTRA_NAMES` order.
    """
    kp, h = fig.keypoints.astype(np.float64), fig.height
    neck = (kp[5] + kp[6]) / 2  # the generator's neck joint is the shoulders' midpoint
    head_up = _unit(fig.head_center.astype(np.float64) - neck)
    pelvis = (kp[11] + kp[12]) / 2
    side = _unit(kp[11] - kp[12])  # towards the person's left (the image right)
    out = [fig.head_center + fig.head_radius * head_up, neck, pelvis]
    feet = {}
    for name, knee, ankle, outward in (("left", 13, 15, side), ("right", 14, 16, -side)):
        down = _unit(kp[ankle] - kp[knee])
        feet[name] = (kp[ankle] + h * (BIG_TOE_DROP * down - BIG_TOE_IN * outward),
                      kp[ankle] + h * (SMALL_TOE_DROP * down + SMALL_TOE_OUT * outward),
                      kp[ankle] + h * HEEL_DROP * down)
    for part in range(3):  # big toes, small toes, heels: left then right
        out += [feet["left"][part], feet["right"][part]]
    return np.asarray(out, dtype=np.float32)


def draw_feet(img: np.ndarray, label: np.ndarray, fig: Figure, extra: np.ndarray, value: int,
              color: np.ndarray) -> None:
    """Paint a shoe (ankle, big toe, heel, small toe) under each ankle into ``img`` and ``value`` into ``label``.

    Args:
        img: (H, W, 3) uint8 image, in place.
        label: (H, W) uint8 label map, in place.
        fig: the figure.
        extra: (9, 2) from :func:`halpe_extra_keypoints`.
        value: the person's label value.
        color: (3,) BGR shoe colour.
    """
    kp = fig.keypoints
    for ankle, big, small, heel in ((15, 3, 5, 7), (16, 4, 6, 8)):
        poly = np.stack([kp[ankle], extra[big], extra[heel], extra[small]]).round().astype(np.int32)
        hull = cv2.convexHull(poly)
        cv2.fillConvexPoly(img, hull, tuple(float(c) for c in np.clip(color, 0, 255)), cv2.LINE_AA)
        cv2.fillConvexPoly(label, hull, value)
        for j in (big, small, heel):
            cv2.circle(label, tuple(int(round(v)) for v in extra[j]), 1, value, -1)
