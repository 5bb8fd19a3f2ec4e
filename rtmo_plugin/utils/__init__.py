"""Small helpers shared by the package."""
from .checkpoint_check import CheckpointMismatchError, check_checkpoint_compatibility
from .paths import SHARED_DATA_ENV, shared_data_dir

__all__ = ["CheckpointMismatchError", "check_checkpoint_compatibility", "SHARED_DATA_ENV", "shared_data_dir"]
