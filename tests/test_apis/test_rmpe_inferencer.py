"""RMPEInferencer end to end on the tiny SSTN (random weights): image pixels, pose NMS, empty inputs, the demo."""
import json
import runpy
import sys
from typing import List, Optional, Sequence

import numpy as np
import pytest
import torch
from mmpose.apis import inference_topdown
from mmpose.apis.inference import dataset_meta_from_config

from rtmo_plugin.apis import GroundTruthBoxes, PersonBoxes, RMPEInferencer, RTMOBoxes, RTMOInferencer
from rtmo_plugin.apis.model_loading import load_model
from rtmo_plugin.testing.reference import repo_root

CONFIG = "configs/rmpe/sstn_tiny_coco-mini.py"
INPUT_W, INPUT_H = 96, 128


@pytest.fixture(scope="module")
def sstn():
    """The tiny SSTN with random weights whose heatmaps peak at about 0.5, so the pose NMS keeps poses."""
    torch.manual_seed(0)
    model = load_model(repo_root() / CONFIG)
    with torch.no_grad():
        model.head.final_layer.bias.fill_(0.5)
    model.dataset_meta = dataset_meta_from_config(model.cfg, dataset_mode="test")  # for inference_topdown
    return model


class FixedBoxes:
    """A box source that returns the same boxes for every call (per image position)."""

    def __init__(self, boxes: List[PersonBoxes]) -> None:
        self.boxes = boxes

    def __call__(self, images: Sequence[np.ndarray], names: Optional[Sequence[str]] = None) -> List[PersonBoxes]:
        return self.boxes[:len(images)]


def _enlarged_region(box: np.ndarray, padding: float = 1.3) -> np.ndarray:
    """The image region TopdownAffine crops for ``box``: enlarged by ``padding``, widened to the input aspect."""
    cx, cy = (box[:2] + box[2:]) / 2
    w, h = (box[2:] - box[:2]) * padding
    w, h = (w, w * INPUT_H / INPUT_W) if w * INPUT_H > h * INPUT_W else (h * INPUT_W / INPUT_H, h)
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


def test_poses_come_out_in_image_pixels_inside_their_crops(sstn, coco_images, shared_data) -> None:
    names = ["000000000785.jpg", "000000040083.jpg"]  # coco_images is sorted by name
    boxes = GroundTruthBoxes(shared_data / "coco_mini" / "test_coco.json")
    inferencer = RMPEInferencer(boxes, sstn, pose_nms=None, crop_batch_size=3, score_mode="box")  # flip test on
    preds = inferencer(coco_images[:2], names=names)
    for pred, given in zip(preds, boxes(coco_images[:2], names=names)):
        assert len(pred) == len(given) > 0
        assert pred.keypoints.shape == (len(given), 17, 2) and pred.keypoint_scores.shape == (len(given), 17)
        np.testing.assert_allclose(pred.bboxes, given.bboxes)
        np.testing.assert_allclose(pred.bbox_scores, given.scores)
        for kpts, box in zip(pred.keypoints, given.bboxes):
            x1, y1, x2, y2 = _enlarged_region(box)
            assert (kpts[:, 0] >= x1 - 1).all() and (kpts[:, 0] <= x2 + 1).all()
            assert (kpts[:, 1] >= y1 - 1).all() and (kpts[:, 1] <= y2 + 1).all()
    # the same numbers as MMPose's own top-down inference with the config's pipeline (padding 1.3)
    for image, pred in zip(coco_images[:2], preds):
        reference = inference_topdown(sstn, image, pred.bboxes)
        np.testing.assert_allclose(pred.keypoints, np.concatenate([r.pred_instances.keypoints for r in reference]),
                                   rtol=0, atol=1e-3)
        np.testing.assert_allclose(pred.keypoint_scores,
                                   np.concatenate([r.pred_instances.keypoint_scores for r in reference]), atol=1e-6)


def test_pose_nms_collapses_duplicate_boxes(sstn, coco_images) -> None:
    same = np.array([100, 50, 260, 400], np.float32)
    other = np.array([400, 60, 560, 420], np.float32)
    proposals = PersonBoxes(np.stack([same, same + 0.5, same, other]), np.array([0.9, 0.8, 0.7, 0.95], np.float32))
    source = FixedBoxes([proposals])
    kept = RMPEInferencer(source, sstn, flip_test=False)(coco_images[:1])[0]
    everything = RMPEInferencer(source, sstn, flip_test=False, pose_nms=None)(coco_images[:1])[0]
    assert len(everything) == 4
    assert len(kept) == 2, "the three copies of one box should collapse into one pose"
    assert sorted(map(tuple, kept.bboxes.round(1))) == sorted({tuple(same), tuple(other)})


def test_proposal_box_nms_keeps_the_best_scored_box_of_each_cluster(sstn, coco_images) -> None:
    same = np.array([100, 50, 260, 400], np.float32)
    other = np.array([400, 60, 560, 420], np.float32)
    proposals = PersonBoxes(np.stack([same, same + 3, other, other - 2]), np.array([0.7, 0.9, 0.95, 0.5], np.float32))
    kept = RMPEInferencer(FixedBoxes([proposals]), sstn, flip_test=False, pose_nms=None, score_mode="box",
                          proposal_nms_thr=0.6)(coco_images[:1])[0]
    np.testing.assert_allclose(kept.bboxes, np.stack([other, same + 3]))
    np.testing.assert_allclose(kept.bbox_scores, [0.95, 0.9])
    with pytest.raises(ValueError, match="proposal_nms_thr"):
        RMPEInferencer(FixedBoxes([proposals]), sstn, proposal_nms_thr=1.5)


