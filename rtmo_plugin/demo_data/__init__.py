"""Synthetic multi-person keypoint data (COCO format) and the embedded demo built on it."""
from .figure import COCO_SKELETON_1BASED, KEYPOINT_NAMES, Figure, sample_figure
from .generator import SyntheticConfig, dataset_summary, generate_split, render_image

__all__ = ["COCO_SKELETON_1BASED", "KEYPOINT_NAMES", "Figure", "SyntheticConfig", "dataset_summary",
           "generate_split", "render_image", "sample_figure"]
