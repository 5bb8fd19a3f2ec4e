"""Stop (or skip the step) on a NaN/inf loss before it reaches the weights.

A non-finite loss back-propagates NaN into every parameter in one optimizer step; from then on every loss is NaN
and the next checkpoint saves a broken model over the good ones. MMEngine only notices when the logger prints
``nan``. :class:`NonFiniteLossHook` checks every loss term after the forward pass and *before*
``optim_wrapper.update_params`` (backward + step):

* ``action='raise'`` (default): raise :class:`NonFiniteLossError` naming the iteration, the epoch, every
  non-finite loss term and the last saved checkpoint. The weights never see the bad step and no checkpoint is
  written after it, so the last checkpoint stays the last good one;
* ``action='skip'``: drop this step (no backward, no optimizer step, gradients zeroed), log a warning with the
  same information, leave the non-finite terms out of the logged values and add ``skipped_steps`` (running count)
  to them; after ``max_consecutive_skips`` bad steps in a row raise anyway (the run has diverged).

Mechanism: at ``before_train`` the hook wraps the model's ``parse_losses`` (which ``BaseModel.train_step`` and
``MMDistributedDataParallel.train_step`` call between forward and update) and, for ``'skip'``, the optim
wrapper's ``update_params``; ``after_train`` restores them. In distributed training the decision is
all-reduced so every rank raises or skips together (otherwise the ranks would deadlock in the gradient
all-reduce). Models whose ``train_step`` does not call ``parse_losses`` are not covered (a warning says so at
start). Skipping inside a gradient-accumulation window discards the gradients accumulated so far in it.
"""
from collections import OrderedDict
from typing import Any, Dict, Optional, Tuple

import torch
from mmengine.dist import all_reduce, is_distributed
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import BaseModel, is_model_wrapper
from mmengine.optim import OptimWrapper
from mmpose.registry import HOOKS

ACTIONS = ("raise", "skip")


class NonFiniteLossError(FloatingPointError):
    """A loss term was NaN or infinite; the message names the iteration and the terms."""


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Guard against NaN/inf losses; see the module docstring.

    Args:
        action: ``'raise'`` or ``'skip'``. Defaults to ``'raise'``.
        max_consecutive_skips: with ``'skip'``, raise after this many bad steps in a row. Defaults to 20.

    Config use::

        custom_hooks = [..., dict(type='NonFiniteLossHook', action='raise')]
    """

    priority = "VERY_HIGH"

    def __init__(self, action: str = "raise", max_consecutive_skips: int = 20) -> None:
        if action not in ACTIONS:
            raise ValueError(f"NonFiniteLossHook: action must be one of {ACTIONS}, got {action!r}")
        if max_consecutive_skips < 1:
            raise ValueError(f"NonFiniteLossHook: max_consecutive_skips must be >= 1, got {max_consecutive_skips}")
        self.action = action
        self.max_consecutive_skips = max_consecutive_skips
        self.skipped_steps = 0
        self._consecutive = 0
        self._skip_update = False
        self._patched: Optional[Tuple[Any, Any]] = None

    # ------------------------------------------------------------------ install / remove
    def before_train(self, runner: Any) -> None:
        """Wrap ``parse_losses`` (and ``update_params`` for 'skip')."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not isinstance(model, BaseModel) or type(model).train_step is not BaseModel.train_step:
            print_log("NonFiniteLossHook: the model's train_step is not BaseModel.train_step; the check works only "
                      "if it calls parse_losses", logger="current", level=30)
        optim = runner.optim_wrapper
        if self.action == "skip" and not isinstance(optim, OptimWrapper):
            raise TypeError("NonFiniteLossHook(action='skip') needs a single OptimWrapper, got "
                            f"{type(optim).__name__}; use action='raise'")
        original_parse = model.parse_losses
        original_update = optim.update_params

        def parse_losses(losses: Dict[str, Any]) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
            loss, log_vars = original_parse(losses)
            return loss, self._check(runner, loss, log_vars)

        def update_params(loss: torch.Tensor, *args: Any, **kwargs: Any) -> None:
            if self._skip_update:
                self._skip_update = False
                optim.zero_grad()
                return None
            return original_update(loss, *args, **kwargs)

        model.parse_losses = parse_losses
        if self.action == "skip":
            optim.update_params = update_params
        self._patched = (model, optim)

    def after_train(self, runner: Any) -> None:
        """Remove the wrappers (instance attributes) again."""
        if self._patched is None:
            return
        model, optim = self._patched
        model.__dict__.pop("parse_losses", None)
        optim.__dict__.pop("update_params", None)
        self._patched = None

    # ------------------------------------------------------------------ the check
    def _check(self, runner: Any, loss: torch.Tensor, log_vars: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Return ``log_vars`` (cleaned for 'skip'); raise or mark the step as skipped when non-finite."""
        values = {name: v for name, v in log_vars.items() if isinstance(v, torch.Tensor)}
        values.setdefault("loss", loss)
        finite = torch.stack([torch.isfinite(v.detach()).all() for v in values.values()])
        bad_here = int((~finite).any().item())
        bad_anywhere = bad_here
        if is_distributed():
            flag = torch.tensor([bad_here], dtype=torch.float32, device=loss.device)
            all_reduce(flag, op="sum")
            bad_anywhere = int(flag.item() > 0)
        if not bad_anywhere:
            self._consecutive = 0
            return log_vars
        bad = {name: float(v.detach().float().mean()) for (name, v), ok in zip(values.items(), finite) if not ok}
        message = self._describe(runner, bad, values)
        if self.action == "raise":
            raise NonFiniteLossError(message)
        self.skipped_steps += 1
        self._consecutive += 1
        if self._consecutive > self.max_consecutive_skips:
            raise NonFiniteLossError(f"{message}\n{self._consecutive} non-finite steps in a row "
                                     f"(max_consecutive_skips={self.max_consecutive_skips}): the run has diverged")
        self._skip_update = True
        print_log(f"{message}\nNonFiniteLossHook: skipped this step ({self.skipped_steps} skipped so far)",
                  logger="current", level=30)
        kept = OrderedDict((k, v) for k, v in log_vars.items() if k not in bad)
        kept["skipped_steps"] = torch.tensor(float(self.skipped_steps))
        return kept

    @staticmethod
    def _describe(runner: Any, bad: Dict[str, float], values: Dict[str, torch.Tensor]) -> str:
        """Human-readable report of a non-finite loss."""
        terms = ", ".join(f"{k}={v}" for k, v in bad.items()) or "on another rank"
        others = ", ".join(f"{k}={float(v.detach().float().mean()):.4g}" for k, v in values.items() if k not in bad)
        last = runner.message_hub.get_info("last_ckpt")
        return (f"Non-finite loss at iteration {runner.iter + 1} (epoch {runner.epoch + 1}): {terms}"
                f"{f' (finite terms: {others})' if others else ''}. The weights were not updated with this step. "
                f"Last saved checkpoint: {last or 'none yet'}. Usual causes: a learning rate too high for the batch "
                "size, bad annotations (use CheckedCocoDataset/CheckedCrowdPoseDataset to find them), fp16 overflow.")
