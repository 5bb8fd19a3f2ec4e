"""Small helpers shared by the package."""
from .checkpoint_check import CheckpointMismatchError, check_checkpoint_compatibility
from .paths import SHARED_DATA_ENV, shared_data_dir
from .pretrained_download import PretrainedDownloadError, explain_download_failures

explain_download_failures()  # a clear error when an init_cfg URL cannot be downloaded (offline)

__all__ = ["CheckpointMismatchError", "check_checkpoint_compatibility", "SHARED_DATA_ENV", "shared_data_dir",
           "PretrainedDownloadError", "explain_download_failures"]
