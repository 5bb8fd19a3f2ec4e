"""The RTMO data pipelines as the project's configs define them, ours or renamed to MMPose's reference.

The configs are the one definition of the training and test pipelines; tests and benchmarks read them from
there instead of writing them again.
"""
import copy
from typing import Any, List, Optional, Tuple

from .reference import plugin_config_path
from .reference_names import to_reference_types

#: config keys of the pipelines: stage 1 (mosaic, perspective, mixup), stage 2 (letterbox affine, invalid mask)
PIPELINE_KEYS = ("train_pipeline_stage1", "train_pipeline_stage2", "val_pipeline")
#: transform fields that hold the model input size ``(W, H)``
_SIZE_FIELDS = ("input_size", "img_scale")


def _resize(node: Any, input_size: Tuple[int, int]) -> None:
    """Set every input-size field of a pipeline tree to ``input_size`` in place."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _SIZE_FIELDS:
                node[key] = tuple(input_size)
            else:
                _resize(value, input_size)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _resize(value, input_size)


def config_pipeline(key: str, variant: str = "s", input_size: Optional[Tuple[int, int]] = None,
                    reference: bool = False) -> List[dict]:
    """A pipeline list of a shipped COCO config.

    Args:
        key (str): one of :data:`PIPELINE_KEYS`.
        variant (str): RTMO variant of the config (``'t'``, ``'s'``, ``'m'``, ``'l'``); m and l keep the
            stage-2 affine jitter, t has no mixup. Defaults to ``'s'``.
        input_size (tuple[int, int], optional): replaces the config's ``(W, H)`` everywhere in the pipeline
            (the codec included). Defaults to None (the config's own).
        reference (bool): rename the transforms to MMPose 1.3.2's. Defaults to False.

    Returns:
        list[dict]: a fresh copy of the pipeline config.
    """
    from mmengine.config import Config

    if key not in PIPELINE_KEYS:
        raise KeyError(f"config_pipeline: key must be one of {PIPELINE_KEYS}, got {key!r}")
    pipeline = copy.deepcopy(Config.fromfile(str(plugin_config_path(variant))).to_dict()[key])
    if input_size is not None:
        _resize(pipeline, input_size)
    return to_reference_types(pipeline) if reference else pipeline
