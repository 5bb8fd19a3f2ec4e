"""FullPassPerRankSampler: every rank passes over the whole dataset each epoch, in an order of its own."""
from typing import List

import pytest

from mmpose.registry import DATA_SAMPLERS
from rtmo_plugin.datasets.samplers import FullPassPerRankSampler
from rtmo_plugin.datasets.samplers import full_pass_per_rank_sampler as module


def _order(monkeypatch: pytest.MonkeyPatch, rank: int, epoch: int, n: int = 50, seed: int = 7) -> List[int]:
    monkeypatch.setattr(module, "get_dist_info", lambda: (rank, 2))
    sampler = FullPassPerRankSampler(list(range(n)), shuffle=True, seed=seed)
    sampler.set_epoch(epoch)
    return list(sampler)


def test_each_rank_sees_every_index_once_per_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    for rank in (0, 1):
        for epoch in (0, 1):
            order = _order(monkeypatch, rank, epoch)
            assert sorted(order) == list(range(50)) and len(order) == 50


def test_orders_differ_by_rank_and_epoch_and_repeat_for_the_same_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    rank0_epoch0 = _order(monkeypatch, 0, 0)
    assert rank0_epoch0 == _order(monkeypatch, 0, 0)  # deterministic
    assert rank0_epoch0 != _order(monkeypatch, 1, 0)  # the ranks train on different batches
    assert rank0_epoch0 != _order(monkeypatch, 0, 1)  # and reshuffle every epoch
    assert rank0_epoch0 != _order(monkeypatch, 0, 0, seed=8)
    assert rank0_epoch0 != list(range(50))


def test_without_shuffle_every_rank_goes_in_index_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "get_dist_info", lambda: (1, 2))
    sampler = FullPassPerRankSampler(list(range(5)), shuffle=False, seed=0)
    assert list(sampler) == [0, 1, 2, 3, 4] and len(sampler) == 5
    assert "rank=1" in repr(sampler)


def test_the_registry_name_builds_it_with_the_runners_arguments() -> None:
    sampler = DATA_SAMPLERS.build(dict(type="FullPassPerRankSampler"), default_args=dict(dataset=[0, 1, 2], seed=3))
    assert isinstance(sampler, FullPassPerRankSampler) and sorted(sampler) == [0, 1, 2]
