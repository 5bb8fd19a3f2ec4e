"""Hypothesis strategies for synthetic bottom-up samples (keypoints on a grid so 5x5 markers never overlap)."""
import numpy as np
from hypothesis import strategies as st

GRID = 10  # px between keypoint candidates


@st.composite
def keypoint_sets(draw, size=(160, 120), max_instances=3, num_keypoints=4, margin=10):
    """(keypoints (N, K, 2), visible (N, K)) on distinct grid cells inside ``size`` with ``margin``."""
    w, h = size
    xs = np.arange(margin, w - margin + 1, GRID)
    ys = np.arange(margin, h - margin + 1, GRID)
    n = draw(st.integers(0, max_instances))
    cells = draw(st.lists(st.integers(0, len(xs) * len(ys) - 1), min_size=n * num_keypoints,
                          max_size=n * num_keypoints, unique=True))
    pts = np.array([[xs[c % len(xs)], ys[c // len(xs)]] for c in cells], dtype=np.float32).reshape(n, num_keypoints, 2)
    vis = np.array(draw(st.lists(st.booleans(), min_size=n * num_keypoints, max_size=n * num_keypoints)),
                   dtype=np.float32).reshape(n, num_keypoints)
    return pts, vis
