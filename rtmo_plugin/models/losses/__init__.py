"""rtmo_plugin.models.losses."""
from .mle_loss import MLECoordClsLoss

__all__ = ["MLECoordClsLoss"]
