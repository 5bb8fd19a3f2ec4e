"""CheckedCocoDataset / CheckedCrowdPoseDataset: bad data gives a precise error, or is skipped and counted."""
import copy
import io
import json
import logging
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from mmengine.logging import MMLogger
from mmpose.registry import DATASETS

from rtmo_plugin.datasets import BadDataError

COCO_FILE = "coco_mini/test_coco.json"
CROWD_FILE = "crowdpose_mini/test_crowdpose.json"


def build(ann_file: Path, img_dir: Path, dataset: str = "CheckedCocoDataset", **kwargs):
    """Build (and fully load) a checked dataset."""
    cfg = dict(type=dataset, ann_file=str(ann_file), data_prefix=dict(img=str(img_dir) + "/"),
               data_mode=kwargs.pop("data_mode", "bottomup"), **kwargs)
    return DATASETS.build(cfg)


def write_json(tmp_path: Path, data: dict, name: str = "ann.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


@pytest.fixture()
def coco(shared_data: Path) -> dict:
    return json.loads((shared_data / COCO_FILE).read_text())


@pytest.mark.parametrize("mode", ["bottomup", "topdown"])
@pytest.mark.parametrize("ours,ref,rel", [("CheckedCocoDataset", "CocoDataset", COCO_FILE),
                                          ("CheckedCrowdPoseDataset", "CrowdPoseDataset", CROWD_FILE)])
def test_clean_data_loads_like_mmpose(shared_data, mode, ours, ref, rel):
    """On clean data the checked dataset yields exactly MMPose's data list."""
    ann, img_dir = shared_data / rel, (shared_data / rel).parent
    got = build(ann, img_dir, ours, data_mode=mode)
    want = build(ann, img_dir, ref, data_mode=mode)
    assert len(got) == len(want) > 0
    assert got.skipped == {"images": 0, "annotations": 0} and not got.bad_data_counts
    for i in range(len(want)):
        a, b = got.get_data_info(i), want.get_data_info(i)
        assert a["img_id"] == b["img_id"] and a["img_path"] == b["img_path"]
        np.testing.assert_array_equal(a["keypoints"], b["keypoints"])
        np.testing.assert_array_equal(a["keypoints_visible"], b["keypoints_visible"])
        np.testing.assert_array_equal(a["bbox"], b["bbox"])


def _set_kpt(ann_index: int, kpt: int, values) -> Callable[[dict], None]:
    def mutate(d: dict) -> None:
        d["annotations"][ann_index]["keypoints"][3 * kpt:3 * kpt + len(values)] = values
    return mutate


def _set(ann_index: int, key: str, value) -> Callable[[dict], None]:
    def mutate(d: dict) -> None:
        d["annotations"][ann_index][key] = value
    return mutate


def _drop_kpts(d: dict) -> None:
    d["annotations"][0]["keypoints"] = d["annotations"][0]["keypoints"][:42]  # 14 keypoints in a 17-kpt dataset


def _missing_image(d: dict) -> None:
    d["images"][0]["file_name"] = "does_not_exist.jpg"


# (mutation, problem kind, text the message must contain); annotation 0 = id 442619 on image 785
CASES = [
    (_set_kpt(0, 3, [float("nan")]), "non_finite_keypoint", "keypoint 3 (left_ear)"),
    (_set_kpt(0, 5, [1e309]), "non_finite_keypoint", "inf"),
    (_set_kpt(0, 0, [-4.0, 10.0, 2]), "negative_keypoint", "(-4, 10)"),
    (_set_kpt(0, 2, [300.0, 80.0, 3]), "bad_visibility", "visibility flag 3"),
    (_set_kpt(0, 2, [300.0, 80.0, 0.5]), "bad_visibility", "visibility flag 0.5"),
    (_set_kpt(0, 1, [None]), "malformed_keypoints", "None"),
    (_drop_kpts, "keypoint_count", "14 keypoints"),
    (_set(0, "bbox", [280.0, 44.0, 0.0, 346.0]), "degenerate_bbox", "zero-area"),
    (_set(0, "bbox", [280.0, 44.0, 200.0, -10.0]), "degenerate_bbox", "inverted"),
    (_set(0, "bbox", [280.0, float("nan"), 200.0, 10.0]), "non_finite_bbox", "nan"),
    (_set(0, "bbox", [2000.0, 44.0, 20.0, 10.0]), "bbox_outside_image", "outside"),
    (_set(0, "bbox", [1, 2, 3]), "malformed_bbox", "[1, 2, 3]"),
    (_set(0, "area", float("nan")), "bad_area", "area"),
    (_set(0, "image_id", 999), "unknown_image", "image id 999"),
    (_set(1, "id", 442619), "duplicate_id", "annotation id 442619"),
]


@pytest.mark.parametrize("mutate,kind,text", CASES, ids=[c[1] + str(i) for i, c in enumerate(CASES)])
def test_bad_annotation_raises_naming_file_ids_and_problem(tmp_path, shared_data, coco, mutate, kind, text):
    data = copy.deepcopy(coco)
    mutate(data)
    ann_file = write_json(tmp_path, data)
    with pytest.raises(BadDataError) as info:
        build(ann_file, shared_data / "coco_mini")
    msg = str(info.value)
    kinds = {p.kind for p in info.value.problems}
    assert kind in kinds, msg
    assert str(ann_file) in msg and f"[{kind}]" in msg and text in msg, msg
    problem = next(p for p in info.value.problems if p.kind == kind)
    assert problem.img_id is not None and problem.ann_id is not None, problem
    assert f"image id {problem.img_id}" in msg and f"annotation id {problem.ann_id}" in msg


@pytest.mark.parametrize("mode,images_left,instances_left", [("bottomup", 3, None), ("topdown", None, 11)])
def test_skip_drops_image_in_bottomup_and_annotation_in_topdown(tmp_path, shared_data, coco, mode, images_left,
                                                                instances_left):
    """A NaN keypoint of one person: bottom-up drops its image (the person must not become background)."""
    data = copy.deepcopy(coco)
    _set_kpt(0, 3, [float("nan")])(data)
    ds = build(write_json(tmp_path, data), shared_data / "coco_mini", on_bad_data="skip", data_mode=mode)
    assert ds.bad_data_counts == {"non_finite_keypoint": 1}
    clean = build(shared_data / COCO_FILE, shared_data / "coco_mini", data_mode=mode)
    if mode == "bottomup":
        assert len(ds) == images_left == len(clean) - 1
        assert 785 not in {ds.get_data_info(i)["img_id"] for i in range(len(ds))}
        assert ds.skipped == {"images": 1, "annotations": 1}
    else:
        assert len(ds) == instances_left == len(clean) - 1
        assert ds.skipped == {"images": 0, "annotations": 1}
    for i in range(len(ds)):
        assert np.isfinite(ds.get_data_info(i)["keypoints"]).all()


def test_skip_warns_per_problem_and_summarises(tmp_path, shared_data, coco):
    data = copy.deepcopy(coco)
    _missing_image(data)
    _set_kpt(5, 0, [10.0, 10.0, 7])(data)
    _set(6, "bbox", [1.0, 1.0, -3.0, 4.0])(data)
    logger, stream = MMLogger.get_current_instance(), io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    try:
        ds = build(write_json(tmp_path, data), shared_data / "coco_mini", on_bad_data="skip")
    finally:
        logger.removeHandler(handler)
    assert ds.bad_data_counts == {"missing_image": 1, "bad_visibility": 1, "degenerate_bbox": 1}
    text = stream.getvalue()
    assert text.count("CheckedCocoDataset: skipping bad data:") == 3, text
    assert "does_not_exist.jpg" in text and "image id 785" in text
    assert "skipped 2 image(s) and 6 annotation(s)" in text and "3 problem(s)" in text, text
    assert ds.skipped == {"images": 2, "annotations": 6}  # 785 (missing file), 196141 (annotations 5 and 6)
    assert sorted(ds.get_data_info(i)["img_id"] for i in range(len(ds))) == [40083, 197388]


def test_missing_and_unreadable_images(tmp_path, shared_data, coco):
    data = copy.deepcopy(coco)
    garbage = tmp_path / "garbage.jpg"
    garbage.write_bytes(b"this is not an image at all" * 10)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    data["images"][0]["file_name"] = "nope/000000000785.jpg"
    data["images"][1]["file_name"] = str(garbage)  # absolute path wins in os.path.join
    data["images"][2]["file_name"] = str(empty)
    with pytest.raises(BadDataError) as info:
        build(write_json(tmp_path, data), shared_data / "coco_mini")
    by_kind = {}
    for p in info.value.problems:
        by_kind.setdefault(p.kind, []).append(p)
    assert [p.img_id for p in by_kind["missing_image"]] == [785]
    assert sorted(p.img_id for p in by_kind["unreadable_image"]) == sorted([data["images"][1]["id"],
                                                                           data["images"][2]["id"]])
    assert "nope/000000000785.jpg" in str(info.value) and "garbage.jpg" in str(info.value)


def test_truncated_jpeg_found_with_decode_check(tmp_path, shared_data, coco):
    jpg = (shared_data / "coco_mini" / "000000000785.jpg").read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(jpg[: len(jpg) // 2])
    data = copy.deepcopy(coco)
    data["images"][0]["file_name"] = str(cut)
    build(write_json(tmp_path, data), shared_data / "coco_mini")  # header check passes: signature is fine
    with pytest.raises(BadDataError, match="truncated"):
        build(write_json(tmp_path, data), shared_data / "coco_mini", image_check="decode")


def test_decode_check_finds_size_mismatch(tmp_path, shared_data, coco):
    data = copy.deepcopy(coco)
    data["images"][0]["width"] = 320
    with pytest.raises(BadDataError, match=r"decoded image is 640x425 but the annotation says 320x425"):
        build(write_json(tmp_path, data), shared_data / "coco_mini", image_check="decode")


@pytest.mark.parametrize("text,needle", [
    (None, "truncated"),  # filled in below: first 60% of the real file
    ("[1, 2, 3]", "top level is a list"),
    ('{"images": [], "annotations": {}}', "'annotations' is missing or not a list"),
    ('{"images": [1], "annotations": []}', "'images' has entries that are not objects"),
    ('{"images": [], "annotations": [], }', "invalid JSON"),
])
def test_truncated_or_malformed_json(tmp_path, shared_data, text, needle):
    path = tmp_path / "bad.json"
    if text is None:
        full = (shared_data / COCO_FILE).read_bytes()
        path.write_bytes(full[: int(len(full) * 0.6)])
    else:
        path.write_text(text)
    for on_bad in ("raise", "skip"):  # a broken file cannot be skipped
        with pytest.raises(BadDataError) as info:
            build(path, shared_data / "coco_mini", on_bad_data=on_bad)
        assert needle in str(info.value) and str(path) in str(info.value)
        assert info.value.problems[0].kind == "malformed_json"


def test_binary_json_and_missing_file(tmp_path, shared_data):
    path = tmp_path / "bin.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(BadDataError, match="not UTF-8"):
        build(path, shared_data / "coco_mini")
    with pytest.raises(FileNotFoundError, match="nothere.json"):
        build(tmp_path / "nothere.json", shared_data / "coco_mini")


def test_coco_annotations_in_crowdpose_dataset(shared_data):
    """17-keypoint annotations loaded with the 14-keypoint CrowdPose metainfo: named, not reshaped."""
    with pytest.raises(BadDataError) as info:
        build(shared_data / COCO_FILE, shared_data / "coco_mini", "CheckedCrowdPoseDataset")
    problems = [p for p in info.value.problems if p.kind == "keypoint_count"]
    assert len(problems) == 14  # every annotation of the file
    assert "17 keypoints" in problems[0].message and "'crowdpose' defines 14" in problems[0].message


def test_invalid_arguments(shared_data):
    with pytest.raises(ValueError, match="on_bad_data"):
        build(shared_data / COCO_FILE, shared_data / "coco_mini", on_bad_data="ignore")
    with pytest.raises(ValueError, match="image_check"):
        build(shared_data / COCO_FILE, shared_data / "coco_mini", image_check="full")


def _pipeline():
    return [dict(type="LoadImage"), dict(type="PackPoseInputs")]


def test_image_that_fails_in_pipeline(tmp_path, shared_data, coco):
    """A file with a PNG signature but a broken body passes the header check and fails at read time."""
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 200)
    data = copy.deepcopy(coco)
    data["images"][0]["file_name"] = str(fake)
    ann_file = write_json(tmp_path, data)
    ds = build(ann_file, shared_data / "coco_mini", pipeline=_pipeline())
    idx = [ds.get_data_info(i)["img_id"] for i in range(len(ds))].index(785)
    with pytest.raises(BadDataError) as info:
        ds[idx]
    assert "image id 785" in str(info.value) and "fake.png" in str(info.value)
    ds = build(ann_file, shared_data / "coco_mini", pipeline=_pipeline(), on_bad_data="skip")
    sample = ds[idx]  # training mode: another (random) sample instead
    assert sample["data_samples"].img_id != 785
    assert set(ds.bad_data_counts) == {"unreadable_image"} and ds.bad_data_counts["unreadable_image"] >= 1


def test_pipeline_bug_is_not_reported_as_bad_data(shared_data):
    """An error that is not caused by the image file propagates unchanged."""
    def broken_transform(results: dict) -> dict:
        raise KeyError("a pipeline bug")

    ds = build(shared_data / COCO_FILE, shared_data / "coco_mini", on_bad_data="skip",
               pipeline=[dict(type="LoadImage"), broken_transform])
    with pytest.raises(KeyError, match="a pipeline bug"):
        ds[0]
    assert not ds.bad_data_counts
