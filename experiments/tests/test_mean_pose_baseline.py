"""The pose-blind reference: the training set's mean pose in each ground-truth box."""
import json
from pathlib import Path

import numpy as np
import pytest

from experiments.mean_pose_baseline import mean_box_pose, mean_pose_ap, mean_pose_results
from rtmo_plugin.datasets.synthetic import generate_split


def _write_people(path: Path, poses: list) -> Path:
    """A COCO file with one image per pose; each pose (17, 2) box-relative, placed in a 100 x 200 box at (10, 20)."""
    images, anns = [], []
    for i, pose in enumerate(poses):
        kpts = np.asarray(pose) * (100, 200) + (10, 20)
        images.append(dict(id=i + 1, file_name=f"{i}.jpg", width=300, height=300))
        anns.append(dict(id=i + 1, image_id=i + 1, category_id=1, iscrowd=0, bbox=[10, 20, 100, 200], area=8000,
                         num_keypoints=17,
                         keypoints=np.concatenate([kpts, np.full((17, 1), 2)], axis=1).reshape(-1).tolist()))
    path.write_text(json.dumps(dict(images=images, annotations=anns,
                                    categories=[dict(id=1, name="person")])))
    return path


def test_one_shared_pose_is_recovered_and_scores_one(tmp_path: Path) -> None:
    pose = np.random.default_rng(0).uniform(0.05, 0.95, size=(17, 2))
    ann = _write_people(tmp_path / "same.json", [pose, pose, pose])
    np.testing.assert_allclose(mean_box_pose(ann), pose, atol=1e-9)
    results = mean_pose_results(ann, pose)
    assert len(results) == 3 and all(r["score"] == 1.0 for r in results)
    assert mean_pose_ap(ann, ann)["AP"] == pytest.approx(1.0)


def test_median_ignores_people_with_unlabelled_keypoints(tmp_path: Path) -> None:
    pose = np.full((17, 2), 0.5)
    ann = _write_people(tmp_path / "mixed.json", [pose, pose, np.zeros((17, 2))])
    data = json.loads(ann.read_text())
    data["annotations"][2]["keypoints"][2] = 0  # first keypoint of the odd person unlabelled: not counted
    ann.write_text(json.dumps(data))
    np.testing.assert_allclose(mean_box_pose(ann), pose)


def test_varied_synthetic_poses_are_not_solved_by_the_mean_pose(tmp_path: Path) -> None:
    train = generate_split(tmp_path, "train", 12, seed=1, progress=False)
    val = generate_split(tmp_path, "val", 6, seed=1, progress=False)
    ap = mean_pose_ap(train, val)
    assert 0.0 <= ap["AP"] < 0.2, ap


def test_no_fully_labelled_person_is_a_clear_error(tmp_path: Path) -> None:
    ann = _write_people(tmp_path / "partial.json", [np.full((17, 2), 0.5)])
    data = json.loads(ann.read_text())
    data["annotations"][0]["keypoints"][2] = 0
    ann.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="partial.json.*all keypoints labelled"):
        mean_box_pose(ann)
