"""PeriodicWeightAveragingHook: local SGD's averaging, over two real gloo ranks, at the iterations it promises."""
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmengine.hooks import EMAHook
from mmengine.model import ExponentialMovingAverage

from rtmo_plugin.demo_data.multiprocess import free_local_port
from rtmo_plugin.engine.hooks import PeriodicWeightAveragingHook
from rtmo_plugin.engine.hooks.periodic_weight_averaging_hook import average_over_ranks, model_and_ema_copies
from rtmo_plugin.engine.model_wrappers import IndependentRanksWrapper
from rtmo_plugin.utils.compat import destroy_process_group


def _net(value: float) -> torch.nn.Module:
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    with torch.no_grad():
        for p in net.parameters():
            p.fill_(value)
        net[1].running_mean.fill_(value)
        net[1].num_batches_tracked.fill_(int(value))
    return net


def _runner(model: torch.nn.Module, ema: torch.nn.Module, iteration: int) -> SimpleNamespace:
    hook = EMAHook()
    hook.ema_model = ema
    return SimpleNamespace(model=IndependentRanksWrapper(model), hooks=[hook], iter=iteration)


def _average_on_rank(rank: int, port: int, out_dir: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    try:
        # rank 0 holds 1.0 everywhere, rank 1 holds 3.0; interval 2
        model, ema = _net(1.0 + 2.0 * rank), ExponentialMovingAverage(_net(10.0 + 2.0 * rank))
        hook = PeriodicWeightAveragingHook(interval=2)
        seen = {}
        runner = _runner(model, ema, iteration=0)  # after iteration 1: not yet
        hook.after_train_iter(runner, 0)
        seen["after_iter_1"] = float(model[0].weight[0, 0])
        runner.iter = 1  # after iteration 2: the model is averaged, the EMA is not
        hook.after_train_iter(runner, 1)
        seen["after_iter_2"] = float(model[0].weight[0, 0])
        seen["ema_after_iter_2"] = float(ema.module[0].weight[0, 0])
        seen["running_mean"] = float(model[1].running_mean[0])
        seen["batches_tracked"] = int(model[1].num_batches_tracked)
        hook.after_train_epoch(runner)  # the EMA copy too
        seen["ema_after_epoch"] = float(ema.module[0].weight[0, 0])
        seen["averagings"] = hook.averagings
        torch.save(seen, Path(out_dir) / f"rank{rank}.pt")
    finally:
        destroy_process_group()  # safe on torch 2.1 too (see compat)


def test_two_ranks_average_their_models_every_interval_and_their_emas_after_each_epoch(tmp_path: Path) -> None:
    mp.start_processes(_average_on_rank, args=(free_local_port(), str(tmp_path)), nprocs=2, start_method="spawn")
    seen = [torch.load(tmp_path / f"rank{r}.pt") for r in (0, 1)]
    assert [s["after_iter_1"] for s in seen] == [1.0, 3.0]  # each rank's own weights between averagings
    assert [s["after_iter_2"] for s in seen] == [2.0, 2.0]  # the mean, on both ranks
    assert [s["running_mean"] for s in seen] == [2.0, 2.0]  # float buffers too
    assert [s["batches_tracked"] for s in seen] == [1, 3]  # integer counters stay each rank's own
    assert [s["ema_after_iter_2"] for s in seen] == [10.0, 12.0]
    assert [s["ema_after_epoch"] for s in seen] == [11.0, 11.0]
    assert [s["averagings"] for s in seen] == [1, 1]


def test_outside_a_process_group_nothing_changes_and_a_bad_interval_is_named() -> None:
    net = _net(4.0)
    average_over_ranks(net)
    assert all(torch.all(p == 4.0) for p in net.parameters())
    with pytest.raises(ValueError, match="interval must be >= 1, got 0"):
        PeriodicWeightAveragingHook(interval=0)


def test_the_model_is_unwrapped_and_listed_with_its_ema_copy() -> None:
    model, ema = _net(1.0), ExponentialMovingAverage(_net(2.0))
    assert model_and_ema_copies(_runner(model, ema, 0)) == [model, ema]
