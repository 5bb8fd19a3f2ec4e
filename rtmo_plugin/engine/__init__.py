"""Training-time machinery: hooks, a model wrapper for independently stepping ranks, and faster drop-ins for the
optimiser constructor and the EMA."""
from . import hooks, model_wrappers, optim

__all__ = ["hooks", "model_wrappers", "optim"]
