"""The evaluator our RTMO configs configure (CocoMetric, box score as instance score, no OKS-NMS) against the known
answers of ../shared/data/README.md: ground truth as predictions -> AP 1.0; the example predictions -> AP 0.8609."""
import json
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest
from mmengine.config import Config
from mmpose.registry import METRICS

REPO = Path(__file__).resolve().parents[2]
KNOWN_EXAMPLE = [0.8609, 0.9931, 0.9109, 0.7756, 0.9373, 0.8750, 1.0000, 0.9167, 0.7800, 0.9429]


def _metric(ann_file: Path, tmp_path: Path):
    cfg = Config.fromfile(str(REPO / "configs" / "rtmo-s_8xb32-600e_coco.py"))
    ev = dict(cfg.val_evaluator)
    assert ev["type"] == "CocoMetric" and ev["score_mode"] == "bbox" and ev["nms_mode"] == "none"
    ev.update(ann_file=str(ann_file), outfile_prefix=str(tmp_path / "res"))
    metric = METRICS.build(ev)
    from mmpose.datasets.datasets.utils import parse_pose_metainfo
    metric.dataset_meta = parse_pose_metainfo(dict(from_file="configs/_base_/datasets/coco.py"))
    return metric


def _samples(preds: List[dict], images: List[dict], anns: List[dict]) -> List[dict]:
    """Group COCO result dicts per image into the data samples BottomupPoseEstimator.test_step produces.

    As with CocoDataset(data_mode='bottomup'), a sample's ``id`` is the list of the image's annotation ids.
    """
    by_img: Dict[int, List[dict]] = {im["id"]: [] for im in images}
    ann_ids: Dict[int, List[int]] = {im["id"]: [] for im in images}
    for a in anns:
        ann_ids[a["image_id"]].append(a["id"])
    for p in preds:
        by_img[p["image_id"]].append(p)
    samples = []
    for im in images:
        ps = by_img[im["id"]]
        kp = np.array([p["keypoints"] for p in ps], dtype=np.float32).reshape(len(ps), 17, 3)
        pred = dict(keypoints=kp[..., :2], keypoint_scores=kp[..., 2],
                    bbox_scores=np.array([p["score"] for p in ps], dtype=np.float32))
        if ps and all("bbox_xyxy" in p for p in ps):  # with boxes, COCOeval takes the detection area from them
            pred["bboxes"] = np.array([p["bbox_xyxy"] for p in ps], dtype=np.float32)
        samples.append(dict(id=ann_ids[im["id"]], img_id=im["id"], ori_shape=(im["height"], im["width"]),
                            gt_instances={}, pred_instances=pred))
    return samples


def _evaluate(metric, samples: List[dict]) -> Dict[str, float]:
    metric.process([], samples)
    return metric.evaluate(size=len(samples))


def test_ground_truth_as_predictions_gives_ap_1(shared_data: Path, tmp_path: Path) -> None:
    ann_file = shared_data / "coco_mini" / "test_coco.json"
    gt = json.loads(ann_file.read_text())
    preds = []
    for a in gt["annotations"]:
        if a.get("num_keypoints", 0) == 0 or a.get("iscrowd", 0):
            continue
        kp = np.array(a["keypoints"], dtype=np.float32).reshape(17, 3)
        kp[:, 2] = 1.0
        x, y, w, h = a["bbox"]
        preds.append(dict(image_id=a["image_id"], keypoints=kp.reshape(-1).tolist(), score=1.0,
                          bbox_xyxy=[x, y, x + w, y + h]))
    result = _evaluate(_metric(ann_file, tmp_path), _samples(preds, gt["images"], gt["annotations"]))
    for key in ("coco/AP", "coco/AP .5", "coco/AP .75", "coco/AR"):
        assert result[key] == pytest.approx(1.0), key


def test_example_predictions_give_the_known_stats(shared_data: Path, tmp_path: Path) -> None:
    ann_file = shared_data / "coco_mini" / "test_coco.json"
    gt = json.loads(ann_file.read_text())
    preds = json.loads((shared_data / "eval_refs" / "example_coco_preds.json").read_text())
    result = _evaluate(_metric(ann_file, tmp_path), _samples(preds, gt["images"], gt["annotations"]))
    names = ["coco/AP", "coco/AP .5", "coco/AP .75", "coco/AP (M)", "coco/AP (L)", "coco/AR", "coco/AR .5",
             "coco/AR .75", "coco/AR (M)", "coco/AR (L)"]
    got = [result[n] for n in names]
    assert got == pytest.approx(KNOWN_EXAMPLE, abs=1e-4)


def test_wrong_predictions_score_lower(shared_data: Path, tmp_path: Path) -> None:
    """Negative control: shifting every keypoint by 20 px must lower the AP well below the known answer."""
    ann_file = shared_data / "coco_mini" / "test_coco.json"
    gt = json.loads(ann_file.read_text())
    preds = json.loads((shared_data / "eval_refs" / "example_coco_preds.json").read_text())
    for p in preds:
        kp = np.array(p["keypoints"]).reshape(17, 3)
        kp[:, :2] += 20
        p["keypoints"] = kp.reshape(-1).tolist()
    result = _evaluate(_metric(ann_file, tmp_path), _samples(preds, gt["images"], gt["annotations"]))
    assert result["coco/AP"] < 0.6