def test_alphapose_person_score_ranks_the_poses(sstn, coco_images) -> None:
    boxes = PersonBoxes(np.array([[100, 50, 260, 400], [400, 60, 560, 420]], np.float32),
                        np.array([0.5, 0.9], np.float32))
    by_box = RMPEInferencer(FixedBoxes([boxes]), sstn, flip_test=False, pose_nms=None,
                            score_mode="box")(coco_images[:1])[0]
    ranked = RMPEInferencer(FixedBoxes([boxes]), sstn, flip_test=False, pose_nms=None)(coco_images[:1])[0]
    s = by_box.keypoint_scores
    expected = (s.mean(1) + by_box.bbox_scores + 1.25 * s.max(1)) / 3.25
    order = np.argsort(-expected)
    np.testing.assert_allclose(ranked.bbox_scores, expected[order], rtol=1e-6)
    np.testing.assert_allclose(ranked.keypoints, by_box.keypoints[order])
    assert (np.diff(ranked.bbox_scores) <= 0).all() and (ranked.bbox_scores <= 1).all()
    with pytest.raises(ValueError, match="score_mode"):
        RMPEInferencer(FixedBoxes([boxes]), sstn, score_mode="oks")


def test_empty_box_lists_give_empty_predictions(sstn, coco_images) -> None:
    one = PersonBoxes(np.array([[100, 50, 260, 400]], np.float32), np.array([0.9], np.float32))
    inferencer = RMPEInferencer(FixedBoxes([PersonBoxes.empty(), one]), sstn, flip_test=False)
    empty, found = inferencer(coco_images[:2])
    assert len(empty) == 0 and empty.keypoints.shape == (0, 17, 2) and empty.bboxes.shape == (0, 4)
    assert len(found) == 1
    dropped = RMPEInferencer(FixedBoxes([one]), sstn, pose_nms=dict(type="ParametricPoseNMS", score_thr=1.01))
    assert len(dropped(coco_images[:1])[0]) == 0  # every pose below the pose NMS's score threshold
    nothing = RMPEInferencer(FixedBoxes([PersonBoxes.empty()] * 2), sstn)(coco_images[:2])
    assert [len(p) for p in nothing] == [0, 0]
    below_thr = RMPEInferencer(FixedBoxes([one]), sstn, box_score_thr=0.95)(coco_images[:1])
    assert len(below_thr[0]) == 0


def test_bad_boxes_and_models_are_refused(sstn, coco_images, detecting_model) -> None:
    flat = PersonBoxes(np.array([[10, 10, 10, 50]], np.float32), np.ones(1, np.float32))
    with pytest.raises(ValueError, match="images\\[0\\]: person box .* no area"):
        RMPEInferencer(FixedBoxes([flat]), sstn)(coco_images[:1])
    with pytest.raises(ValueError, match="2 box lists for 1 images"):
        RMPEInferencer(lambda images, names=None: [flat, flat], sstn)(coco_images[:1])
    with pytest.raises(TypeError, match="top-down estimator"):
        RMPEInferencer(FixedBoxes([]), detecting_model)


def test_rtmo_boxes_as_proposals(sstn, detecting_model, coco_images) -> None:
    rtmo = RTMOInferencer(detecting_model, mode="eval", batch_size=2)
    boxes = RTMOBoxes(rtmo)(coco_images[:2])
    preds = RMPEInferencer(RTMOBoxes(rtmo), sstn, pose_nms=None, flip_test=False, score_mode="box")(coco_images[:2])
    assert [len(p) for p in preds] == [len(b) for b in boxes]
    for pred, given in zip(preds, boxes):
        np.testing.assert_allclose(pred.bboxes, given.bboxes)


def test_demo_cli_with_rmpe_boxes(monkeypatch, sstn, shared_data, tmp_path) -> None:
    checkpoint = tmp_path / "sstn.pth"
    torch.save(dict(state_dict=sstn.state_dict()), checkpoint)
    mini = shared_data / "coco_mini"
    out = tmp_path / "out"
    monkeypatch.setattr(sys, "argv", [
        "demo.py", str(repo_root() / CONFIG), "--checkpoint", str(checkpoint),
        "--rmpe-boxes", str(mini / "test_coco_det_AP_H_56.json"), "--ann", str(mini / "test_coco.json"),
        "--box-thr", "0.5", "--input", str(mini), "--out-dir", str(out), "--batch-size", "2", "--no-progress"])
    runpy.run_path(str(repo_root() / "tools" / "demo.py"), run_name="__main__")
    assert sorted(p.name for p in out.glob("*.jpg")) == sorted(p.name for p in mini.glob("*.jpg"))
    entries = json.loads((out / "coco_mini_predictions.json").read_text())
    assert entries and {e["image_id"] for e in entries} <= {785, 40083, 196141, 197388}
    dets = json.loads((mini / "test_coco_det_AP_H_56.json").read_text())
    assert len(entries) <= sum(d["score"] >= 0.5 for d in dets)
    assert all(len(e["keypoints"]) == 17 * 3 and e["file_name"].endswith(".jpg") for e in entries)
