"""Drawing and COCO JSON output."""
import json

import numpy as np

from rtmo_plugin.apis import COCO17_SKELETON, PosePrediction, draw_poses, skeleton_from_meta, to_coco_results


def _one_person() -> PosePrediction:
    kpts = np.stack([np.linspace(20, 80, 17), np.linspace(10, 90, 17)], axis=1)[None].astype(np.float32)
    return PosePrediction(kpts, np.full((1, 17), 0.9, np.float32), np.array([[15, 5, 85, 95]], np.float32),
                          np.array([0.8], np.float32))


def test_draw_marks_keypoints_and_boxes_without_touching_input() -> None:
    img = np.zeros((100, 100, 3), np.uint8)
    pred = _one_person()
    out = draw_poses(img, pred, COCO17_SKELETON)
    assert img.sum() == 0, "input must not be modified"
    x, y = pred.keypoints[0, 5].round().astype(int)
    assert out[y, x].sum() > 0, "keypoint drawn"
    assert out[50, 15].sum() > 0, "box edge drawn"


def test_draw_survives_non_finite_and_low_scores() -> None:
    pred = _one_person()
    pred.keypoints[0, :3] = np.nan
    pred.keypoints[0, 3] = 1e12
    pred.keypoint_scores[0, 10:] = 0.0
    out = draw_poses(np.zeros((50, 50, 3), np.uint8), pred)
    assert out.shape == (50, 50, 3)


def test_skeleton_from_meta() -> None:
    assert skeleton_from_meta({"skeleton_links": [[0, 1]]}, 17) == [(0, 1)]
    assert skeleton_from_meta(None, 17) == COCO17_SKELETON
    assert skeleton_from_meta({}, 14) == ()


def test_coco_results_format() -> None:
    entries = to_coco_results(_one_person(), 785, extra=dict(file_name="000000000785.jpg"))
    (entry,) = json.loads(json.dumps(entries))
    assert entry["image_id"] == 785 and entry["category_id"] == 1 and entry["file_name"] == "000000000785.jpg"
    assert entry["bbox"] == [15.0, 5.0, 70.0, 90.0] and entry["score"] == 0.8
    kp = np.array(entry["keypoints"]).reshape(17, 3)
    np.testing.assert_allclose(kp[:, 2], 0.9, atol=1e-3)
