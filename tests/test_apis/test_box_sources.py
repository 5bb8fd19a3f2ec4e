"""RMPE person-box sources: detection files, ground truth (with jitter), RTMO; bad input names the file/field."""
import json
from collections import Counter

import numpy as np
import pytest

from rtmo_plugin.apis import DetectionFileBoxes, GroundTruthBoxes, RTMOBoxes, RTMOInferencer, box_source_from_spec

NAMES = ["000000000785.jpg", "000000196141.jpg"]


@pytest.fixture(scope="module")
def mini(shared_data):
    root = shared_data / "coco_mini"
    return root / "test_coco_det_AP_H_56.json", root / "test_coco.json"


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_detection_file_by_annotation_file_and_by_file_stem(mini) -> None:
    det_file, ann_file = mini
    entries = json.loads(det_file.read_text())
    counts = Counter(e["image_id"] for e in entries)
    images = [np.zeros((4, 4, 3), np.uint8)] * 2
    by_ann = DetectionFileBoxes(det_file, ann_file=ann_file)(images, names=NAMES)
    by_stem = DetectionFileBoxes(det_file)(images, names=[f"some/folder/{n}" for n in NAMES])
    assert [len(b) for b in by_ann] == [counts[785], counts[196141]]
    for a, b in zip(by_ann, by_stem):
        np.testing.assert_array_equal(a.bboxes, b.bboxes)
    first = next(e for e in entries if e["image_id"] == 785)
    x, y, w, h = first["bbox"]
    np.testing.assert_allclose(by_ann[0].bboxes[0], [x, y, x + w, y + h], rtol=1e-6)
    assert by_ann[0].scores[0] == pytest.approx(first["score"])
    assert by_ann[0].bboxes.dtype == np.float32 and by_ann[0].scores.shape == (counts[785],)


def test_detection_file_errors_name_the_file_and_field(mini, tmp_path) -> None:
    det_file, ann_file = mini
    with pytest.raises(FileNotFoundError, match="missing.json"):
        DetectionFileBoxes(tmp_path / "missing.json")
    bad_box = _write(tmp_path, "bad_box.json", [dict(image_id=1, bbox=[0, 0, 5, 5], score=0.9),
                                                dict(image_id=1, bbox=[0, 0, 5], score=0.9)])
    with pytest.raises(ValueError, match=r"bad_box.json: entry 1 .*'bbox'"):
        DetectionFileBoxes(bad_box)
    no_score = _write(tmp_path, "no_score.json", [dict(image_id=1, bbox=[0, 0, 5, 5])])
    with pytest.raises(ValueError, match=r"no_score.json: entry 0 .*'score'"):
        DetectionFileBoxes(no_score)
    no_id = _write(tmp_path, "no_id.json", [dict(bbox=[0, 0, 5, 5], score=1.0)])
    with pytest.raises(ValueError, match=r"no_id.json: entry 0 .*'image_id'"):
        DetectionFileBoxes(no_id)
    not_list = _write(tmp_path, "not_list.json", dict(image_id=1))
    with pytest.raises(ValueError, match="not_list.json"):
        DetectionFileBoxes(not_list)
    boxes = DetectionFileBoxes(det_file, ann_file=ann_file)
    with pytest.raises(KeyError, match=r"'unknown.jpg' is not in the images of .*test_coco.json"):
        boxes([np.zeros((4, 4, 3), np.uint8)], names=["unknown.jpg"])
    with pytest.raises(KeyError, match="numeric file stem"):
        DetectionFileBoxes(det_file)([np.zeros((4, 4, 3), np.uint8)], names=["frame_000001"])
    with pytest.raises(ValueError, match="names"):
        boxes([np.zeros((4, 4, 3), np.uint8)])
    no_images = _write(tmp_path, "no_images.json", dict(annotations=[]))
    with pytest.raises(ValueError, match="no_images.json: no 'images' list"):
        DetectionFileBoxes(det_file, ann_file=no_images)


