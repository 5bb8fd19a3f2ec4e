"""Keypoint AP on keypoint subsets (experiments.keypoint_subset_ap)."""
import json
from pathlib import Path

import numpy as np

from experiments.keypoint_subset_ap import SubsetKeypointScore, subset_annotations
from rtmo_plugin.datasets.synthetic import generate_split


def perfect_results(data: dict, k: int, spoil: slice = slice(0, 0)) -> list:
    out = []
    for ann in data["annotations"]:
        kpts = np.array(ann["keypoints"], dtype=np.float64).reshape(-1, 3)[:k].copy()
        kpts[spoil, :2] += 40.0  # far off
        kpts[:, 2] = 1.0
        out.append(dict(image_id=ann["image_id"], category_id=1, keypoints=kpts.reshape(-1).tolist(), score=1.0,
                        bbox=ann["bbox"]))
    return out


def test_subset_ap_isolates_the_spoilt_keypoints(tmp_path: Path) -> None:
    ann = generate_split(tmp_path, "val", 6, seed=0, progress=False, keypoint_set="halpe26")
    data = json.loads(ann.read_text())
    score = SubsetKeypointScore(ann, [0.05] * 26, {"all": range(26), "shared17": range(17), "new9": range(17, 26)})
    good = score(perfect_results(data, 26))
    assert good["kpt AP all"] == good["kpt AP shared17"] == good["kpt AP new9"] == 1.0
    spoilt = score(perfect_results(data, 26, spoil=slice(17, 26)))
    assert spoilt["kpt AP shared17"] == 1.0 and spoilt["kpt AP new9"] < 0.1
    only17 = score(perfect_results(data, 17))  # a 17-keypoint model: scored on the subsets it covers
    assert set(only17) == {"kpt AP shared17", "box AP"} and only17["kpt AP shared17"] == 1.0


def test_subset_annotations_recount_labelled_points() -> None:
    data = dict(images=[], categories=[dict(id=1, keypoints=["a", "b", "c"], skeleton=[[1, 2]])],
                annotations=[dict(id=1, keypoints=[1, 1, 2, 0, 0, 0, 3, 3, 1], num_keypoints=2)])
    sub = subset_annotations(data, [1, 2])
    assert sub["annotations"][0]["num_keypoints"] == 1 and sub["categories"][0]["keypoints"] == ["b", "c"]
