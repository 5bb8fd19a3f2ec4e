"""BBoxFreeKeypointCodec: encoding, boxes from keypoints, the round trip annotations -> targets -> image."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mmpose.registry import KEYPOINT_CODECS, TRANSFORMS

from rtmo_plugin.codecs import BBoxFreeKeypointCodec

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)


def test_encode_matches_reference_annotation_processor():
    """Same labels and (expanded) boxes as MMPose's YOLOXPoseAnnotationProcessor."""
    rng = np.random.default_rng(0)
    kpts = rng.uniform(0, 100, (3, 17, 2)).astype(np.float32)
    vis = (rng.uniform(size=(3, 17)) > 0.3).astype(np.float32)
    bbox = np.array([[10, 10, 50, 50], [0, 0, 5, 5], [20, 30, 90, 95]], np.float32)
    for expand in (False, True):
        ref = KEYPOINT_CODECS.build(dict(type="YOLOXPoseAnnotationProcessor", expand_bbox=expand))
        ours = BBoxFreeKeypointCodec(expand_bbox=expand, input_size=(640, 640))
        r = ref.encode(kpts, vis, bbox=bbox.copy(), category_id=[1, 1, 2])
        o = ours.encode(kpts, vis, bbox=bbox.copy(), category_id=[1, 1, 2])
        np.testing.assert_array_equal(o["bbox_labels"], r["bbox_labels"].astype(np.int64))
        np.testing.assert_allclose(o["bbox"], r.get("bbox", bbox))
    assert ours.label_mapping_table == ref.label_mapping_table


@SETTINGS
@given(n=st.integers(0, 4), seed=st.integers(0, 10_000))
def test_boxes_from_visible_keypoints_when_absent(n, seed):
    rng = np.random.default_rng(seed)
    kpts = rng.uniform(-50, 700, (n, 17, 2)).astype(np.float32)
    vis = (rng.uniform(size=(n, 17)) > 0.5).astype(np.float32)
    enc = BBoxFreeKeypointCodec().encode(kpts, vis)
    boxes = enc["bbox"]
    assert boxes.shape == (n, 4) and np.isfinite(boxes).all()
    for i in range(n):
        v = vis[i] > 0
        if v.any():
            np.testing.assert_allclose(boxes[i, :2], kpts[i, v].min(0))
            np.testing.assert_allclose(boxes[i, 2:], kpts[i, v].max(0))
        else:
            assert (boxes[i] == 0).all()
    assert (enc["area"] >= 1).all() and enc["bbox_labels"].dtype == np.int64


def test_given_area_is_kept_and_errors_are_clear():
    codec = BBoxFreeKeypointCodec()
    kpts = np.zeros((2, 3, 2), np.float32)
    enc = codec.encode(kpts, np.ones((2, 3)), area=np.array([5.0, 7.0]), category_id=[1, 1])
    np.testing.assert_allclose(enc["area"], [5, 7])
    with pytest.raises(ValueError, match="keypoints"):
        codec.encode(np.zeros((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="boxes"):
        codec.encode(kpts, np.ones((2, 3)), bbox=np.zeros((3, 4)))
    with pytest.raises(ValueError, match="input_size"):
        codec.decode(kpts, input_center=np.zeros(2), input_scale=np.ones(2))


@SETTINGS
@given(w=st.integers(40, 900), h=st.integers(40, 900), n=st.integers(0, 3), seed=st.integers(0, 10_000))
def test_round_trip_annotations_targets_image(w, h, n, seed):
    """image annotations -> letterbox -> GenerateTarget -> PackPoseInputs (the head's targets) -> decode."""
    rng = np.random.default_rng(seed)
    kpts = np.stack([rng.uniform(0, w - 1, (n, 17)), rng.uniform(0, h - 1, (n, 17))], -1).astype(np.float32)
    vis = (rng.uniform(size=(n, 17)) > 0.3).astype(np.float32)
    boxes = BBoxFreeKeypointCodec.keypoint_boxes(kpts, vis > 0)
    results = dict(img=np.zeros((h, w, 3), np.uint8), ori_shape=(h, w), img_shape=(h, w), keypoints=kpts.copy(),
                   keypoints_visible=vis.copy(), bbox=boxes.copy(), category_id=np.ones(n, np.int64),
                   area=np.full(n, 10.0, np.float32), bbox_score=np.ones(n, np.float32))
    for cfg in (dict(type="PoseLetterboxResize", input_size=(640, 640), transform_annotations=True),
                dict(type="GenerateTarget", encoder=dict(type="BBoxFreeKeypointCodec", input_size=(640, 640))),
                dict(type="PackPoseInputs", meta_keys=("input_center", "input_scale", "input_size"))):
        results = TRANSFORMS.build(cfg)(results)
    sample = results["data_samples"]
    labels = sample.gt_instance_labels
    assert set(labels.keys()) >= {"bboxes", "labels", "keypoints", "keypoints_visible", "areas"}
    assert (labels.labels == 0).all() and len(labels.keypoints) == n
    assert (labels.keypoints[..., 0] <= 640).all() and (labels.keypoints[..., 0] >= 0).all()
    codec = BBoxFreeKeypointCodec(input_size=(640, 640))
    back_k, back_b = codec.decode(labels.keypoints.numpy(), sample.input_center, sample.input_scale,
                                  bboxes=labels.bboxes.numpy())
    np.testing.assert_allclose(back_k, kpts, atol=1e-2 * max(w, h) / 640 + 1e-3)
    np.testing.assert_allclose(back_b, boxes, atol=1e-2 * max(w, h) / 640 + 1e-3)
    np.testing.assert_array_equal(labels.keypoints_visible.numpy(), vis)
    # areas follow the image scale: 10 * (640 / long side)^2
    np.testing.assert_allclose(labels.areas.numpy(), 10.0 * (640 / max(w, h)) ** 2, rtol=1e-4)


def test_decode_matches_bottomup_estimator_formula():
    """p_img = p / input_size * input_scale + input_center - input_scale / 2 (BottomupPoseEstimator)."""
    codec = BBoxFreeKeypointCodec(input_size=(640, 640))
    kpts = np.array([[[0.0, 0.0], [640.0, 640.0], [320.0, 320.0]]])
    out, _ = codec.decode(kpts, input_center=np.array([320.0, 196.0]), input_scale=np.array([640.0, 640.0]))
    np.testing.assert_allclose(out[0], [[0, -124], [640, 516], [320, 196]])


def test_generate_target_without_boxes_or_areas_derives_them():
    """Annotations with keypoints only (no detector / annotated boxes): the head still gets boxes and areas."""
    kpts = np.array([[[10, 20], [30, 60], [500, 500]]], np.float32)
    vis = np.array([[1, 1, 0]], np.float32)
    results = dict(img=np.zeros((100, 100, 3), np.uint8), keypoints=kpts, keypoints_visible=vis)
    for cfg in (dict(type="GenerateTarget", encoder=dict(type="BBoxFreeKeypointCodec", input_size=(640, 640))),
                dict(type="PackPoseInputs")):
        results = TRANSFORMS.build(cfg)(results)
    labels = results["data_samples"].gt_instance_labels
    np.testing.assert_allclose(labels.bboxes.numpy(), [[10, 20, 30, 60]])  # invisible keypoint ignored
    np.testing.assert_allclose(labels.areas.numpy(), [0.53 * 20 * 40])
    assert labels.labels.tolist() == [0]
