"""Training-time machinery: hooks."""
from . import hooks

__all__ = ["hooks"]
