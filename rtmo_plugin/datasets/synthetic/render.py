"""Rasterise figures and textured backgrounds with OpenCV.

Every person is painted twice: into the BGR image (shaded limbs, torso, head with face marks) and, with the same
geometry, into an integer label map (``0`` background, ``i + 1`` person ``i``, ``255`` occluder). The label map gives
each person's visible mask (its area and box) and tells which keypoints are hidden by a nearer person or an occluder.
"""
from typing import Optional, Tuple

import cv2
import numpy as np

from .figure import Figure

OCCLUDER_LABEL = 255

# (keypoint a, keypoint b, thickness as a fraction of H, colour slot) drawn back to front; slots: 0 shirt, 1 skin,
# 2 trousers.
_LIMBS = ((11, 13, 0.075, 2), (13, 15, 0.06, 2), (12, 14, 0.075, 2), (14, 16, 0.06, 2),
          (5, 7, 0.055, 0), (7, 9, 0.045, 1), (6, 8, 0.055, 0), (8, 10, 0.045, 1))


def textured_background(rng: np.random.Generator, size: Tuple[int, int], contrast: float = 1.0) -> np.ndarray:
    """A random textured background: smooth colour noise + stripes or blobs + pixel noise.

    Args:
        rng: random generator.
        size: (width, height) in pixels.
        contrast: the texture is blended towards its mean grey by this factor (1 = full contrast).

    Returns:
        np.ndarray: (H, W, 3) uint8 BGR image.
    """
    w, h = size
    cells = int(rng.integers(2, 7))
    coarse = rng.uniform(30, 230, size=(cells, cells, 3)).astype(np.float32)
    img = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    kind = rng.integers(0, 3)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == 0:  # stripes / floor tiles
        angle, period = rng.uniform(0, np.pi), rng.uniform(8, 40)
        wave = np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi / period)
        img += (rng.uniform(10, 40) * wave)[..., None]
    elif kind == 1:  # blobs (bushes, furniture)
        for _ in range(int(rng.integers(3, 10))):
            center = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            axes = (int(rng.integers(5, w // 3)), int(rng.integers(5, h // 3)))
            cv2.ellipse(img, center, axes, float(rng.uniform(0, 180)), 0, 360,
                        tuple(float(c) for c in rng.uniform(20, 235, 3)), -1)
    img += rng.normal(0, rng.uniform(2, 12), size=img.shape).astype(np.float32)
    if contrast != 1.0:
        img = img.mean() + contrast * (img - img.mean())
    return np.clip(img, 0, 255).astype(np.uint8)


def _shaded_line(img: np.ndarray, a: np.ndarray, b: np.ndarray, thickness: int, color: np.ndarray) -> None:
    """A limb as a lit cylinder: concentric strokes, darker outside, brighter along the axis."""
    pa, pb = tuple(int(round(v)) for v in a), tuple(int(round(v)) for v in b)
    steps = 4
    for i in range(steps):
        t = max(1, int(round(thickness * (1 - i / steps))))
        shade = 0.55 + 0.6 * i / steps
        cv2.line(img, pa, pb, tuple(float(c) for c in np.clip(color * shade, 0, 255)), t, cv2.LINE_AA)


def _label_line(label: np.ndarray, a: np.ndarray, b: np.ndarray, thickness: int, value: int) -> None:
    cv2.line(label, tuple(int(round(v)) for v in a), tuple(int(round(v)) for v in b), value, max(1, thickness))


def draw_figure(img: np.ndarray, label: np.ndarray, fig: Figure, value: int, rng: np.random.Generator,
                extra: Optional[np.ndarray] = None) -> None:
    """Paint one figure into ``img`` (BGR uint8, in place) and ``value`` into ``label`` (uint8, in place).

    Args:
        img: (H, W, 3) image.
        label: (H, W) label map.
        fig: the posed figure.
        value: label value of this person (1..254).
        rng: random generator (clothing colours).
        extra: (9, 2) Halpe-26 added points; when given, shoes are painted under the ankles (no random draw, so
            the figure's other pixels and the random stream stay those of the COCO-17 generator).
    """
    kp, h = fig.keypoints.astype(np.float64), fig.height
    colors = [rng.uniform(20, 235, 3), np.array([90, 140, 200]) * rng.uniform(0.6, 1.2), rng.uniform(20, 235, 3)]
    # torso: quad shoulders-hips, shaded left to right
    quad = np.stack([kp[5], kp[6], kp[12], kp[11]]).round().astype(np.int32)
    for i, shade in enumerate((0.6, 0.8, 1.0)):
        shrink = 1.0 - 0.25 * i
        center = quad.mean(0)
        q = ((quad - center) * np.array([shrink, 1.0]) + center).round().astype(np.int32)
        cv2.fillConvexPoly(img, q, tuple(float(c) for c in np.clip(colors[0] * shade, 0, 255)), cv2.LINE_AA)
    cv2.fillConvexPoly(label, quad, value)
    for a, b, frac, slot in _LIMBS:
        t = int(round(frac * h))
        _shaded_line(img, kp[a], kp[b], t, colors[slot])
        _label_line(label, kp[a], kp[b], t, value)
        cv2.circle(label, tuple(int(round(v)) for v in kp[b]), max(1, t // 2), value, -1)
    # hands and feet
    for j, slot in ((9, 1), (10, 1), (15, 2), (16, 2)):
        rad = max(1, int(round((0.03 if j < 11 else 0.035) * h)))
        center = tuple(int(round(v)) for v in kp[j])
        cv2.circle(img, center, rad, tuple(float(c) for c in np.clip(colors[slot] * 0.8, 0, 255)), -1, cv2.LINE_AA)
        cv2.circle(label, center, rad, value, -1)
    if extra is not None:
        from .halpe26 import draw_feet

        draw_feet(img, label, fig, extra, value, colors[2] * 0.45)
    # neck and head (a shaded disc), face marks
    r = fig.head_radius
    neck = (kp[5] + kp[6]) / 2
    _shaded_line(img, neck, fig.head_center, int(round(0.05 * h)), colors[1])
    _label_line(label, neck, fig.head_center, int(round(0.05 * h)), value)
    hc = fig.head_center.astype(np.float64)
    for i, shade in enumerate((0.6, 0.85, 1.1)):
        rad = max(1, int(round(r * (1 - 0.3 * i))))
        off = np.array([-0.15, -0.15]) * r * i
        cv2.circle(img, tuple(int(round(v)) for v in hc + off), rad,
                   tuple(float(c) for c in np.clip(colors[1] * shade, 0, 255)), -1, cv2.LINE_AA)
    cv2.circle(label, tuple(int(round(v)) for v in hc), max(1, int(round(r))), value, -1)
    dot = max(1, int(round(0.12 * r)))
    for j in (1, 2):
        cv2.circle(img, tuple(int(round(v)) for v in kp[j]), dot, (30, 30, 30), -1, cv2.LINE_AA)
    cv2.circle(img, tuple(int(round(v)) for v in kp[0]), dot, (40, 40, 160), -1, cv2.LINE_AA)
    for j in (3, 4):
        cv2.circle(img, tuple(int(round(v)) for v in kp[j]), max(1, int(round(0.18 * r))),
                   tuple(float(c) for c in np.clip(colors[1] * 0.7, 0, 255)), -1, cv2.LINE_AA)


def draw_occluder(img: np.ndarray, label: np.ndarray, rng: np.random.Generator) -> None:
    """A textured rectangle or ellipse (a pole, a sign, a bush) in front of everything drawn so far."""
    h, w = label.shape
    color = tuple(float(c) for c in rng.uniform(20, 235, 3))
    x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
    if rng.random() < 0.5:
        size = (int(rng.integers(6, max(7, w // 6))), int(rng.integers(h // 6, h // 2)))
        pts = ((x0, y0), (x0 + size[0], y0 + size[1]))
        cv2.rectangle(img, pts[0], pts[1], color, -1)
        cv2.rectangle(label, pts[0], pts[1], OCCLUDER_LABEL, -1)
    else:
        axes = (int(rng.integers(8, max(9, w // 5))), int(rng.integers(8, max(9, h // 5))))
        cv2.ellipse(img, (x0, y0), axes, 0, 0, 360, color, -1)
        cv2.ellipse(label, (x0, y0), axes, 0, 0, 360, OCCLUDER_LABEL, -1)

