"""Articulated stick-figure poses on the COCO-17 skeleton.

A figure is a kinematic tree rooted at the pelvis. Segment lengths are fixed fractions of the figure height ``H``
(rough adult proportions); joint angles are drawn at random within human-like ranges. Figures always face the camera,
so the person's left side is on the image's right (consistent with horizontal-flip augmentation that swaps left and
right labels).

Keypoint order (COCO-17): 0 nose, 1 l-eye, 2 r-eye, 3 l-ear, 4 r-ear, 5 l-shoulder, 6 r-shoulder, 7 l-elbow,
8 r-elbow, 9 l-wrist, 10 r-wrist, 11 l-hip, 12 r-hip, 13 l-knee, 14 r-knee, 15 l-ankle, 16 r-ankle.
"""
from dataclasses import dataclass
from typing import Tuple

import numpy as np

NUM_KEYPOINTS = 17
KEYPOINT_NAMES = ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
                  "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
                  "right_knee", "left_ankle", "right_ankle")
#: COCO skeleton, 1-based as in the COCO annotation files.
COCO_SKELETON_1BASED = ((16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13), (6, 7), (6, 8), (7, 9),
                        (8, 10), (9, 11), (2, 3), (1, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7))

# Segment lengths as fractions of the figure height H.
TORSO, NECK_TO_HEAD, HEAD_RADIUS = 0.30, 0.11, 0.065
SHOULDER_HALF, HIP_HALF = 0.105, 0.075
UPPER_ARM, FOREARM, THIGH, SHIN = 0.17, 0.15, 0.24, 0.23


@dataclass
class Figure:
    """One posed figure in image pixels.

    Attributes:
        keypoints (np.ndarray): (17, 2) float32 keypoint positions (x, y) in pixels.
        head_center (np.ndarray): (2,) head centre.
        head_radius (float): head radius in pixels.
        height (float): figure height H in pixels (ankle-to-head-top for a straight pose).
        yaw (float): head turn in [-1, 1]; shifts the face features sideways.
    """

    keypoints: np.ndarray
    head_center: np.ndarray
    head_radius: float
    height: float
    yaw: float


def _unit(angle: float) -> np.ndarray:
    """Unit vector for an angle measured from 'straight down' (+y), counter-clockwise positive in image coords."""
    return np.array([np.sin(angle), np.cos(angle)], dtype=np.float64)


def sample_figure(rng: np.random.Generator, pelvis: Tuple[float, float], height: float) -> Figure:
    """Draw one random pose.

    Args:
        rng: random generator (the only source of randomness, for determinism).
        pelvis: (x, y) of the pelvis centre in pixels.
        height: figure height H in pixels.

    Returns:
        Figure: the posed figure.
    """
    h = float(height)
    root = np.asarray(pelvis, dtype=np.float64)
    lean = rng.normal(0.0, np.deg2rad(8.0))  # whole-body lean
    up = -_unit(lean)  # pelvis -> neck direction
    side = np.array([-up[1], up[0]])  # towards the image right (the person's left)
    if side[0] < 0:
        side = -side
    neck = root + TORSO * h * up
    kp = np.zeros((NUM_KEYPOINTS, 2), dtype=np.float64)
    kp[5], kp[6] = neck + SHOULDER_HALF * h * side, neck - SHOULDER_HALF * h * side
    kp[11], kp[12] = root + HIP_HALF * h * side, root - HIP_HALF * h * side

    # head and face
    head_tilt = lean + rng.normal(0.0, np.deg2rad(12.0))
    head_up = -_unit(head_tilt)
    head_side = np.array([-head_up[1], head_up[0]])
    if head_side[0] < 0:
        head_side = -head_side
    r = HEAD_RADIUS * h
    head = neck + (NECK_TO_HEAD * h) * head_up
    yaw = float(np.clip(rng.normal(0.0, 0.25), -0.6, 0.6))
    eye_y = head + 0.15 * r * head_up
    kp[0] = head - 0.25 * r * head_up + yaw * 0.5 * r * head_side  # nose
    kp[1] = eye_y + (0.38 + 0.4 * yaw) * r * head_side  # left eye (on the image right)
    kp[2] = eye_y + (-0.38 + 0.4 * yaw) * r * head_side
    kp[3] = head + 0.05 * r * head_up + (0.95 - 0.2 * max(yaw, 0)) * r * head_side  # left ear
    kp[4] = head + 0.05 * r * head_up - (0.95 + 0.2 * min(yaw, 0)) * r * head_side

    # arms: angle of the upper arm measured from hanging straight down, positive = raised sideways outwards
    for shoulder, elbow, wrist, sign in ((5, 7, 9, -1.0), (6, 8, 10, 1.0)):
        raise_ = rng.uniform(np.deg2rad(-25.0), np.deg2rad(165.0))
        bend = rng.uniform(0.0, np.deg2rad(135.0)) * rng.choice([-1.0, 1.0])
        upper = _unit(lean + sign * -raise_)
        fore = _unit(lean + sign * -(raise_ + bend))
        kp[elbow] = kp[shoulder] + UPPER_ARM * h * upper
        kp[wrist] = kp[elbow] + FOREARM * h * fore
    # legs: hip angle outwards/forwards, knee bend
    for hip, knee, ankle, sign in ((11, 13, 15, -1.0), (12, 14, 16, 1.0)):
        spread = rng.uniform(np.deg2rad(-12.0), np.deg2rad(45.0))
        bend = rng.uniform(0.0, np.deg2rad(80.0)) * rng.choice([-1.0, 1.0])
        thigh = _unit(lean + sign * -spread)
        shin = _unit(lean + sign * -(spread - bend * 0.6))
        kp[knee] = kp[hip] + THIGH * h * thigh
        kp[ankle] = kp[knee] + SHIN * h * shin
    return Figure(keypoints=kp.astype(np.float32), head_center=head.astype(np.float32), head_radius=float(r),
                  height=h, yaw=yaw)
