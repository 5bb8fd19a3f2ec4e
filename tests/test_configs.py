"""Our RTMO configs reproduce MMPose's recipes, with the plugin's components in place of the RTMO-specific ones."""
import copy
from typing import Any

import pytest
from mmengine.config import Config

from rtmo_plugin.testing.reference import PLUGIN_CONFIGS, plugin_config_path, reference_config_path
from rtmo_plugin.testing.reference_names import OURS_TO_REFERENCE

# reference type -> our type (everything else must be literally equal)
RENAMES = {reference: ours for ours, reference in OURS_TO_REFERENCE.items()}
RENAMES.update({  # robustness (docs/robustness.md): validated datasets, crash-safe checkpoint writing
    "CocoDataset": "CheckedCocoDataset",
    "CrowdPoseDataset": "CheckedCrowdPoseDataset",
    "CheckpointHook": "AtomicCheckpointHook",
})
ROBUSTNESS_HOOKS = ("NonFiniteLossHook", "CheckpointCompatibilityHook")
FORBIDDEN = {"RTMOHead", "MLECCLoss", "YOLOXPoseAnnotationProcessor", "Mosaic", "YOLOXMixUp", "BottomupRandomAffine",
             "YOLOXHSVRandomAug", "RTMOModeSwitchHook", "YOLOXPoseModeSwitchHook"}
PAIRS = sorted(PLUGIN_CONFIGS)


def _load(variant: str, dataset: str):
    return Config.fromfile(str(plugin_config_path(variant, dataset))), \
        Config.fromfile(str(reference_config_path(variant, dataset)))


def _plain(x: Any) -> Any:
    """ConfigDicts -> dicts, tuples -> lists, reference types renamed to ours, ``_scope_`` dropped."""
    if hasattr(x, "to_dict"):
        x = x.to_dict()
    if isinstance(x, dict):
        # '_scope_' is added by inheriting 'mmpose::' bases; the default scope is mmpose anyway
        out = {k: _plain(v) for k, v in x.items() if k != "_scope_"}
        if isinstance(out.get("type"), str):
            out["type"] = RENAMES.get(out["type"], out["type"])
        return out
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x


def _types(x: Any) -> set:
    if hasattr(x, "to_dict"):
        x = x.to_dict()
    if isinstance(x, dict):
        found = {x["type"]} if isinstance(x.get("type"), str) else set()
        return found.union(*[_types(v) for v in x.values()]) if x else found
    if isinstance(x, (list, tuple)):
        return set().union(*[_types(v) for v in x]) if x else set()
    return set()


@pytest.mark.parametrize("variant,dataset", PAIRS)
def test_config_loads_with_plugin_imports_and_no_reference_rtmo_types(variant, dataset):
    ours, _ = _load(variant, dataset)
    assert ours.custom_imports == dict(imports=["rtmo_plugin"], allow_failed_imports=False)
    assert ours.default_scope == "mmpose"
    assert not (_types(ours._cfg_dict) & FORBIDDEN)
    assert ours.model.head.type == "RTMODCCHead"
    assert ours.model.head.loss_mle.type == "MLECoordClsLoss"


@pytest.mark.parametrize("variant,dataset", PAIRS)
def test_model_equals_reference_model(variant, dataset):
    ours, ref = _load(variant, dataset)
    assert _plain(ours.model) == _plain(ref.model)


@pytest.mark.parametrize("variant,dataset", PAIRS)
def test_recipe_equals_reference(variant, dataset):
    ours, ref = _load(variant, dataset)
    for key in ("train_cfg", "optim_wrapper", "param_scheduler", "auto_scale_lr", "default_hooks", "val_evaluator",
                "test_evaluator"):
        assert _plain(ours[key]) == _plain(ref[key]), key
    ref_train = ref.train_dataloader.dataset
    assert _plain(ours.train_dataloader.dataset.pipeline) == _plain(ref_train.pipeline)
    assert ours.train_dataloader.batch_size == ref.train_dataloader.batch_size
    ref_val = _plain(ref.val_dataloader)
    our_val = _plain(ours.val_dataloader)
    assert our_val == ref_val
    if variant != "t":  # the reference RTMO-t trains on body7 (a CombinedDataset); ours on COCO only
        assert _plain(ours.train_dataloader) == _plain(ref.train_dataloader)


@pytest.mark.parametrize("variant,dataset", PAIRS)
def test_stage_switch_hook_replaces_both_reference_hooks(variant, dataset):
    ours, ref = _load(variant, dataset)
    by_type = {h["type"]: h for h in ref.custom_hooks}
    yolox, rtmo = by_type["YOLOXPoseModeSwitchHook"], by_type["RTMOModeSwitchHook"]
    ours_by_type = {h["type"]: h for h in ours.custom_hooks}
    stage = ours_by_type["RTMOStageSwitchHook"]
    assert _plain(stage["epoch_attributes"]) == _plain(rtmo["epoch_attributes"])
    assert stage["num_last_epochs"] == yolox["num_last_epochs"]
    assert _plain(stage["new_train_pipeline"]) == _plain(yolox["new_train_pipeline"])
    assert "new_train_dataset" not in stage or variant != "t"
    for name in ("SyncNormHook", "EMAHook"):
        assert _plain(ours_by_type[name]) == _plain(by_type[name])
    for name in ROBUSTNESS_HOOKS:
        assert name in ours_by_type, name
    assert len(ours.custom_hooks) == len(ref.custom_hooks) - 1 + len(ROBUSTNESS_HOOKS)


def test_every_plugin_config_is_tested(repo_root):
    shipped = {p.name for p in (repo_root / "configs").glob("rtmo-*.py")}
    assert shipped == set(PLUGIN_CONFIGS.values())


@pytest.mark.parametrize("variant,dataset", PAIRS)
def test_pipelines_hooks_and_model_build_with_the_plugin_components(variant, dataset):
    """Every transform, hook and model part of the config is registered and accepts the config's arguments."""
    import torch
    from mmpose.registry import HOOKS, MODELS, TRANSFORMS

    ours, _ = _load(variant, dataset)
    stage_hook = next(h for h in ours.custom_hooks if h["type"] == "RTMOStageSwitchHook")
    pipelines = {"stage1": ours.train_dataloader.dataset.pipeline, "stage2": stage_hook["new_train_pipeline"],
                 "val": ours.val_dataloader.dataset.pipeline}
    for name, pipeline in pipelines.items():
        for step in pipeline:
            assert TRANSFORMS.build(copy.deepcopy(step)) is not None, (name, step["type"])
    for hook in ours.custom_hooks:
        hook = copy.deepcopy(hook)
        hook.pop("priority", None)  # the runner pops it before building, as here
        assert HOOKS.build(hook) is not None, hook["type"]
    model_cfg = copy.deepcopy(ours.model)
    model_cfg.backbone.init_cfg = None
    with torch.device("meta"):
        model = MODELS.build(model_cfg)
    aug = model.data_preprocessor.batch_augments[0]
    assert type(aug).__name__ == "RTMOBatchSyncResize"