def test_ground_truth_boxes_and_seeded_jitter(mini) -> None:
    _, ann_file = mini
    data = json.loads(ann_file.read_text())
    per_image = Counter(a["image_id"] for a in data["annotations"] if not a.get("iscrowd", 0))
    images = [np.zeros((4, 4, 3), np.uint8)] * 2
    exact = GroundTruthBoxes(ann_file)(images, names=NAMES)
    assert [len(b) for b in exact] == [per_image[785], per_image[196141]]
    assert all((b.scores == 1).all() for b in exact)
    jittered = GroundTruthBoxes(ann_file, jitter=True, seed=3)
    once = jittered(images, names=NAMES)
    reversed_order = jittered(images, names=NAMES[::-1])[::-1]  # a draw depends on (seed, image id) only
    other_seed = GroundTruthBoxes(ann_file, jitter=True, seed=4)(images, names=NAMES)
    sizes = {im["id"]: (im["width"], im["height"]) for im in data["images"]}
    for e, j, r, o, image_id in zip(exact, once, reversed_order, other_seed, (785, 196141)):
        np.testing.assert_array_equal(j.bboxes, r.bboxes)
        assert not np.allclose(j.bboxes, e.bboxes) and not np.allclose(j.bboxes, o.bboxes)
        w, h = sizes[image_id]
        assert (j.bboxes[:, :2] >= 0).all() and (j.bboxes[:, 2] <= w).all() and (j.bboxes[:, 3] <= h).all()
        assert (j.bboxes[:, 2:] > j.bboxes[:, :2]).all()


def test_several_jittered_proposals_per_person(mini) -> None:
    _, ann_file = mini
    images = [np.zeros((4, 4, 3), np.uint8)] * 2
    exact = GroundTruthBoxes(ann_file)(images, names=NAMES)
    three = GroundTruthBoxes(ann_file, jitter=True, proposals_per_person=3)(images, names=NAMES)
    for e, t in zip(exact, three):
        assert len(t) == 3 * len(e) and (t.scores == 1).all()
        per_person = t.bboxes.reshape(len(e), 3, 4)  # a person's proposals are in a row
        assert not np.allclose(per_person[:, 0], per_person[:, 1])  # each its own draw
        centres = (per_person[..., :2] + per_person[..., 2:]) / 2
        own = (e.bboxes[:, None, :2] + e.bboxes[:, None, 2:]) / 2
        sizes = (e.bboxes[:, None, 2:] - e.bboxes[:, None, :2])
        assert (np.abs(centres - own) < sizes).all()  # near their own person
    plain = GroundTruthBoxes(ann_file, proposals_per_person=2)(images[:1], names=NAMES[:1])[0]
    np.testing.assert_array_equal(plain.bboxes[0::2], plain.bboxes[1::2])  # without jitter: copies
    with pytest.raises(ValueError, match="proposals_per_person"):
        GroundTruthBoxes(ann_file, proposals_per_person=0)
    with pytest.raises(ValueError, match="jittered ground-truth"):
        box_source_from_spec("gt", ann_file=ann_file, proposals_per_person=2)


def test_rtmo_boxes_are_the_rtmo_instances(detecting_model, coco_images) -> None:
    inferencer = RTMOInferencer(detecting_model, mode="eval", batch_size=2)
    preds = inferencer(coco_images[:2])
    boxes = RTMOBoxes(inferencer)(coco_images[:2])
    assert sum(len(b) for b in boxes) > 0, "the detecting RTMO-t should find boxes"
    for pred, got in zip(preds, boxes):
        np.testing.assert_allclose(got.bboxes, pred.bboxes)
        np.testing.assert_allclose(got.scores, pred.bbox_scores)


def test_box_source_spec(mini) -> None:
    det_file, ann_file = mini
    assert isinstance(box_source_from_spec(str(det_file), ann_file=ann_file), DetectionFileBoxes)
    assert isinstance(box_source_from_spec("gt", ann_file=ann_file, jitter=True), GroundTruthBoxes)
    with pytest.raises(ValueError, match="annotation file"):
        box_source_from_spec("gt")
    with pytest.raises(ValueError, match="jitter"):
        box_source_from_spec(str(det_file), jitter=True)
    with pytest.raises(ValueError, match="rtmo:CONFIG"):
        box_source_from_spec("rtmo:")
    with pytest.raises(FileNotFoundError, match="nowhere.py"):
        box_source_from_spec("rtmo:nowhere.py")
