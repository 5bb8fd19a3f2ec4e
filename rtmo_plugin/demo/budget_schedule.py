"""A cosine learning-rate decay that follows the wall clock, so that it ends inside a time budget on any machine.

The demo trains for a fixed wall-clock budget. With a cosine schedule over a fixed number of epochs, a machine
slower than planned is stopped by the budget while the rate is still high (both measured default runs before this
hook stopped at epoch 17 of 22 and 19 of 21), and a faster one finishes early and wastes time. This hook replaces the
config's ``CosineAnnealingLR`` after the warm-up: at every iteration it sets each group's rate to

    lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * f)) / 2,

with ``f`` the larger of the fraction of the post-warm-up *time* budget spent and the fraction of the post-warm-up
*iterations* done (the config's ``max_epochs`` stays a cap). After every epoch it stops training when one more
epoch, as long as the longest one so far (validation included), would overrun the budget, so the decay reaches its end
(f >= 1 - one epoch's share) when training stops. The floor ``eta_min`` is absolute for every group, or, with
``eta_min_ratio``, that share of each group's own initial rate, as in mmengine's ``CosineAnnealingLR``. (An absolute
floor undoes a group's ``lr_mult`` below 1 by the end: the demo's DCC group, 0.1x at the start, ends at 1x.)
"""
import math
import time
from typing import Any, Dict, List, Optional

from mmengine.hooks import Hook


def cosine_factor(fraction: float) -> float:
    """(1 + cos(pi f)) / 2 for ``fraction`` clipped to [0, 1]: 1 at the start, 0 at the end."""
    fraction = min(max(fraction, 0.0), 1.0)
    return 0.5 * (1.0 + math.cos(math.pi * fraction))


