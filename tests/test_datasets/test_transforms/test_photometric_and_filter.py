"""PoseHSVJitter (exact HSV shifts) and PoseInstanceFilter (which instances survive, empty images)."""
import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtmo_plugin.datasets.transforms import PoseHSVJitter, PoseInstanceFilter

from .helpers import synthetic_sample

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1))
def test_hsv_shift_is_exactly_the_drawn_gain(seed):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    tf = PoseHSVJitter()
    np.random.seed(seed)
    gains = tf.draw_gains()
    np.random.seed(seed)
    out = tf(dict(img=img.copy()))["img"]
    assert out.shape == img.shape and out.dtype == np.uint8
    if not gains.any():
        assert np.array_equal(out, img)
        return
    hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV).astype(np.int32)
    expected = np.stack([(hsv[..., 0] + gains[0]) % 180, np.clip(hsv[..., 1] + gains[1], 0, 255),
                         np.clip(hsv[..., 2] + gains[2], 0, 255)], -1).astype(np.uint8)
    assert np.array_equal(out, cv2.cvtColor(expected, cv2.COLOR_HSV2BGR))
    assert (np.abs(gains) <= (5, 30, 30)).all()


def test_hsv_rejects_non_uint8():
    np.random.seed(1)  # gains non-zero for this seed
    assert PoseHSVJitter().draw_gains().any()
    np.random.seed(1)
    with pytest.raises(ValueError, match="uint8"):
        PoseHSVJitter()(dict(img=np.zeros((4, 4, 3), np.float32)))


def _sample():
    kpts = np.zeros((4, 3, 2), np.float32)
    vis = np.array([[1, 1, 1], [0, 0, 0], [1, 0, 0], [1, 1, 0]], np.float32)
    bbox = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 1, 10], [5, 5, 7, 7]], np.float32)
    return synthetic_sample(kpts, vis, bbox=bbox)


def test_filter_rules():
    out = PoseInstanceFilter(by_kpt=True, by_box=True, keep_empty=False)(_sample())
    # instance 1: no visible keypoint; 2: width 1 is not > 1; 3: kept (2 x 2 box)
    np.testing.assert_array_equal(out["bbox"], [[0, 0, 10, 10], [5, 5, 7, 7]])
    for key in ("keypoints", "keypoints_visible", "area", "bbox_score", "category_id"):
        assert len(out[key]) == 2, key
    out = PoseInstanceFilter(min_kpt_vis=2)(_sample())
    assert len(out["keypoints"]) == 2


def test_filter_empty_results():
    sample = _sample()
    sample["keypoints_visible"][:] = 0
    assert PoseInstanceFilter(keep_empty=True)(sample) is None
    out = PoseInstanceFilter(keep_empty=False)(_sample() | dict(keypoints_visible=np.zeros((4, 3), np.float32)))
    assert out is not None and len(out["keypoints"]) == 0 and out["bbox"].shape == (0, 4)  # a negative sample
    empty = synthetic_sample(np.zeros((0, 3, 2), np.float32), np.zeros((0, 3)))
    assert PoseInstanceFilter(keep_empty=True)(empty) is empty
    with pytest.raises(ValueError, match="at least one"):
        PoseInstanceFilter(by_kpt=False)
