"""Datasets, data samplers and data transforms."""
from . import samplers, transforms
from .checked_coco import CheckedCocoDataset, CheckedCrowdPoseDataset
from .data_validation import BadDataError, DataProblem

__all__ = ["samplers", "transforms", "CheckedCocoDataset", "CheckedCrowdPoseDataset", "BadDataError", "DataProblem"]