def split_cosine_scheduler(param_scheduler: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Take the ``CosineAnnealingLR`` entry out of a config's ``param_scheduler`` list (in place) and return it.

    Args:
        param_scheduler: the config's scheduler list (e.g. quadratic warm-up then cosine).

    Returns:
        The removed cosine entry (its ``eta_min`` and ``begin`` are what the hook needs).

    Raises:
        ValueError: the list has no ``CosineAnnealingLR`` entry, or more than one (listing the types found).
    """
    cosine = [i for i, s in enumerate(param_scheduler) if s.get("type") == "CosineAnnealingLR"]
    if len(cosine) != 1:
        raise ValueError("param_scheduler must hold exactly one CosineAnnealingLR for the budget schedule, found "
                         f"types {[s.get('type') for s in param_scheduler]}")
    return param_scheduler.pop(cosine[0])


class BudgetCosineLRHook(Hook):
    """Cosine decay over the wall-clock budget (see the module docstring); attached to a runner instance.

    Args:
        budget_seconds: wall-clock budget of ``runner.train()``, validation included.
        warmup_epochs: epochs left to the config's warm-up scheduler; the decay starts after them.
        eta_min: the rate every group decays to (absolute, as ``CosineAnnealingLR``'s ``eta_min``).
        eta_min_ratio: instead of ``eta_min``, each group decays to this share of its initial rate (as
            ``CosineAnnealingLR``'s ``eta_min_ratio``), so that an ``lr_mult`` holds to the end.
        clock: time source in seconds (tests pass a fake one).
    """

    def __init__(self, budget_seconds: float, warmup_epochs: int = 1, eta_min: float = 0.0,
                 clock: Any = time.time, eta_min_ratio: Optional[float] = None) -> None:
        if budget_seconds <= 0:
            raise ValueError(f"budget_seconds must be > 0, got {budget_seconds}")
        if warmup_epochs < 0:
            raise ValueError(f"warmup_epochs must be >= 0, got {warmup_epochs}")
        if eta_min_ratio is not None and eta_min:
            raise ValueError(f"give eta_min or eta_min_ratio, not both (got {eta_min} and {eta_min_ratio})")
        if eta_min_ratio is not None and not 0.0 <= eta_min_ratio <= 1.0:
            raise ValueError(f"eta_min_ratio must be in [0, 1], got {eta_min_ratio}")
        self.budget, self.warmup_epochs, self.eta_min, self.clock = budget_seconds, warmup_epochs, eta_min, clock
        self.eta_min_ratio = eta_min_ratio
        self._t0 = 0.0
        self._decay_start_time: Optional[float] = None
        self._last_epoch_end = 0.0
        self._longest_epoch = 0.0
        self.fractions: List[float] = []  # f at every decayed iteration (for the record and the tests)
        self.stopped_by_budget = False

    def before_train(self, runner: Any) -> None:
        self._t0 = self._last_epoch_end = self.clock()
        self._warmup_iters = self.warmup_epochs * len(runner.train_dataloader)

    def before_train_iter(self, runner: Any, batch_idx: int, data_batch: Any = None) -> None:
        """Set every group's rate for this iteration (from the first iteration after the warm-up on)."""
        if runner.iter < self._warmup_iters:
            return
        now = self.clock()
        if self._decay_start_time is None:
            self._decay_start_time = now
        time_left_at_start = self.budget - (self._decay_start_time - self._t0)
        time_fraction = (now - self._decay_start_time) / max(time_left_at_start, 1e-9)
        iter_span = max(runner.max_iters - self._warmup_iters, 1)
        iter_fraction = (runner.iter - self._warmup_iters) / iter_span
        fraction = max(time_fraction, iter_fraction)
        self.fractions.append(fraction)
        factor = cosine_factor(fraction)
        optimizer = runner.optim_wrapper.optimizer
        for group in optimizer.param_groups:
            initial = group.setdefault("initial_lr", group["lr"])
            floor = self.eta_min if self.eta_min_ratio is None else initial * self.eta_min_ratio
            group["lr"] = floor + (initial - floor) * factor

    def after_train_epoch(self, runner: Any) -> None:
        """Stop when one more epoch as long as the longest so far (validation included) would overrun the budget."""
        now = self.clock()
        self._longest_epoch = max(self._longest_epoch, now - self._last_epoch_end)
        self._last_epoch_end = now
        epoch_span = self._longest_epoch
        if now - self._t0 + epoch_span > self.budget and runner.epoch + 1 < runner.max_epochs:
            runner.train_loop.stop_training = True
            self.stopped_by_budget = True
            runner.logger.warning(f"budget schedule: {now - self._t0:.0f} s of {self.budget:.0f} s spent and an "
                                  f"epoch takes {epoch_span:.0f} s; stopping after epoch {runner.epoch + 1}")


def budget_schedule_from_config(cfg: Any, budget_seconds: float,
                                clock: Any = time.time) -> Optional[BudgetCosineLRHook]:
    """Swap the config's epoch-based cosine for a :class:`BudgetCosineLRHook` (``cfg.param_scheduler`` is edited).

    The cosine entry's ``begin`` (in epochs, as in the demo config) is where the warm-up ends and the decay
    starts; its ``eta_min`` or ``eta_min_ratio`` is kept.

    Args:
        cfg: an mmengine config whose ``param_scheduler`` holds one ``CosineAnnealingLR`` with ``by_epoch=True``.
        budget_seconds: the wall-clock budget of the training.
        clock: the hook's time source.

    Returns:
        The hook to register on the runner; None when the list has no cosine because the run ends inside the
        warm-up (``build_config`` drops schedulers that would start after the last epoch).

    Raises:
        ValueError: more than one cosine entry, or one counted in iterations (named).
    """
    schedulers = list(cfg.param_scheduler)
    if not any(s.get("type") == "CosineAnnealingLR" for s in schedulers):
        return None
    cosine = split_cosine_scheduler(schedulers)
    if not cosine.get("by_epoch", True):
        raise ValueError("param_scheduler: the CosineAnnealingLR entry must count epochs (by_epoch=True) for the "
                         f"budget schedule, got {dict(cosine)}")
    cfg.param_scheduler = schedulers
    ratio = cosine.get("eta_min_ratio")
    return BudgetCosineLRHook(budget_seconds, warmup_epochs=int(cosine.get("begin", 0)),
                              eta_min=float(cosine.get("eta_min") or 0.0), clock=clock,
                              eta_min_ratio=None if ratio is None else float(ratio))
