"""Fuzzing the whole stage-1 / stage-2 / val pipelines on synthetic data: odd sizes, empty images, degenerate and
out-of-image annotations never crash, never produce NaN, and the packed targets respect the pipeline invariants.
A short run is part of ``make test``; the 10k-example run is ``@pytest.mark.slow`` (``make test-slow``)."""
import functools

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mmengine.dataset import Compose

from rtmo_plugin.testing.pipelines import config_pipeline

SIZE = (64, 64)
K = 17
FLIP = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]


@st.composite
def samples(draw):
    w, h = draw(st.integers(1, 120)), draw(st.integers(1, 120))
    n = draw(st.integers(0, 4))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    kpts = np.stack([rng.uniform(-0.2 * w, 1.2 * w, (n, K)), rng.uniform(-0.2 * h, 1.2 * h, (n, K))], -1)
    # some keypoints exactly on the border
    kpts[rng.uniform(size=(n, K)) < 0.1] = [w, h]
    kpts[rng.uniform(size=(n, K)) < 0.1] = [0, 0]
    vis = (rng.uniform(size=(n, K)) < draw(st.floats(0, 1))).astype(np.float32)
    x1, y1 = rng.uniform(0, w, n), rng.uniform(0, h, n)
    bw, bh = rng.choice([0.0, 1.0, 5.0, w], n), rng.choice([0.0, 1.0, 5.0, h], n)  # empty / one-pixel boxes
    bbox = np.stack([x1, y1, np.minimum(x1 + bw, w), np.minimum(y1 + bh, h)], 1).astype(np.float32)
    img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    return dict(img=img, img_shape=(h, w), ori_shape=(h, w), keypoints=kpts.astype(np.float32),
                keypoints_visible=vis, bbox=bbox.reshape(n, 4), bbox_score=np.ones(n, np.float32),
                category_id=np.ones(n, np.int64), area=(bw * bh).astype(np.float32), flip_indices=FLIP,
                invalid_segs=[[[1.0, 1.0, w * 0.5, 1.0, w * 0.5, h * 0.5]]] if draw(st.booleans()) else [])


class SyntheticDataset:
    """Random-access samples for the mixed-image transforms."""

    def __init__(self, items):
        self.items = items

    def __len__(self):
        return len(self.items)

    def get_data_info(self, index):
        item = self.items[index]
        return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in item.items()}


def _strip_loads(pipeline):
    """Drop LoadImage (the synthetic samples already hold their image) at top level and in pre_transforms."""
    out = []
    for t in pipeline:
        if t["type"] == "LoadImage":
            continue
        t = dict(t)
        if "pre_transform" in t:
            t["pre_transform"] = None
        out.append(t)
    return out


@functools.lru_cache(maxsize=1)
def pipelines():
    """Built on first use (the registries are set up by a session fixture, after collection)."""
    train = {
        "stage1": Compose(_strip_loads(config_pipeline("train_pipeline_stage1", input_size=SIZE))),
        "stage2": Compose(_strip_loads(config_pipeline("train_pipeline_stage2", input_size=SIZE))),
        "stage2_ml": Compose(_strip_loads(config_pipeline("train_pipeline_stage2", "m", input_size=SIZE))),
    }
    return train, Compose(_strip_loads(config_pipeline("val_pipeline", input_size=SIZE)))


def check_all(items, seed):
    dataset = SyntheticDataset(items)
    train, val_pipe = pipelines()
    for name, pipeline in train.items():
        np.random.seed(seed)
        data = dataset.get_data_info(0)
        data["dataset"] = dataset
        packed = pipeline(data)
        assert packed is not None, name  # keep_empty=False: empty images stay as negatives
        assert packed["inputs"].shape == (3, *SIZE[::-1]), name
        labels = packed["data_samples"].gt_instance_labels
        for key in ("bboxes", "keypoints", "keypoints_visible", "areas", "labels"):
            assert torch.isfinite(labels[key].float()).all(), (name, key)
        vis = labels.keypoints_visible > 0
        k = labels.keypoints
        # [-1, W]: clipping keeps x = W as inside and the flip maps x -> W - 1 - x (both as in MMPose), so a
        # keypoint on the right border lands on x = -1 after a flip
        inside = (k[..., 0] >= -1) & (k[..., 0] <= SIZE[0]) & (k[..., 1] >= -1) & (k[..., 1] <= SIZE[1])
        assert inside[vis].all(), name
        assert (vis.sum(1) >= 1).all(), name
        b = labels.bboxes
        assert ((b[:, 2] - b[:, 0] > 1) & (b[:, 3] - b[:, 1] > 1)).all(), name
    val = val_pipe(dataset.get_data_info(0))
    assert val["inputs"].shape == (3, *SIZE[::-1])
    assert np.isfinite(val["data_samples"].input_scale).all() and (val["data_samples"].input_scale > 0).all()


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(samples(), min_size=1, max_size=3), seed=st.integers(0, 2**31 - 1))
def test_pipelines_fuzz_short(items, seed):
    check_all(items, seed)


@pytest.mark.slow
@settings(max_examples=10_000, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(items=st.lists(samples(), min_size=1, max_size=3), seed=st.integers(0, 2**31 - 1))
def test_pipelines_fuzz_10k(items, seed):
    check_all(items, seed)
