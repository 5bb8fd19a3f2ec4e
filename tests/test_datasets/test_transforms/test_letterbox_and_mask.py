"""PoseLetterboxResize (test-time meta) and PoseHeatmapMaskFromInvalid (stage-2 invalid-instance mask)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtmo_plugin.datasets.transforms import PoseHeatmapMaskFromInvalid, PoseLetterboxResize, PoseRandomAffine

from .helpers import find_marker, marker_colour, synthetic_sample

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True)


@SETTINGS
@given(w=st.integers(30, 700), h=st.integers(30, 700))
def test_letterbox_meta_and_marker(w, h):
    kpts = np.array([[[w // 2, h // 2]]], np.float32)
    sample = synthetic_sample(kpts, np.ones((1, 1)), size=(w, h))
    out = PoseLetterboxResize(input_size=(640, 640), pad_val=(114, 114, 114), transform_annotations=True)(sample)
    assert out["img"].shape == (640, 640, 3) and out["img_shape"] == (640, 640)
    np.testing.assert_allclose(out["input_center"], (w / 2, h / 2))
    np.testing.assert_allclose(out["input_scale"], (max(w, h), max(w, h)), rtol=1e-5)
    # the centred image: padding on the short side only, split evenly
    if w > h + 2:
        assert (out["img"][:5] == 114).all() and (out["img"][-5:] == 114).all()
    found = find_marker(out["img"], marker_colour(0, 0), tol=4)
    assert found is not None
    assert np.abs(found - out["keypoints"][0, 0]).max() <= 640 / max(w, h) + 1.0


def test_letterbox_bad_size():
    with pytest.raises(ValueError, match="multiple"):
        PoseLetterboxResize(input_size=(630, 640))(synthetic_sample(np.zeros((0, 1, 2)), np.zeros((0, 1))))


def _square_sample(flip):
    sample = synthetic_sample(np.zeros((0, 1, 2), np.float32), np.zeros((0, 1)), size=(200, 100))
    sample["invalid_segs"] = [[[20.0, 20.0, 60.0, 20.0, 60.0, 60.0, 20.0, 60.0]]]
    sample = PoseRandomAffine(input_size=(400, 400), shift_prob=0, rotate_prob=0, scale_prob=0, scale_type="long",
                              bbox_keep_corner=False, clip_border=True)(sample)
    sample["flip"], sample["flip_direction"] = flip, ("horizontal" if flip else None)
    return sample


@pytest.mark.parametrize("flip", [False, True])
def test_mask_of_warped_polygon(flip):
    out = PoseHeatmapMaskFromInvalid(get_invalid=True)(_square_sample(flip))
    mask = out["heatmap_mask"]
    assert mask.shape == (400, 400) and mask.dtype == bool
    ys, xs = np.nonzero(mask)
    # square [20, 60]^2 -> x2 scale, y offset 100 -> [40, 120] x [140, 220] (pixel centres 39.5 .. 119.5)
    x_lo, x_hi = (400 - 1 - 119.5, 400 - 1 - 39.5) if flip else (39.5, 119.5)
    assert abs(xs.min() - x_lo) <= 1 and abs(xs.max() - x_hi) <= 1
    assert abs(ys.min() - 139.5) <= 1 and abs(ys.max() - 219.5) <= 1
    valid = PoseHeatmapMaskFromInvalid(get_invalid=False)(_square_sample(flip))["heatmap_mask"]
    assert np.array_equal(valid, ~mask)


def test_mask_rle_and_empty_and_errors():
    sample = _square_sample(False)
    rle = {"size": [100, 200], "counts": [2000, 50, 17950]}  # column-major runs: columns 20.., rows 0..49
    sample["invalid_segs"] = [rle]
    mask = PoseHeatmapMaskFromInvalid(get_invalid=True)(dict(sample))["heatmap_mask"]
    assert mask.any()
    assert not PoseHeatmapMaskFromInvalid(get_invalid=True, include_rle=False)(dict(sample))["heatmap_mask"].any()
    sample["invalid_segs"] = []
    assert not PoseHeatmapMaskFromInvalid(get_invalid=True)(dict(sample))["heatmap_mask"].any()
    sample["invalid_segs"] = [None]  # an instance without segmentation (CrowdPose): nothing to mask
    assert not PoseHeatmapMaskFromInvalid(get_invalid=True)(dict(sample))["heatmap_mask"].any()
    sample["invalid_segs"] = [None, rle]
    assert np.array_equal(PoseHeatmapMaskFromInvalid(get_invalid=True)(dict(sample))["heatmap_mask"], mask)
    sample["invalid_segs"] = [3.0]
    with pytest.raises(ValueError, match="invalid_segs\\[0\\]"):
        PoseHeatmapMaskFromInvalid(get_invalid=True)(dict(sample))


def test_crowdpose_stage2_pipeline_runs_on_crowdpose_annotations(shared_data, repo_root):
    """CrowdPose has no segmentations: its invalid instances reach the mask as None (crowdpose_mini has some)."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpose.registry import DATASETS

    init_default_scope("mmpose")
    cfg = Config.fromfile(str(repo_root / "configs" / "rtmo-s_8xb32-700e_crowdpose.py"))
    dataset = dict(cfg.train_dataloader.dataset, data_root=str(shared_data / "crowdpose_mini") + "/",
                   ann_file="test_crowdpose.json", data_prefix=dict(img="."),
                   pipeline=cfg.custom_hooks[0]["new_train_pipeline"])
    built = DATASETS.build(dataset)
    raw = [built.get_data_info(i) for i in range(len(built))]
    assert any(None in info["invalid_segs"] for info in raw), "the sample should hold an instance without keypoints"
    for i in range(len(built)):
        sample = built[i]
        assert sample["inputs"].shape[-2:] == (640, 640)
