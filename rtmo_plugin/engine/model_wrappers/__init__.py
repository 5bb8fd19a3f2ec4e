"""Model wrappers for distributed training."""
from .independent_ranks_wrapper import IndependentRanksWrapper

__all__ = ["IndependentRanksWrapper"]
