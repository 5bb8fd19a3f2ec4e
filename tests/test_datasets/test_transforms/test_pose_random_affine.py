"""PoseRandomAffine: markers move with their keypoints, boxes hold their keypoints, degenerate inputs are safe."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtmo_plugin.datasets.transforms import PoseRandomAffine
from rtmo_plugin.datasets.transforms.instance_ops import warp_points

from .helpers import find_marker, marker_colour, synthetic_sample
from .strategies import keypoint_sets

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)


def make_affine(mode="perspective", size=(160, 120)):
    if mode == "perspective":
        return PoseRandomAffine(input_size=size, shift_factor=0.1, rotate_factor=10, scale_factor=(0.75, 1.0),
                                pad_val=114, distribution="uniform", transform_mode="perspective",
                                bbox_keep_corner=False, clip_border=True)
    return PoseRandomAffine(input_size=size, scale_type="long", pad_val=114, bbox_keep_corner=False,
                            clip_border=True, transform_mode=mode)


@SETTINGS
@given(kp=keypoint_sets(), seed=st.integers(0, 2**31 - 1), mode=st.sampled_from(["perspective", "affine"]))
def test_markers_follow_keypoints(kp, seed, mode):
    keypoints, visible = kp
    sample = synthetic_sample(keypoints, visible)
    np.random.seed(seed)
    out = make_affine(mode)(sample)
    assert out["img"].shape == (120, 160, 3) and out["img_shape"] == (120, 160)
    assert np.isfinite(out["keypoints"]).all() and np.isfinite(out["bbox"]).all()
    # invisible stays invisible
    assert not (out["keypoints_visible"][visible == 0]).any()
    for n, k in zip(*np.nonzero(out["keypoints_visible"])):
        x, y = out["keypoints"][n, k]
        if not (4 <= x <= 155 and 4 <= y <= 115):
            continue  # marker partly cut by the border
        found = find_marker(out["img"], marker_colour(n, k))
        assert found is not None, f"marker {n},{k} lost"
        assert np.abs(found - (x, y)).max() <= 1.0, (found, (x, y))


@SETTINGS
@given(kp=keypoint_sets(max_instances=4), seed=st.integers(0, 2**31 - 1))
def test_boxes_contain_visible_keypoints(kp, seed):
    keypoints, visible = kp
    sample = synthetic_sample(keypoints, visible)
    np.random.seed(seed)
    out = make_affine()(sample)
    boxes, kpts, vis = out["bbox"], out["keypoints"], out["keypoints_visible"] > 0
    assert (boxes[:, 2] >= boxes[:, 0]).all() and (boxes[:, 3] >= boxes[:, 1]).all()
    assert (boxes >= 0).all() and (boxes[:, 0::2] <= 160).all() and (boxes[:, 1::2] <= 120).all()
    for n, k in zip(*np.nonzero(vis)):
        x, y = kpts[n, k]
        assert boxes[n, 0] - 1e-3 <= x <= boxes[n, 2] + 1e-3 and boxes[n, 1] - 1e-3 <= y <= boxes[n, 3] + 1e-3


def test_area_scales_with_determinant():
    sample = synthetic_sample(np.array([[[50, 50], [60, 70]]], np.float32), np.ones((1, 2)))
    before = sample["keypoints"].copy()
    np.random.seed(3)
    out = make_affine()(sample)
    det = np.linalg.det(out["warp_mat"].astype(np.float64))
    np.testing.assert_allclose(out["area"], 100.0 * det, rtol=1e-5)
    np.testing.assert_allclose(out["keypoints"], warp_points(before, out["warp_mat"]), atol=1e-4)


@pytest.mark.parametrize("mode", ["perspective", "affine", "affine_udp"])
def test_degenerate_inputs_do_not_crash(mode):
    tf = make_affine(mode)
    empty = synthetic_sample(np.zeros((0, 4, 2), np.float32), np.zeros((0, 4)))
    out = tf(empty)
    assert out["keypoints"].shape == (0, 4, 2) and out["bbox"].shape == (0, 4) and out["area"].shape == (0,)
    # one-pixel box, keypoints exactly on the border and at the corners
    kpts = np.array([[[0, 0], [159, 119], [160, 120], [80, 60]]], np.float32)
    one = synthetic_sample(kpts, np.ones((1, 4)), bbox=[[80, 60, 81, 61]])
    for seed in range(5):
        np.random.seed(seed)
        res = tf(dict(one))
        for key in ("keypoints", "bbox", "area", "warp_mat"):
            assert np.isfinite(res[key]).all(), key


def test_letterbox_mode_is_centred_and_undistorted():
    """probs 0 + scale_type long: whole image, long side -> output, centred (stage 2 of RTMO t/s)."""
    tf = PoseRandomAffine(input_size=(640, 640), shift_prob=0, rotate_prob=0, scale_prob=0, scale_type="long",
                          pad_val=114, bbox_keep_corner=False, clip_border=True)
    sample = synthetic_sample(np.array([[[0, 0], [320, 240], [639, 479]]], np.float32), np.ones((1, 3)),
                              size=(640, 480))
    out = tf(sample)
    np.testing.assert_allclose(out["keypoints"][0], [[0, 80], [320, 320], [639, 559]], atol=1e-4)
    assert (out["img"][:80] == 114).all() and (out["img"][560:] == 114).all()


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="transform_mode"):
        PoseRandomAffine(input_size=(64, 64), transform_mode="warp")
    with pytest.raises(ValueError, match="input_size"):
        PoseRandomAffine()
    with pytest.raises(ValueError, match="distribution"):
        PoseRandomAffine(input_size=(64, 64), distribution="normal")
