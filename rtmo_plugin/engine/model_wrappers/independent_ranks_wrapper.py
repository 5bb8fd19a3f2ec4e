"""A distributed model wrapper that exchanges nothing: each rank takes its own optimiser steps.

With DDP every step waits for the slowest rank and for the gradient all-reduce. On the 2-core CPU machine of the
README that cost most of what a second process gains (0.284 against 0.290 s per iteration, docs/demo_recipe.md,
point 12). Under this wrapper the ranks train independently between synchronisations that a hook makes every few
iterations (:class:`~rtmo_plugin.engine.hooks.PeriodicWeightAveragingHook`, "local SGD"). The runner still starts
every rank from rank 0's weights (``Runner._init_model_weights`` broadcasts them).

Config use, with the averaging hook and a sampler that gives every rank a full pass per epoch::

    # scoped name: the runner looks wrappers up from mmengine's root registry
    model_wrapper_cfg = dict(type='mmpose.IndependentRanksWrapper')
    train_dataloader = dict(sampler=dict(type='FullPassPerRankSampler'), ...)
    custom_hooks = [dict(type='PeriodicWeightAveragingHook', interval=4), ...]
"""
from typing import Any, Dict, List, Union

import torch
from mmengine.optim import OptimWrapper
from mmpose.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class IndependentRanksWrapper(torch.nn.Module):
    """Holds the model as ``module`` (so hooks and checkpoints unwrap it) and forwards the runner's step calls.

    Args:
        module: the model (an mmengine ``BaseModel``).
    """

    def __init__(self, module: torch.nn.Module) -> None:
        super().__init__()
        self.module = module

    def train_step(self, data: Union[dict, tuple, list], optim_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
        """The module's own training step (forward, backward, optimiser step), with no gradient exchange."""
        return self.module.train_step(data, optim_wrapper)

    def val_step(self, data: Union[dict, tuple, list]) -> List[Any]:
        """The module's prediction step."""
        return self.module.val_step(data)

    def test_step(self, data: Union[dict, tuple, list]) -> List[Any]:
        """The module's prediction step."""
        return self.module.test_step(data)
