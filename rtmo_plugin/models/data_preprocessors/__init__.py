"""rtmo_plugin.models.data_preprocessors."""
from .rtmo_batch_sync_resize import RTMOBatchSyncResize

__all__ = ["RTMOBatchSyncResize"]
