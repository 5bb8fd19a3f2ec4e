"""Fit an epoch-based run, and its cosine decay, into a wall-clock budget at the speed this machine shows.

The demo plans its epochs for a typical speed of this project's machine, but the same machine runs up to 1.3x slower
from one run to the next. A run that hits the budget is stopped mid-schedule, with the learning rate still high. This
hook measures the first epochs and, if the planned epochs would not fit, ends the run earlier and moves the end of
every cosine schedule there, so the decay still reaches its floor. It never lengthens a run.
"""
import math
import time
from typing import Any, Iterable, Optional

from mmengine.hooks import Hook
from mmengine.optim.scheduler.param_scheduler import CosineAnnealingParamScheduler


def _schedulers(runner: Any) -> Iterable[Any]:
    """Every parameter scheduler of a runner (``param_schedulers`` is a list, or a dict of lists)."""
    scheds = runner.param_schedulers or []
    groups = scheds.values() if isinstance(scheds, dict) else [scheds]
    for group in groups:
        yield from group


class FitScheduleToBudgetHook(Hook):
    """Shorten an epoch-based run to the epochs that fit ``budget_seconds``, with its cosine decay.

    At the start of epoch ``measure_epochs`` (0-based, so after that many epochs and their validations) it
    extrapolates the time per epoch, ``elapsed / measure_epochs``, and sets the run's last epoch to the largest that
    fits ``margin`` of the remaining time, if that is below the configured one. Every cosine scheduler that would end
    later is moved to end there, with ``T_max`` scaled by the same factor, so the learning-rate curve keeps its shape
    in a shorter run. With ``measure_epochs`` a multiple of the validation interval, the measured epochs carry their
    share of validation time.

    Args:
        budget_seconds: wall-clock budget of the whole training run.
        measure_epochs: epochs to time before deciding (epoch 0's warm-up makes the estimate cautious).
        margin: fraction of the remaining time to plan with.

    Attributes:
        fitted_max_epochs (int | None): the new last epoch when the run was shortened, else None.
    """

    priority = "HIGH"  # before the progress hook reads runner.max_iters

    def __init__(self, budget_seconds: float, measure_epochs: int = 3, margin: float = 0.95) -> None:
        if budget_seconds <= 0 or measure_epochs < 1 or not 0 < margin <= 1:
            raise ValueError(f"FitScheduleToBudgetHook: need budget_seconds > 0, measure_epochs >= 1 and "
                             f"0 < margin <= 1, got {budget_seconds}, {measure_epochs}, {margin}")
        self.budget, self.measure_epochs, self.margin = budget_seconds, measure_epochs, margin
        self.fitted_max_epochs: Optional[int] = None
        self._t0 = 0.0

    def before_train(self, runner: Any) -> None:
        self._t0 = time.time()

    def before_train_epoch(self, runner: Any) -> None:
        if runner.epoch != self.measure_epochs:
            return
        elapsed = time.time() - self._t0
        per_epoch = elapsed / self.measure_epochs
        fits = self.measure_epochs + int(math.floor(self.margin * max(self.budget - elapsed, 0.0) / per_epoch))
        planned = runner.train_loop.max_epochs
        new_max = max(fits, runner.epoch + 1)
        if new_max >= planned:
            return
        self.shorten(runner, new_max)
        runner.logger.warning(f"at {per_epoch:.0f} s per epoch the planned {planned} epochs do not fit the wall-clock "
                              f"budget of {self.budget:.0f} s; the run and its cosine decay now end after epoch "
                              f"{new_max}")

    def shorten(self, runner: Any, new_max_epochs: int) -> None:
        """End the run after ``new_max_epochs`` and move later-ending cosine schedules' ends there."""
        loop = runner.train_loop
        iters_per_epoch = len(loop.dataloader)
        new_end = new_max_epochs * iters_per_epoch
        for sched in _schedulers(runner):
            if isinstance(sched, CosineAnnealingParamScheduler) and sched.end > new_end > sched.begin:
                sched.T_max = max(1, round(sched.T_max * (new_end - sched.begin) / (sched.end - sched.begin)))
                sched.end = new_end
        loop._max_epochs = new_max_epochs
        loop._max_iters = new_end
        self.fitted_max_epochs = new_max_epochs
