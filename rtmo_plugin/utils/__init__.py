"""Small helpers shared by the package."""
from .paths import SHARED_DATA_ENV, shared_data_dir

__all__ = ["SHARED_DATA_ENV", "shared_data_dir"]
