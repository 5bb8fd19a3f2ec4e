"""AP per crowd size: grouping images by people count, and AP per group from the same results."""
import json
from pathlib import Path

import pytest

from experiments.crowd_breakdown import ap_by_people_count, images_by_people_count
from rtmo_plugin.datasets.synthetic.generator import SyntheticConfig, generate_split


def _truth_as_results(data: dict) -> list:
    return [dict(image_id=a["image_id"], category_id=1, bbox=a["bbox"], keypoints=a["keypoints"], score=1.0)
            for a in data["annotations"]]


def test_groups_and_perfect_results_score_one_everywhere(tmp_path: Path) -> None:
    ann_file = generate_split(tmp_path, "val", 12, seed=2, cfg=SyntheticConfig(max_people=3), progress=False)
    data = json.loads(ann_file.read_text())
    groups = images_by_people_count(data)
    assert sum(len(v) for v in groups.values()) == 12 and len(groups) >= 2
    report = ap_by_people_count(ann_file, _truth_as_results(data))
    assert set(report) == {str(n) for n in groups if n > 0}
    for n, row in report.items():
        assert row["images"] == len(groups[int(n)]) and row["people"] == int(n) * row["images"]
        assert row["kpt_AP"] == pytest.approx(1.0) and row["box_AP"] == pytest.approx(1.0)


def test_a_wrong_group_scores_below_the_others(tmp_path: Path) -> None:
    ann_file = generate_split(tmp_path, "val", 12, seed=2, cfg=SyntheticConfig(max_people=3), progress=False)
    data = json.loads(ann_file.read_text())
    groups = images_by_people_count(data)
    worst = max(n for n in groups if n > 0)
    results = _truth_as_results(data)
    for r in results:  # shift every keypoint of the most crowded images by 30 px
        if r["image_id"] in set(groups[worst]):
            r["keypoints"] = [v + 30 if i % 3 != 2 else v for i, v in enumerate(r["keypoints"])]
    report = ap_by_people_count(ann_file, results)
    assert report[str(worst)]["kpt_AP"] < 0.2 and report[str(worst)]["box_AP"] == pytest.approx(1.0)
    assert all(row["kpt_AP"] == pytest.approx(1.0) for n, row in report.items() if n != str(worst))


def test_an_annotation_of_a_missing_image_is_named() -> None:
    data = dict(images=[dict(id=1)], annotations=[dict(id=7, image_id=2)])
    with pytest.raises(ValueError, match="annotation 7 refers to image_id 2"):
        images_by_people_count(data)
