"""Each plugin registry name resolves to the plugin's own class, and none collides with MMPose/MMDet/MMEngine."""
import json
import subprocess
import sys
from typing import Dict, Tuple

import pytest
from mmengine.registry import Registry

import rtmo_plugin

# registry attribute in mmpose.registry -> names the plugin must provide there
EXPECTED: Dict[str, Tuple[str, ...]] = {
    "MODELS": ("RTMODCCHead", "MLECoordClsLoss", "RTMOBatchSyncResize", "SSTNTopdownEstimator",
               "AffineLocalizationNet", "ForeachExpMomentumEMA"),
    "OPTIM_WRAPPER_CONSTRUCTORS": ("MergedGroupsOptimWrapperConstructor",),
    "KEYPOINT_CODECS": ("BBoxFreeKeypointCodec",),
    "TRANSFORMS": ("PoseMosaic", "PoseMixUp", "PoseRandomAffine", "PoseHSVJitter", "PoseHorizontalFlip",
                   "PoseInstanceFilter", "PoseLetterboxResize", "PoseHeatmapMaskFromInvalid", "PoseGuidedProposals"),
    "HOOKS": ("RTMOStageSwitchHook", "NonFiniteLossHook", "AtomicCheckpointHook", "CheckpointCompatibilityHook",
              "ChannelsLastHook"),
    "TASK_UTILS": ("ParametricPoseNMS",),
    "METRICS": ("PoseNMSCocoMetric",),
    "DATASETS": ("CheckedCocoDataset", "CheckedCrowdPoseDataset"),
}

_FOREIGN_NAMES_SCRIPT = r"""
import json
from mmengine.registry import Registry
import mmengine.registry as E
import mmdet.registry as D
import mmpose.registry as P
from mmdet.utils import register_all_modules as det_all
from mmpose.utils import register_all_modules as pose_all
det_all(init_default_scope=False)
pose_all(init_default_scope=False)
names = {}
for mod in (E, D, P):
    for attr in dir(mod):
        reg = getattr(mod, attr)
        if isinstance(reg, Registry):
            names.setdefault(attr, set()).update(reg.module_dict)
print(json.dumps({k: sorted(v) for k, v in names.items()}))
"""


def _plugin_entries() -> Dict[Tuple[str, str], type]:
    """(registry attribute, name) -> class, for every class the plugin registered in mmpose's registries."""
    import mmpose.registry as pose_registry

    found = {}
    for attr in dir(pose_registry):
        reg = getattr(pose_registry, attr)
        if isinstance(reg, Registry):
            for name, obj in reg.module_dict.items():
                if getattr(obj, "__module__", "").startswith("rtmo_plugin."):
                    found[(attr, name)] = obj
    return found


@pytest.fixture(scope="module")
def foreign_names() -> Dict[str, set]:
    """Names registered by MMEngine, MMDet and MMPose alone, collected in a process without the plugin."""
    proc = subprocess.run([sys.executable, "-c", _FOREIGN_NAMES_SCRIPT], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "rtmo_plugin" not in proc.stdout
    return {k: set(v) for k, v in json.loads(proc.stdout.strip().splitlines()[-1]).items()}


def test_expected_names_resolve_to_plugin_classes() -> None:
    import mmpose.registry as pose_registry

    for attr, names in EXPECTED.items():
        registry = getattr(pose_registry, attr)
        for name in names:
            cls = registry.get(name)
            assert cls is not None, f"{name} is not registered in mmpose.registry.{attr}"
            assert cls.__module__.startswith("rtmo_plugin."), f"{attr}:{name} resolves to {cls.__module__}"


def test_every_plugin_class_is_registered_under_its_own_scope_name() -> None:
    entries = _plugin_entries()
    expected = {(attr, name) for attr, names in EXPECTED.items() for name in names}
    assert set(entries) == expected, f"unexpected: {set(entries) - expected}, missing: {expected - set(entries)}"
    for (attr, name), cls in entries.items():
        assert cls.__module__.startswith(rtmo_plugin.__name__ + ".")


def test_no_plugin_name_collides_with_mmpose_mmdet_mmengine(foreign_names: Dict[str, set]) -> None:
    every_foreign = set().union(*foreign_names.values())
    clashes = sorted(f"{attr}:{name}" for attr, name in _plugin_entries() if name in every_foreign)
    assert not clashes, f"plugin names that also exist in MMPose/MMDet/MMEngine registries: {clashes}"


def test_collision_detector_can_fail(foreign_names: Dict[str, set]) -> None:
    """Control: the foreign name set really contains the reference's RTMO names."""
    assert {"RTMOHead", "MLECCLoss"} <= foreign_names["MODELS"]
    assert {"Mosaic", "YOLOXMixUp", "BottomupRandomAffine"} <= foreign_names["TRANSFORMS"]


def test_dropped_experiments_are_not_registered() -> None:
    """Experiments that were measured and not adopted leave no registry name behind."""
    import mmpose.registry as pose_registry

    for attr, name in (("MODEL_WRAPPERS", "IndependentRanksWrapper"), ("HOOKS", "PeriodicWeightAveragingHook"),
                       ("DATA_SAMPLERS", "FullPassPerRankSampler"), ("HOOKS", "BudgetCosineLRHook")):
        assert getattr(pose_registry, attr).get(name) is None, f"{attr}:{name} is still registered"
