"""PoseMosaic and PoseMixUp on synthetic datasets: every visible keypoint keeps its marker."""
import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtmo_plugin.datasets.transforms import PoseMixUp, PoseMosaic

from .helpers import find_marker, synthetic_sample
from .strategies import keypoint_sets

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True)
SIZE = (80, 60)  # (W, H) of every synthetic image = the tile size, so tiles are pasted 1:1


class ListDataset:
    """The two methods the mixed-image transforms use."""

    def __init__(self, samples):
        self.samples = samples

    def __len__(self):
        return len(self.samples)

    def get_data_info(self, index):
        return copy.deepcopy(self.samples[index])


def colour(image_index, n, k):
    return (30 + 40 * k, 30 + 50 * n, 60 + 45 * image_index)


def painted(image_index, keypoints, visible):
    sample = synthetic_sample(keypoints, visible, size=SIZE)
    sample["img"][:] = 128
    for n, k in zip(*np.nonzero(visible)):
        x, y = keypoints[n, k].astype(int)
        sample["img"][y - 1:y + 2, x - 1:x + 2] = colour(image_index, n, k)
    sample["image_index"] = np.full(len(keypoints), image_index)
    return sample


def sets():
    return keypoint_sets(size=SIZE, max_instances=2, num_keypoints=3, margin=5)


@SETTINGS
@given(kps=st.lists(sets(), min_size=4, max_size=4), seed=st.integers(0, 2**31 - 1))
def test_mosaic_markers_and_boxes(kps, seed):
    samples = [painted(i, *kp) for i, kp in enumerate(kps)]
    dataset = ListDataset(samples[1:])
    results = copy.deepcopy(samples[0])
    results["dataset"] = dataset
    np.random.seed(seed)
    center_draws = np.random.get_state()
    out = PoseMosaic(img_scale=SIZE)(results)
    assert out["img"].shape == (120, 160, 3) and out["dataset"] is dataset
    # which source image each output instance came from: current image, then the three drawn indices
    np.random.set_state(center_draws)
    np.random.uniform(0, 1)
    drawn = [np.random.randint(0, 3) + 1 for _ in range(3)]
    tiles = [0] + drawn
    n_total = sum(len(kps[i][0]) for i in tiles)
    assert len(out["keypoints"]) == len(out["bbox"]) == len(out["area"]) == n_total
    sources = np.concatenate([np.full(len(kps[i][0]), i) for i in [0] + drawn])
    local = np.concatenate([np.arange(len(kps[i][0])) for i in [0] + drawn])
    for row, k in zip(*np.nonzero(out["keypoints_visible"])):
        x, y = out["keypoints"][row, k]
        if not (1 <= x <= 158 and 1 <= y <= 118) or tiles.count(sources[row]) > 1:
            continue  # cut by the border, or the same image pasted twice (its colours are not unique)
        found = find_marker(out["img"], colour(sources[row], local[row], k), tol=0)
        assert found is not None, f"marker of instance {row} keypoint {k} lost"
        assert np.abs(found - (x, y)).max() <= 1.0
    assert (out["bbox"] >= 0).all() and (out["bbox"][:, 0::2] <= 160).all() and (out["bbox"][:, 1::2] <= 120).all()
    assert not out["keypoints_visible"][
        (out["keypoints"][..., 0] < 0) | (out["keypoints"][..., 0] > 160) |
        (out["keypoints"][..., 1] < 0) | (out["keypoints"][..., 1] > 120)].any()


@SETTINGS
@given(main=sets(), aux=sets(), seed=st.integers(0, 2**31 - 1))
def test_mixup_markers_invisible_and_boxes(main, aux, seed):
    results = painted(0, *main)
    results["img"][:] = 0  # main image black: the blend shows the aux markers at half intensity
    results["keypoints_visible"][:] = 0
    dataset = ListDataset([painted(1, *aux)])
    results["dataset"] = dataset
    np.random.seed(seed)
    out = PoseMixUp(img_scale=SIZE, ratio_range=(1.0, 1.0), flip_ratio=0.5)(results)
    assert out["img"].shape == (60, 80, 3) and out["img"].dtype == np.uint8
    if len(aux[0]) == 0:
        assert len(out["keypoints"]) == len(main[0])  # nothing to mix in
        return
    n_main = len(main[0])
    assert len(out["keypoints"]) == n_main + len(aux[0])
    assert not out["keypoints_visible"][:n_main].any(), "main invisible keypoints must stay invisible"
    vis_aux = out["keypoints_visible"][n_main:]
    assert not vis_aux[aux[1] == 0].any(), "aux invisible keypoints must stay invisible"
    for n, k in zip(*np.nonzero(vis_aux)):
        x, y = out["keypoints"][n_main + n, k]
        if not (1 <= x <= 78 and 1 <= y <= 58):
            continue
        # a flip swaps nothing here (identity flip_indices), so keypoint k keeps marker k
        found = find_marker(out["img"], tuple(c // 2 for c in colour(1, n, k)), tol=1)
        assert found is not None and np.abs(found - (x, y)).max() <= 1.0, (found, (x, y))


def test_missing_dataset_is_a_clear_error():
    sample = synthetic_sample(np.zeros((1, 3, 2), np.float32), np.ones((1, 3)))
    with pytest.raises(KeyError, match="dataset"):
        PoseMosaic(img_scale=SIZE)(sample)
    with pytest.raises(KeyError, match="dataset"):
        PoseMixUp(img_scale=SIZE)(sample)


def test_prob_zero_returns_input():
    sample = synthetic_sample(np.zeros((1, 3, 2), np.float32), np.ones((1, 3)))
    img = sample["img"]
    assert PoseMosaic(prob=0.0)(sample)["img"] is img
    assert PoseMixUp(prob=0.0)(sample)["img"] is img
