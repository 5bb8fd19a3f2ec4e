"""The Halpe-26 keypoint set of the synthetic generator: same figures as COCO-17 for a seed, 9 more points."""
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from rtmo_plugin.datasets.synthetic import SyntheticConfig, generate_split, render_image
from rtmo_plugin.datasets.synthetic.halpe26 import HALPE26_KEYPOINT_NAMES, HALPE26_METAINFO, HALPE26_SKELETON_1BASED


def test_coco17_output_is_unchanged() -> None:
    """sha256 of 6 COCO-17 images and their annotations, as drawn before the Halpe-26 set was added (commit
    b23961f); tied to the pinned numpy / OpenCV of requirements/constraints.txt."""
    h = hashlib.sha256()
    for i in range(6):
        img, anns = render_image(np.random.default_rng([0, 1, i]), SyntheticConfig())
        h.update(img.tobytes())
        h.update(json.dumps(anns, sort_keys=True).encode())
    assert h.hexdigest() == "f3e25525de0c77e6449964c06ca8f91f91b82210e77bce1e30946bc349d41dad"


def test_same_seed_same_people_and_first_17_points() -> None:
    same = 0
    for i in range(12):
        _, coco = render_image(np.random.default_rng([0, 0, i]), SyntheticConfig())
        _, halpe = render_image(np.random.default_rng([0, 0, i]), SyntheticConfig(), keypoint_set="halpe26")
        if len(coco) != len(halpe):  # a person at the visibility threshold can gain it through its painted shoes
            continue
        same += 1
        for a, b in zip(coco, halpe):
            ka, kb = np.array(a["keypoints"]).reshape(17, 3), np.array(b["keypoints"]).reshape(26, 3)
            labelled = (ka[:, 2] > 0) & (kb[:17, 2] > 0)
            np.testing.assert_array_equal(ka[labelled, :2], kb[:17][labelled, :2])
    assert same >= 10


def test_names_and_skeleton_match_mmpose_halpe26_metainfo() -> None:
    from rtmo_plugin.datasets.metainfo_check import load_checked_metainfo

    meta = load_checked_metainfo(HALPE26_METAINFO)
    assert [meta["keypoint_id2name"][i] for i in range(26)] == list(HALPE26_KEYPOINT_NAMES)
    assert all(1 <= a <= 26 and 1 <= b <= 26 for a, b in HALPE26_SKELETON_1BASED)


def test_added_points_geometry_and_sides() -> None:
    rows = []
    for i in range(30):
        _, anns = render_image(np.random.default_rng([3, 0, i]), SyntheticConfig(), keypoint_set="halpe26")
        rows += [np.array(a["keypoints"]).reshape(26, 3) for a in anns]
    k = np.stack(rows)
    full = k[(k[:, :, 2] > 0).all(1)]
    assert len(full) >= 10
    np.testing.assert_allclose(full[:, 18, :2], (full[:, 5, :2] + full[:, 6, :2]) / 2, atol=0.02)  # neck
    np.testing.assert_allclose(full[:, 19, :2], (full[:, 11, :2] + full[:, 12, :2]) / 2, atol=0.02)  # pelvis
    assert (full[:, 17, 1] < full[:, 0, 1]).mean() > 0.9  # head top above the nose
    assert (full[:, 24, 1] > full[:, 15, 1]).mean() > 0.9  # the heel below the ankle
    for left, right in ((20, 21), (22, 23), (24, 25)):  # the person's left is on the image right
        assert (full[:, left, 0] > full[:, right, 0]).mean() > 0.8
    assert (k[:, 17:, 2] == 2).mean() > 0.5  # the added points are mostly visible


def test_split_loads_in_mmpose_with_halpe26_metainfo(tmp_path: Path) -> None:
    from mmpose.datasets import CocoDataset

    ann = generate_split(tmp_path, "val", 3, seed=0, progress=False, keypoint_set="halpe26")
    cats = json.loads(ann.read_text())["categories"][0]
    assert cats["keypoints"] == list(HALPE26_KEYPOINT_NAMES)
    ds = CocoDataset(data_root=str(tmp_path), ann_file="annotations/val.json", data_prefix=dict(img="val/"),
                     data_mode="bottomup", metainfo=dict(from_file=HALPE26_METAINFO), test_mode=True, pipeline=[])
    assert ds[0]["keypoints"].shape[1:] == (26, 2)
    with pytest.raises(ValueError, match="keypoint_set"):
        generate_split(tmp_path, "val", 1, progress=False, keypoint_set="mpii")
