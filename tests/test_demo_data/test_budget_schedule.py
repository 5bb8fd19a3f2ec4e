"""FitScheduleToBudgetHook: a run that would overrun its budget ends earlier, with its cosine decay complete."""
from types import SimpleNamespace
from typing import List
from unittest.mock import MagicMock

import pytest
import torch
from mmengine.optim.scheduler import CosineAnnealingLR

from rtmo_plugin.demo_data import budget_schedule
from rtmo_plugin.demo_data.budget_schedule import FitScheduleToBudgetHook

ITERS = 5  # iterations per epoch


class _Loop:
    def __init__(self, max_epochs: int) -> None:
        self.dataloader = list(range(ITERS))
        self._max_epochs, self._max_iters = max_epochs, max_epochs * ITERS

    @property
    def max_epochs(self) -> int:
        return self._max_epochs


def _runner(max_epochs: int = 10):
    """A runner with a warm-up epoch and a cosine from epoch 1 to the end, as the demo config has them."""
    opt = torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=1.0)
    sched = CosineAnnealingLR(opt, T_max=max_epochs * ITERS, begin=ITERS, end=max_epochs * ITERS, eta_min=0.01,
                              by_epoch=False)
    return SimpleNamespace(epoch=0, train_loop=_Loop(max_epochs), param_schedulers=[sched], logger=MagicMock()), opt


def _lrs(runner, opt, hook, steps: int, clock: List[float], seconds_per_epoch: float) -> List[float]:
    """Step the scheduler ``steps`` iterations; at each epoch start call the hook; returns the lr before each step."""
    lrs = []
    for it in range(steps):
        if it % ITERS == 0:
            runner.epoch = it // ITERS
            clock[0] = runner.epoch * seconds_per_epoch
            hook.before_train_epoch(runner)
        lrs.append(opt.param_groups[0]["lr"])
        runner.param_schedulers[0].step()
    return lrs


@pytest.fixture
def clock(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(budget_schedule.time, "time", lambda: now[0])
    return now


def test_an_overrunning_run_ends_where_it_fits_with_its_decay_complete(clock) -> None:
    planned_runner, planned_opt = _runner()
    planned = _lrs(planned_runner, planned_opt, FitScheduleToBudgetHook(1e9), 10 * ITERS, clock, 10.0)
    runner, opt = _runner()
    hook = FitScheduleToBudgetHook(budget_seconds=100.0, measure_epochs=3, margin=0.95)
    clock[0] = 0.0
    hook.before_train(runner)
    lrs = _lrs(runner, opt, hook, 10 * ITERS, clock, 10.0)
    # 30 s for 3 epochs: 0.95 * 70 s left = 6 more epochs -> the run ends after epoch 9 instead of 10
    assert hook.fitted_max_epochs == 9
    assert runner.train_loop.max_epochs == 9 and runner.train_loop._max_iters == 9 * ITERS
    assert runner.param_schedulers[0].end == 9 * ITERS
    assert lrs[:3 * ITERS] == planned[:3 * ITERS]  # nothing changes before the decision
    # the shortened decay reaches (about) the same floor at its new end as the planned one at its end
    assert lrs[9 * ITERS] == pytest.approx(planned[10 * ITERS - 1], abs=0.02)
    assert lrs[9 * ITERS] < 0.1 < lrs[8 * ITERS - 1] * 2
    assert all(b <= a for a, b in zip(lrs[ITERS:9 * ITERS], lrs[ITERS + 1:9 * ITERS + 1]))


def test_a_run_that_fits_is_left_alone_and_none_is_lengthened(clock) -> None:
    runner, opt = _runner()
    hook = FitScheduleToBudgetHook(budget_seconds=1000.0)
    hook.before_train(runner)
    _lrs(runner, opt, hook, 10 * ITERS, clock, 10.0)
    assert hook.fitted_max_epochs is None and runner.train_loop.max_epochs == 10
    assert runner.param_schedulers[0].end == 10 * ITERS


def test_it_decides_once_after_the_measured_epochs_and_keeps_at_least_the_current_one(clock) -> None:
    runner, _ = _runner()
    hook = FitScheduleToBudgetHook(budget_seconds=10.0, measure_epochs=2)
    hook.before_train(runner)
    runner.epoch, clock[0] = 1, 100.0
    hook.before_train_epoch(runner)  # too early: no decision
    assert runner.train_loop.max_epochs == 10
    runner.epoch = 2
    hook.before_train_epoch(runner)  # already over budget: run epoch 2, then stop
    assert hook.fitted_max_epochs == 3 and runner.train_loop.max_epochs == 3
    runner.logger.warning.assert_called_once()


def test_bad_arguments_are_refused() -> None:
    for kwargs in (dict(budget_seconds=0), dict(budget_seconds=10, measure_epochs=0),
                   dict(budget_seconds=10, margin=1.5)):
        with pytest.raises(ValueError, match="FitScheduleToBudgetHook"):
            FitScheduleToBudgetHook(**kwargs)
