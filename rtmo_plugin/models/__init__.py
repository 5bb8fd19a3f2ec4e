"""Model components: heads, losses, batch augmentation, RMPE modules."""
from . import data_preprocessors, heads, losses, rmpe, utils

__all__ = ["data_preprocessors", "heads", "losses", "rmpe", "utils"]
