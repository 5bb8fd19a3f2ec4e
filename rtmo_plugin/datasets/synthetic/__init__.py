"""Synthetic multi-person keypoint data in COCO format: stick figures with known poses (no download needed)."""
from .figure import COCO_SKELETON_1BASED, KEYPOINT_NAMES, Figure, sample_figure
from .generator import GENERATOR_VERSION, SyntheticConfig, dataset_summary, generate_split, render_image

__all__ = ["COCO_SKELETON_1BASED", "KEYPOINT_NAMES", "Figure", "GENERATOR_VERSION", "SyntheticConfig",
           "dataset_summary", "generate_split", "render_image", "sample_figure"]
