"""Data samplers."""
from .full_pass_per_rank_sampler import FullPassPerRankSampler

__all__ = ["FullPassPerRankSampler"]
