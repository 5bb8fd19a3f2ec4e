"""Box/keypoint AP helper and the registry-name mapping used by the overfit check."""
import json
from pathlib import Path

import numpy as np
import pytest

from rtmo_plugin.datasets.synthetic import generate_split
from rtmo_plugin.evaluation import coco_ap
from rtmo_plugin.testing.reference_names import OURS_TO_REFERENCE, to_reference_types


def _gt_as_results(ann_file: Path, shift: float = 0.0) -> list:
    data = json.loads(ann_file.read_text())
    out = []
    for a in data["annotations"]:
        kp = np.array(a["keypoints"], dtype=float).reshape(17, 3)
        kp[:, :2] += shift
        kp[:, 2] = 1.0
        x, y, w, h = a["bbox"]
        out.append(dict(image_id=a["image_id"], category_id=1, score=1.0, bbox=[x + shift, y + shift, w, h],
                        keypoints=kp.reshape(-1).tolist()))
    return out


def test_ground_truth_scores_one_and_shifted_scores_lower(tmp_path: Path) -> None:
    ann_file = generate_split(tmp_path, "val", 4, seed=2, progress=False)
    for iou_type in ("keypoints", "bbox"):
        assert coco_ap(ann_file, _gt_as_results(ann_file), iou_type)["AP"] == pytest.approx(1.0)
        assert coco_ap(ann_file, _gt_as_results(ann_file, shift=15.0), iou_type)["AP"] < 0.9
    assert coco_ap(ann_file, [], "keypoints")["AP"] == 0.0
    with pytest.raises(ValueError, match="iou_type"):
        coco_ap(ann_file, [], "segm")


def test_reference_types_rename_nested_and_keep_the_original() -> None:
    from mmengine.config import Config

    cfg = Config(dict(model=dict(head=dict(type="RTMODCCHead", loss_mle=dict(type="MLECoordClsLoss"))),
                      train_dataloader=dict(dataset=dict(pipeline=[dict(type="PoseMosaic",
                                                                        pre_transform=[dict(type="LoadImage")]),
                                                                   dict(type="GenerateTarget", encoder=dict(
                                                                       type="BBoxFreeKeypointCodec"))])),
                      custom_hooks=[dict(type="RTMOStageSwitchHook")]))
    ref = to_reference_types(cfg.to_dict())
    assert ref["model"]["head"]["type"] == "RTMOHead" and ref["model"]["head"]["loss_mle"]["type"] == "MLECCLoss"
    pipe = ref["train_dataloader"]["dataset"]["pipeline"]
    assert pipe[0]["type"] == "Mosaic" and pipe[0]["pre_transform"][0]["type"] == "LoadImage"
    assert pipe[1]["encoder"]["type"] == "YOLOXPoseAnnotationProcessor"
    assert ref["custom_hooks"][0]["type"] == "RTMOStageSwitchHook"
    assert cfg.model.head.type == "RTMODCCHead"  # input untouched


def test_every_mapped_name_exists_in_both_registries() -> None:
    from mmpose.registry import KEYPOINT_CODECS, MODELS, TRANSFORMS

    for ours, ref in OURS_TO_REFERENCE.items():
        found = [r for r in (MODELS, TRANSFORMS, KEYPOINT_CODECS) if r.get(ours) is not None]
        assert found, f"{ours} is not registered"
        assert found[0].get(ref) is not None, f"reference {ref} not in the registry of {ours}"
