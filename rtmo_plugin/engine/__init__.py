"""Training-time machinery: hooks, and faster drop-ins for the optimiser constructor and the EMA."""
from . import hooks, optim

__all__ = ["hooks", "optim"]
