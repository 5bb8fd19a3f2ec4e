"""Per-keypoint errors and the perfect-keypoints AP of a set of COCO results."""
import json
from pathlib import Path

import numpy as np
import pytest

from experiments.keypoint_errors import COCO_TOLERANCE, box_iou_xywh, keypoint_error_report
from rtmo_plugin.evaluation import coco_ap

AREA = 6400.0  # sqrt(area) = 80 px


def _truth(tmp_path: Path, n: int = 3) -> Path:
    """n images with one person each: a (17, 2) pose inside a 100 x 200 box at (10, 20)."""
    rng = np.random.default_rng(0)
    images, anns = [], []
    for i in range(n):
        kpts = rng.uniform(0.05, 0.95, size=(17, 2)) * (100, 200) + (10, 20)
        images.append(dict(id=i + 1, file_name=f"{i}.jpg", width=300, height=300))
        anns.append(dict(id=i + 1, image_id=i + 1, category_id=1, iscrowd=0, bbox=[10, 20, 100, 200], area=AREA,
                         num_keypoints=17,
                         keypoints=np.concatenate([kpts, np.full((17, 1), 2)], axis=1).reshape(-1).tolist()))
    path = tmp_path / "truth.json"
    path.write_text(json.dumps(dict(images=images, annotations=anns, categories=[dict(id=1, name="person")])))
    return path


def _as_results(ann_file: Path, shift: dict = None, bbox: list = None) -> list:
    """The truth as predictions, with keypoint index -> (dx, dy) pixel shifts and an optional other box."""
    results = []
    for ann in json.loads(ann_file.read_text())["annotations"]:
        kpts = np.asarray(ann["keypoints"], dtype=np.float64).reshape(17, 3)
        for k, d in (shift or {}).items():
            kpts[k, :2] += d
        results.append(dict(image_id=ann["image_id"], category_id=1, score=0.9, bbox=bbox or ann["bbox"],
                            keypoints=kpts.reshape(-1).tolist()))
    return results


def test_truth_as_predictions_has_no_error(tmp_path: Path) -> None:
    ann = _truth(tmp_path)
    report = keypoint_error_report(ann, _as_results(ann))
    assert report["people"] == report["found"] == 3
    assert report["oracle_kpt_AP"] == pytest.approx(1.0)
    assert max(report["median_error"].values()) == 0.0


def test_a_shifted_wrist_is_measured_in_sqrt_area_and_against_coco_tolerance(tmp_path: Path) -> None:
    ann = _truth(tmp_path)
    results = _as_results(ann, shift={9: (24.0, 32.0)})  # left wrist 40 px off = 0.5 sqrt(area)
    report = keypoint_error_report(ann, results)
    assert report["median_error"]["left_wrist"] == pytest.approx(0.5)
    assert report["error_over_tolerance"]["left_wrist"] == pytest.approx(0.5 / COCO_TOLERANCE[9])
    assert report["median_error"]["right_wrist"] == 0.0
    # the detections are right, so perfect keypoints on them score 1 while the model's own AP is lower
    assert report["oracle_kpt_AP"] == pytest.approx(1.0)
    assert coco_ap(ann, results)["AP"] < 1.0


def test_a_box_off_the_person_finds_nobody(tmp_path: Path) -> None:
    ann = _truth(tmp_path)
    results = _as_results(ann, bbox=[150, 20, 100, 200])  # IoU 0 with the truth's box
    report = keypoint_error_report(ann, results)
    assert report["found"] == 0
    assert all(np.isnan(v) for v in report["median_error"].values())


def test_box_iou() -> None:
    assert box_iou_xywh([0, 0, 10, 10], [0, 0, 10, 10]) == pytest.approx(1.0)
    assert box_iou_xywh([0, 0, 10, 10], [5, 0, 10, 10]) == pytest.approx(50 / 150)
    assert box_iou_xywh([0, 0, 10, 10], [20, 20, 5, 5]) == 0.0
    assert box_iou_xywh([0, 0, 0, 0], [0, 0, 0, 0]) == 0.0
