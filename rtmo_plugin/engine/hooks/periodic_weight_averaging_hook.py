"""Average the ranks' weights every few iterations: "local SGD" for ranks that step independently.

Between two averagings each rank trains its own copy on its own images (:class:`IndependentRanksWrapper`,
``FullPassPerRankSampler``), so no step waits for another rank; every ``interval`` iterations the parameters and the
floating-point buffers (batch-norm statistics) become their mean over the ranks. Adam's moment estimates stay per
rank. After every epoch the EMA copies are averaged too, and so are the model's weights once more: every rank then
validates and checkpoints the same model. Averaging the EMA copies then is exact, not an approximation: the EMA is
linear in the model's weights, so the mean of the ranks' EMAs is the EMA of the mean.
"""
from typing import Any, List, Optional

import torch
from mmengine.dist import all_reduce_params, get_world_size
from mmengine.hooks import EMAHook, Hook
from mmengine.model import is_model_wrapper
from mmpose.registry import HOOKS

DATA_BATCH = Optional[Any]


def model_and_ema_copies(runner: Any) -> List[torch.nn.Module]:
    """The runner's model (unwrapped) and the averaged copy of every ``EMAHook`` (validation and checkpoints use it)."""
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    return [model] + [hook.ema_model for hook in runner.hooks if isinstance(hook, EMAHook)]


def average_over_ranks(module: torch.nn.Module) -> None:
    """Replace every parameter and floating-point buffer of ``module`` by its mean over the ranks (in place).

    Integer buffers (step counters, batch counts) are equal on all ranks and stay as they are. A no-op outside a
    process group.
    """
    if get_world_size() < 2:
        return
    tensors = [p.data for p in module.parameters()] + [b for b in module.buffers() if b.is_floating_point()]
    all_reduce_params(tensors, op="mean")


@HOOKS.register_module()
class PeriodicWeightAveragingHook(Hook):
    """Every ``interval`` training iterations, average the model over the ranks; after every epoch, its EMA too.

    Args:
        interval: iterations between averagings (the "H" of local SGD). 1 averages after every step.
    """

    priority = "LOW"  # after EMAHook's after_train_iter/epoch (it updates the EMA from this rank's own step)

    def __init__(self, interval: int = 4) -> None:
        if int(interval) < 1:
            raise ValueError(f"PeriodicWeightAveragingHook: interval must be >= 1, got {interval}")
        self.interval = int(interval)
        self.averagings = 0  # how many times the model was averaged (tests read it)

    def after_train_iter(self, runner: Any, batch_idx: int, data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        if self.every_n_train_iters(runner, self.interval):
            average_over_ranks(model_and_ema_copies(runner)[0])
            self.averagings += 1

    def after_train_epoch(self, runner: Any) -> None:
        for module in model_and_ema_copies(runner):
            average_over_ranks(module)
