"""A training sampler under which every rank passes over the whole dataset each epoch, in its own order.

mmengine's ``DefaultSampler`` shares an epoch out over the ranks, which suits DDP: the ranks' batches together make
one step. When the ranks train independently and only average their weights now and then
(:class:`~rtmo_plugin.engine.model_wrappers.IndependentRanksWrapper`), each rank should take as many steps per epoch
as one process would, so that an epoch, the warm-up, the validation interval and the learning-rate schedule keep
their meaning from the config.
"""
from typing import Iterator, Optional, Sized

import torch
from mmengine.dist import get_dist_info, sync_random_seed
from mmpose.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class FullPassPerRankSampler(torch.utils.data.Sampler):
    """Every index of the dataset once per epoch on every rank, shuffled by (seed, rank, epoch).

    Args:
        dataset: the dataset (only its length is read).
        shuffle: shuffle the order (else 0..N-1 on every rank).
        seed: base seed; None draws one and shares it among the ranks (as ``DefaultSampler`` does). The rank is mixed
            in, so ranks differ even when the runner gives them the same seed.
    """

    def __init__(self, dataset: Sized, shuffle: bool = True, seed: Optional[int] = None) -> None:
        super().__init__()
        self.dataset = dataset
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else int(seed)
        self.rank, self.world_size = get_dist_info()
        self.epoch = 0

    def __iter__(self) -> Iterator[int]:
        if not self.shuffle:
            return iter(range(len(self.dataset)))
        generator = torch.Generator()
        # distinct streams for (seed, rank, epoch); the large odd multipliers keep neighbouring values apart
        generator.manual_seed(self.seed + 1_000_003 * self.rank + 7_919 * self.epoch)
        return iter(torch.randperm(len(self.dataset), generator=generator).tolist())

    def __len__(self) -> int:
        return len(self.dataset)

    def set_epoch(self, epoch: int) -> None:
        """Called by ``DistSamplerSeedHook`` before every epoch."""
        self.epoch = epoch

    def __repr__(self) -> str:
        return f"{type(self).__name__}(len={len(self)}, shuffle={self.shuffle}, rank={self.rank})"
