"""Run the checkpoint compatibility check on every checkpoint the runner loads (``load_from``, ``--resume``,
``mim test --checkpoint``), before MMEngine's lenient ``strict=False`` load can skip mismatched weights."""
from typing import Any, Sequence

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpose.registry import HOOKS

from ...utils.checkpoint_check import check_checkpoint_compatibility


@HOOKS.register_module()
class CheckpointCompatibilityHook(Hook):
    """Raise ``CheckpointMismatchError`` when a loaded checkpoint does not fit the model.

    Runs in ``after_load_checkpoint``, which ``Runner.load_checkpoint`` calls after reading the file and before
    copying the weights into the model (and before ``EMAHook`` copies them into the EMA model).

    Args:
        allow_missing: accept model weights absent from the checkpoint. Defaults to False.
        allow_unexpected: accept checkpoint weights the model does not have. Defaults to False.
        ignore_keys: regexes of state-dict keys to leave out of the comparison. Defaults to none.

    Config use::

        custom_hooks = [..., dict(type='CheckpointCompatibilityHook')]
    """

    priority = "VERY_HIGH"

    def __init__(self, allow_missing: bool = False, allow_unexpected: bool = False,
                 ignore_keys: Sequence[str] = ()) -> None:
        self.allow_missing = allow_missing
        self.allow_unexpected = allow_unexpected
        self.ignore_keys = tuple(ignore_keys)

    def after_load_checkpoint(self, runner: Any, checkpoint: dict) -> None:
        """Compare ``checkpoint['state_dict']`` with the runner's model."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        source = getattr(runner, "_load_from", None) or "the loaded checkpoint"
        if getattr(runner, "_resume", False) and not getattr(runner, "_load_from", None):
            source = "the checkpoint being resumed"
        check_checkpoint_compatibility(model, checkpoint, allow_missing=self.allow_missing,
                                       allow_unexpected=self.allow_unexpected, ignore_keys=self.ignore_keys,
                                       source=str(source))
