"""Datasets, data samplers and data transforms."""
from . import transforms
from .checked_coco import CheckedCocoDataset, CheckedCrowdPoseDataset
from .data_validation import BadDataError, DataProblem

__all__ = ["transforms", "CheckedCocoDataset", "CheckedCrowdPoseDataset", "BadDataError", "DataProblem"]
