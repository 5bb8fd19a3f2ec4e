"""Training-time machinery: hooks, the CPU-capable launcher, and faster drop-ins for the optimiser constructor
and the EMA."""
from . import hooks, optim

__all__ = ["hooks", "optim"]
