"""Datasets and data transforms."""
from . import transforms

__all__ = ["transforms"]
