"""Our registry names and the MMPose 1.3.2 names they replace; rename a config to run the reference code.

Our components take the same constructor arguments as their MMPose counterparts, so a config runs on the reference
implementation after renaming the ``type`` fields. Used by ``experiments/overfit_check.py`` to train both side by side
and by the pipeline builders' ``reference=True``.
The stage-switch hook is kept: it only sets head attributes that both heads have. So are the optimiser constructor
and the EMA type of `rtmo_plugin.engine.optim` (MMPose's param-wise rules and MMDet's EMA, computed in batched calls).
"""
import copy
from typing import Any, Dict

#: our name -> MMPose 1.3.2 name
OURS_TO_REFERENCE: Dict[str, str] = {
    "RTMODCCHead": "RTMOHead",
    "MLECoordClsLoss": "MLECCLoss",
    "BBoxFreeKeypointCodec": "YOLOXPoseAnnotationProcessor",
    "RTMOBatchSyncResize": "BatchSyncRandomResize",
    "PoseMosaic": "Mosaic",
    "PoseMixUp": "YOLOXMixUp",
    "PoseRandomAffine": "BottomupRandomAffine",
    "PoseHSVJitter": "YOLOXHSVRandomAug",
    "PoseHorizontalFlip": "RandomFlip",
    "PoseInstanceFilter": "FilterAnnotations",
    "PoseLetterboxResize": "BottomupResize",
    "PoseHeatmapMaskFromInvalid": "BottomupGetHeatmapMask",
}


def to_reference_types(cfg: Any) -> Any:
    """Return a deep copy of ``cfg`` (dict/list/Config tree) with every ``type`` renamed per ``OURS_TO_REFERENCE``.

    Args:
        cfg: a config node (``dict``, ``mmengine.Config``/``ConfigDict``, list or tuple).

    Returns:
        The renamed copy (same container types).
    """
    out = copy.deepcopy(cfg)
    _rename(out)
    return out


def _rename(node: Any) -> None:
    if isinstance(node, dict):
        t = node.get("type")
        if isinstance(t, str) and t in OURS_TO_REFERENCE:
            node["type"] = OURS_TO_REFERENCE[t]
        for value in node.values():
            _rename(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _rename(value)
