"""PoseHorizontalFlip: pixels and keypoints mirror together, left/right joints swap their labels."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtmo_plugin.datasets.transforms import PoseHorizontalFlip

from .helpers import COCO_FLIP_INDICES, find_marker, marker_colour, synthetic_sample
from .strategies import keypoint_sets

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)


@SETTINGS
@given(kp=keypoint_sets(num_keypoints=4), perm=st.permutations([0, 1, 2, 3]))
def test_marker_of_partner_is_found_at_flipped_keypoint(kp, perm):
    keypoints, visible = kp
    # an involution: pair up (perm[0], perm[1]) and (perm[2], perm[3])
    flip = [0] * 4
    for a, b in ((perm[0], perm[1]), (perm[2], perm[3])):
        flip[a], flip[b] = b, a
    sample = synthetic_sample(keypoints, visible)
    sample["flip_indices"] = flip
    out = PoseHorizontalFlip(prob=1.0)(sample)
    assert out["flip"] and out["flip_direction"] == "horizontal"
    np.testing.assert_array_equal(out["keypoints_visible"], visible[:, flip])
    for n, j in zip(*np.nonzero(out["keypoints_visible"])):
        found = find_marker(out["img"], marker_colour(n, flip[j]))  # painted for the partner keypoint
        assert found is not None
        np.testing.assert_allclose(found, out["keypoints"][n, j], atol=1e-6)
    boxes = out["bbox"]
    assert (boxes[:, 2] >= boxes[:, 0]).all()


def test_left_right_semantics_with_coco_indices():
    """A person facing the camera has the left shoulder (5) at larger x than the right (6); so does the mirrored
    person (their left is now on the other side of the body), and the left shoulder lands where the right one
    was mirrored."""
    kpts = np.zeros((1, 17, 2), np.float32)
    kpts[0, :, 0] = np.linspace(20, 140, 17)
    kpts[0, 5], kpts[0, 6] = (100, 40), (60, 40)
    sample = synthetic_sample(kpts, np.ones((1, 17)))
    sample["flip_indices"] = COCO_FLIP_INDICES
    out = PoseHorizontalFlip(prob=1.0)(sample)
    assert out["keypoints"][0, 5, 0] > out["keypoints"][0, 6, 0]
    np.testing.assert_allclose(out["keypoints"][0, 5], (159 - 60, 40))
    np.testing.assert_allclose(out["keypoints"][0, 0], (159 - 20, 0))


def test_double_flip_is_identity_and_prob_zero_is_noop():
    kpts = np.array([[[10, 20], [30, 40], [50, 60], [70, 80]]], np.float32)
    sample = synthetic_sample(kpts, np.array([[1, 0, 1, 1]]))
    sample["flip_indices"] = [1, 0, 3, 2]
    before = {k: np.array(sample[k], copy=True) for k in ("img", "keypoints", "keypoints_visible", "bbox")}
    tf = PoseHorizontalFlip(prob=1.0)
    out = tf(tf(sample))
    for key, value in before.items():
        np.testing.assert_allclose(out[key], value, err_msg=key)
    out = PoseHorizontalFlip(prob=0.0)(sample)
    assert out["flip"] is False and out["flip_direction"] is None


@pytest.mark.parametrize("direction", ["vertical", "diagonal"])
def test_other_directions(direction):
    kpts = np.array([[[10, 20], [30, 40]]], np.float32)
    sample = synthetic_sample(kpts, np.ones((1, 2)))
    sample["flip_indices"] = [1, 0]
    out = PoseHorizontalFlip(prob=1.0, direction=direction)(sample)
    if direction == "vertical":
        np.testing.assert_allclose(out["keypoints"][0], [[30, 119 - 40], [10, 119 - 20]])
    else:  # diagonal: both axes, no semantic swap
        np.testing.assert_allclose(out["keypoints"][0], [[159 - 10, 119 - 20], [159 - 30, 119 - 40]])


def test_empty_and_errors():
    empty = synthetic_sample(np.zeros((0, 17, 2), np.float32), np.zeros((0, 17)))
    empty["flip_indices"] = COCO_FLIP_INDICES
    out = PoseHorizontalFlip(prob=1.0)(empty)
    assert out["keypoints"].shape == (0, 17, 2) and out["bbox"].shape == (0, 4)
    bad = synthetic_sample(np.zeros((1, 3, 2), np.float32), np.ones((1, 3)))
    bad["flip_indices"] = [0, 1]
    with pytest.raises(ValueError, match="flip_indices"):
        PoseHorizontalFlip(prob=1.0)(bad)
    with pytest.raises(ValueError, match="direction"):
        PoseHorizontalFlip(direction="sideways")


def test_visibility_with_weights_channel():
    """(N, K, 2) visibility (flag, weight) is permuted as a whole; the flag channel drives clipping/filtering."""
    from rtmo_plugin.datasets.transforms import PoseInstanceFilter, PoseRandomAffine

    kpts = np.array([[[10, 20], [30, 40], [500, 40]]], np.float32)
    vis = np.stack([np.ones((1, 3)), np.array([[0.2, 0.5, 0.9]])], -1).astype(np.float32)
    sample = synthetic_sample(kpts, np.ones((1, 3)))
    sample["keypoints_visible"] = vis.copy()
    sample["flip_indices"] = [1, 0, 2]
    out = PoseHorizontalFlip(prob=1.0)(sample)
    np.testing.assert_allclose(out["keypoints_visible"][0], vis[0][[1, 0, 2]])
    out = PoseRandomAffine(input_size=(160, 120), shift_prob=0, rotate_prob=0, scale_prob=0, scale_type="long",
                           clip_border=True, bbox_keep_corner=False)(out)
    assert out["keypoints_visible"].shape == (1, 3, 2)
    np.testing.assert_allclose(out["keypoints_visible"][0, :, 0], [1, 1, 0])  # x = 500 left the canvas
    np.testing.assert_allclose(out["keypoints_visible"][0, :, 1], [0.5, 0.2, 0.9])  # weights untouched
    out = PoseInstanceFilter(min_kpt_vis=3)(out)
    assert out is None
