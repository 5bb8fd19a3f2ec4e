"""Test helpers shared by the project's tests and tools (reference-model oracle, sample inputs)."""
from .reference import (
    build_plugin_model,
    build_reference_model,
    calibrate_classifier,
    count_parameters,
    load_images,
    plugin_config_path,
    reference_config_path,
    state_dict_shapes,
)

__all__ = [
    "build_plugin_model", "build_reference_model", "calibrate_classifier", "count_parameters", "load_images",
    "plugin_config_path", "reference_config_path", "state_dict_shapes",
]
