"""Whole pipelines on coco_mini: the project's configs run end to end, and stage 1 equals MMPose's under equal seeds."""
import random

import numpy as np
import pytest
import torch

from rtmo_plugin.testing.pipelines import config_pipeline

from .helpers import coco_mini_dataset

LABEL_KEYS = ("bboxes", "labels", "keypoints", "keypoints_visible", "areas")


def _check_packed(packed, size=640):
    assert packed["inputs"].shape == (3, size, size) and packed["inputs"].dtype == torch.uint8
    labels = packed["data_samples"].gt_instance_labels
    for key in LABEL_KEYS:
        assert key in labels, key
        assert torch.isfinite(labels[key].float()).all(), key
    vis = labels.keypoints_visible > 0
    kpts = labels.keypoints
    assert ((kpts[..., 0] >= 0) & (kpts[..., 0] <= size) & (kpts[..., 1] >= 0) & (kpts[..., 1] <= size))[vis].all()
    assert (vis.sum(1) >= 1).all(), "the filter keeps instances with >= 1 visible keypoint"
    boxes = labels.bboxes
    assert ((boxes[:, 2] - boxes[:, 0] > 1) & (boxes[:, 3] - boxes[:, 1] > 1)).all()
    return labels


@pytest.mark.parametrize("with_hsv", [True, False])
@pytest.mark.parametrize("seed", range(2))
def test_stage1_equals_reference_pipeline(shared_data, seed, with_hsv):
    """Same seeds -> same targets; images equal up to rounding. The HSV step amplifies the few-grey-level
    rounding differences of the geometric steps (and ours skips the lossy HSV round trip when all gains are 0),
    so the image is compared without it (HSV alone is checked in test_reference_equivalence.py)."""
    ours_cfg = config_pipeline("train_pipeline_stage1")
    ref_cfg = config_pipeline("train_pipeline_stage1", reference=True)
    if not with_hsv:
        ours_cfg = [t for t in ours_cfg if t["type"] != "PoseHSVJitter"]
        ref_cfg = [t for t in ref_cfg if t["type"] != "YOLOXHSVRandomAug"]
    ours = coco_mini_dataset(shared_data, ours_cfg)
    ref = coco_mini_dataset(shared_data, ref_cfg)
    for index in range(len(ours)):
        np.random.seed(seed * 10 + index)
        random.seed(seed)
        a = ours[index]
        np.random.seed(seed * 10 + index)
        random.seed(seed)
        b = ref[index]
        la, lb = _check_packed(a), b["data_samples"].gt_instance_labels
        for key in LABEL_KEYS:
            torch.testing.assert_close(la[key].double(), lb[key].double(), rtol=1e-4, atol=2e-3, msg=key)
        if not with_hsv:  # documented rounding: warpAffine vs warpPerspective, uint8 mixup resize
            diff = (a["inputs"].int() - b["inputs"].int()).abs()
            assert diff.float().mean() < 0.5 and diff.max() <= 8, (diff.float().mean(), diff.max())


@pytest.mark.parametrize("letterbox_only", [True, False])
def test_stage2_runs(shared_data, letterbox_only):
    ds = coco_mini_dataset(shared_data, config_pipeline("train_pipeline_stage2", "s" if letterbox_only else "m"))
    for index in range(len(ds)):
        np.random.seed(index)
        packed = ds[index]
        _check_packed(packed)
        mask = packed["data_samples"].gt_fields.heatmap_mask
        assert mask.shape[-2:] == (640, 640)


def test_test_pipeline_meta(shared_data):
    ds = coco_mini_dataset(shared_data, config_pipeline("val_pipeline"), test_mode=True)
    for index in range(len(ds)):
        packed = ds[index]
        meta = packed["data_samples"].metainfo
        h, w = meta["ori_shape"]
        np.testing.assert_allclose(meta["input_center"], (w / 2, h / 2))
        np.testing.assert_allclose(meta["input_scale"], (max(w, h),) * 2)
        assert tuple(meta["input_size"]) == (640, 640) and packed["inputs"].shape == (3, 640, 640)


def test_project_configs_pipelines_run(shared_data, repo_root):
    """The RTMO configs' train (both stages) and val pipelines, with the config's own dataset dict on coco_mini."""
    from mmengine.config import Config
    from mmpose.registry import DATASETS

    configs = sorted((repo_root / "configs").glob("rtmo-*coco*.py"))
    if not configs:
        pytest.skip("no RTMO COCO config in configs/ yet")
    for path in configs:
        cfg = Config.fromfile(str(path))
        size = cfg.codec["input_size"][0]
        stage2 = next(h["new_train_pipeline"] for h in cfg.custom_hooks if "new_train_pipeline" in h)
        for pipeline, test_mode in ((cfg.train_dataloader.dataset.pipeline, False), (stage2, False),
                                    (cfg.val_dataloader.dataset.pipeline, True)):
            ds_cfg = dict(type="CocoDataset", data_root=str(shared_data / "coco_mini"), ann_file="test_coco.json",
                          data_prefix=dict(img=""), data_mode="bottomup", pipeline=pipeline, test_mode=test_mode)
            ds = DATASETS.build(ds_cfg)
            np.random.seed(0)
            packed = ds[0]
            if test_mode:
                assert packed["inputs"].shape == (3, size, size), path.name
            else:
                _check_packed(packed, size)
