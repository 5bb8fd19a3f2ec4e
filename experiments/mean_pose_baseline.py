"""A pose-blind reference for keypoint AP: the training set's average pose placed in each ground-truth box.

The average is the per-coordinate median of the box-relative poses (robust to the odd extreme pose).

It tells how much of a split's keypoint AP a model could get from finding people alone. It gets the ground-truth
boxes (a detector would do worse), a score of 1 for every person, and one fixed pose per box. The synthetic figures
draw every arm and leg angle over a wide range, so a fixed pose lands few of their keypoints: on the demo's val split
it scores keypoint AP 0.003 (data version 2) and 0.004 (version 3), and the demo's AP has to come from reading each
pose.
"""
import json
from pathlib import Path
from typing import Dict, List

import numpy as np

from rtmo_plugin.evaluation import coco_ap


def _person_keypoints(ann: dict) -> np.ndarray:
    """(K, 3) keypoints (x, y, v) of one COCO annotation."""
    return np.asarray(ann["keypoints"], dtype=np.float64).reshape(-1, 3)


def mean_box_pose(ann_file: Path) -> np.ndarray:
    """Median pose of the fully labelled people of a split, in box-relative coordinates.

    Args:
        ann_file: COCO keypoint annotation json.

    Returns:
        np.ndarray: (K, 2) keypoints, each ``((x - box_x) / box_w, (y - box_y) / box_h)``.

    Raises:
        ValueError: no annotation in ``ann_file`` has every keypoint labelled and a box of positive size.
    """
    poses = []
    for ann in json.loads(Path(ann_file).read_text())["annotations"]:
        kpts = _person_keypoints(ann)
        x, y, w, h = ann["bbox"]
        if (kpts[:, 2] > 0).all() and w > 0 and h > 0:
            poses.append((kpts[:, :2] - (x, y)) / (w, h))
    if not poses:
        raise ValueError(f"{ann_file}: no annotation has all keypoints labelled (v > 0) and a non-empty 'bbox'; "
                         "the mean pose needs at least one")
    return np.median(np.stack(poses), axis=0)


def mean_pose_results(ann_file: Path, pose: np.ndarray) -> List[dict]:
    """COCO results that put ``pose`` into every ground-truth box of ``ann_file`` (score 1, keypoint scores 1).

    Args:
        ann_file: COCO keypoint annotation json of the split to score.
        pose: (K, 2) box-relative pose (see :func:`mean_box_pose`).

    Returns:
        list[dict]: one ``image_id, category_id, bbox, keypoints, score`` result per annotation.
    """
    results = []
    for ann in json.loads(Path(ann_file).read_text())["annotations"]:
        x, y, w, h = ann["bbox"]
        kpts = pose * (w, h) + (x, y)
        kpts3 = np.concatenate([kpts, np.ones((len(kpts), 1))], axis=1)
        results.append(dict(image_id=ann["image_id"], category_id=ann.get("category_id", 1), score=1.0,
                            bbox=[float(v) for v in ann["bbox"]], keypoints=[float(v) for v in kpts3.reshape(-1)]))
    return results


def mean_pose_ap(train_ann_file: Path, val_ann_file: Path) -> Dict[str, float]:
    """Keypoint AP/AP50/AP75/AR on ``val_ann_file`` of the mean pose of ``train_ann_file`` in the true boxes."""
    return coco_ap(val_ann_file, mean_pose_results(val_ann_file, mean_box_pose(train_ann_file)))
