"""The short-run recipe (demo and overfit configs): wider OKS sigmas for training only (3x demo, 6x overfit),
COCO's for evaluation,
MLE weight 0.01 in stage 1, 64 DCC bins, no gradient clipping; the demo adds no random geometry, batch 4, 160x160
input and channels-last convolutions."""
import os
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config
from mmpose.datasets.datasets.utils import parse_pose_metainfo

REPO = Path(__file__).resolve().parents[1]
DATASETS = REPO / "configs" / "_base_" / "datasets"
RECIPE_CONFIGS = [REPO / "configs" / "demo" / "rtmo-tiny_synthetic-160.py",
                  REPO / "configs" / "demo" / "rtmo-t_overfit_coco-mini.py"]
#: config -> the training metafile it must use (docs/demo_recipe.md, points 1 and 7)
TRAINING_SIGMAS = {RECIPE_CONFIGS[0]: DATASETS / "coco_training_sigmas_x3.py",
                   RECIPE_CONFIGS[1]: DATASETS / "coco_training_sigmas_x6.py"}


@pytest.mark.parametrize("factor", [3, 6])
def test_training_sigmas_are_a_multiple_of_coco_and_nothing_else_changes(factor):
    wide = parse_pose_metainfo(dict(from_file=str(DATASETS / f"coco_training_sigmas_x{factor}.py")))
    coco = parse_pose_metainfo(dict(from_file="configs/_base_/datasets/coco.py"))
    np.testing.assert_allclose(wide["sigmas"], factor * coco["sigmas"], rtol=1e-6)
    assert wide["keypoint_id2name"] == coco["keypoint_id2name"]
    assert wide["flip_indices"] == coco["flip_indices"]
    assert wide["skeleton_links"] == coco["skeleton_links"]


@pytest.mark.parametrize("config", RECIPE_CONFIGS, ids=lambda p: p.name)
def test_recipe_uses_wide_sigmas_for_training_only(config, tmp_path):
    cwd = os.getcwd()
    os.chdir(tmp_path)  # the metafile path must not depend on where the user runs from
    try:
        cfg = Config.fromfile(str(config))
    finally:
        os.chdir(cwd)
    head = cfg.model.head
    for metainfo in (head.loss_oks.metainfo, head.assigner.oks_calculator.metainfo):
        assert Path(metainfo).resolve() == TRAINING_SIGMAS[config].resolve()
    # the evaluator scores with the dataset's own (COCO) sigmas: no metainfo override there
    assert "metainfo" not in cfg.val_evaluator
    assert "sigmas" not in str(cfg.val_dataloader.dataset.get("metainfo", ""))


@pytest.mark.parametrize("config", RECIPE_CONFIGS, ids=lambda p: p.name)
def test_recipe_uses_rtmo_ml_stage1_mle_weight(config):
    # RTMO-t/s use 1.0 in stage 1; the short-run recipe uses RTMO-m/l's 0.01 (docs/demo_recipe.md)
    cfg = Config.fromfile(str(config))
    assert cfg.model.head.loss_mle.loss_weight == pytest.approx(0.01)


@pytest.mark.parametrize("config", RECIPE_CONFIGS, ids=lambda p: p.name)
def test_recipe_uses_64_bins_and_no_gradient_clipping(config):
    # docs/demo_recipe.md: 64 x 64 DCC bins and no clipping (RTMO: 192 x 256 bins, total norm <= 0.1)
    cfg = Config.fromfile(str(config))
    assert tuple(cfg.model.head.dcc_cfg.num_bins) == (64, 64)
    assert cfg.optim_wrapper.get("clip_grad") is None


def test_demo_pipeline_has_no_random_geometry():
    # the generator already draws every figure's position, size and pose; flips and colour jitter stay
    cfg = Config.fromfile(str(RECIPE_CONFIGS[0]))
    steps = {t["type"]: t for t in cfg.train_dataloader.dataset.pipeline}
    affine = steps["PoseRandomAffine"]
    assert (affine["shift_factor"], affine["rotate_factor"], tuple(affine["scale_factor"])) == (0.0, 0.0, (1.0, 1.0))
    assert "PoseHorizontalFlip" in steps and "PoseHSVJitter" in steps


def test_demo_uses_batch_4():
    # docs/demo_recipe.md, point 6: in a CPU-time-limited run, batch 4 beat batch 8 (0.174 vs 0.076)
    cfg = Config.fromfile(str(RECIPE_CONFIGS[0]))
    assert cfg.train_dataloader.batch_size == 4


def test_demo_feeds_160_everywhere_and_converts_to_channels_last_before_ema():
    # docs/demo_recipe.md, points 8 and 10: 160x160 input (the images are 256x256), NHWC convolutions
    cfg = Config.fromfile(str(RECIPE_CONFIGS[0]))
    sizes = [tuple(cfg.codec.input_size), tuple(cfg.model.test_cfg.input_size)]
    pipelines = cfg.train_dataloader.dataset.pipeline + cfg.val_dataloader.dataset.pipeline
    sizes += [tuple(t["input_size"]) for t in pipelines if "input_size" in t]
    sizes += [tuple(t["encoder"]["input_size"]) for t in cfg.train_dataloader.dataset.pipeline if "encoder" in t]
    assert len(sizes) == 5 and set(sizes) == {(160, 160)}
    hook_types = [h["type"] for h in cfg.custom_hooks]
    assert hook_types.index("ChannelsLastHook") < hook_types.index("EMAHook")


def test_demo_head_reads_the_stride_8_and_16_levels():
    # docs/demo_recipe.md, point 9: at 160x160 the head uses the neck's stride-8/16 outputs
    # (RTMO: 16/32); the neck's maps, the head's strides and its prior generator must agree
    import torch
    from mmpose.registry import MODELS
    from mmpose.utils import register_all_modules

    import rtmo_plugin  # noqa: F401

    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(str(RECIPE_CONFIGS[0]))
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        feats = model.extract_feat(torch.zeros(1, 3, 160, 160))
    assert [tuple(f.shape[-2:]) for f in feats] == [(20, 20), (10, 10)]
    assert tuple(model.head.featmap_strides) == (8, 16)
    assert [tuple(s) for s in model.head.prior_generator.strides] == [(8, 8), (16, 16)]
