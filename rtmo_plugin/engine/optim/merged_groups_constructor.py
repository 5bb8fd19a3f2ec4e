"""An optimiser constructor that keeps MMPose's param-wise rules but merges the per-parameter groups.

mmengine's ``DefaultOptimWrapperConstructor`` (and MMPose's ``ForceDefaultOptimWrapperConstructor`` on top of it)
gives every parameter its own param group once a ``paramwise_cfg`` is set: 278 groups for the demo model. PyTorch's
optimisers then run one small update per group, and the ``foreach``/``fused`` kernels, which batch many tensors
into one call, have nothing to batch. Merging groups whose options are identical leaves a handful of groups (6 for
the demo: decay or not, times the learning-rate multipliers) and changes nothing else: with the default AdamW
kernel, ten training steps of the demo model give bit-identical weights either way. ``fused=True`` on top is what
buys the speed. It rounds differently (weights differ by ~6e-8 after one step), and, as with any change of
summation order, two runs then drift apart over the following steps. One AdamW step of the demo model took
~7 ms instead of ~30 ms on the README's 2-core machine (same gradients); a whole training step 0.88x as long
(``python -m experiments.benchmark_optim``).

Where this torch cannot fuse the optimiser on the parameters' device (torch < 2.4 fuses AdamW
only on CUDA), a ``fused=True`` request runs the ``foreach`` kernel instead (same update rule,
batched the other way), with one log line, so the same config trains on torch 2.1 and 2.14.
"""
from typing import Any, Dict, List

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper
from mmpose.engine.optim_wrappers import ForceDefaultOptimWrapperConstructor
from mmpose.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIMIZERS

from ...utils.compat import fused_optimizer_supported


def _option_key(value: Any) -> Any:
    """A hashable stand-in for a group option (lists and tuples such as AdamW's ``betas`` included)."""
    if isinstance(value, (list, tuple)):
        return tuple(_option_key(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _option_key(v)) for k, v in value.items()))
    return value


def merge_param_groups(param_groups: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Merge param groups that have the same options, keeping the order in which each option set first appears.

    Args:
        param_groups: groups as built by ``add_params``: each a dict with ``params`` (a list of tensors) and any
            options (``lr``, ``weight_decay``, ...).

    Returns:
        One group per distinct option set, its ``params`` in their original order.

    Raises:
        KeyError: a group has no ``params`` entry (named with its index).
    """
    merged: Dict[Any, Dict[str, Any]] = {}
    for index, group in enumerate(param_groups):
        if "params" not in group:
            raise KeyError(f"param group {index} has no 'params' entry (keys: {sorted(group)})")
        options = {k: v for k, v in group.items() if k != "params"}
        key = _option_key(options)
        if key not in merged:
            merged[key] = dict(options, params=[])
        merged[key]["params"].extend(group["params"])
    return list(merged.values())


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class MergedGroupsOptimWrapperConstructor(ForceDefaultOptimWrapperConstructor):
    """``ForceDefaultOptimWrapperConstructor`` with same-option param groups merged (see the module docstring).

    Same arguments as the parent. Pair it with ``optimizer=dict(type='AdamW', ..., fused=True)`` (or
    ``foreach=True``) to get the speed. Config use::

        optim_wrapper = dict(type='OptimWrapper', constructor='MergedGroupsOptimWrapperConstructor',
                             optimizer=dict(type='AdamW', lr=4e-3, weight_decay=0.05, fused=True),
                             paramwise_cfg=dict(norm_decay_mult=0, bias_decay_mult=0, ...))
    """

    def __call__(self, model: nn.Module) -> OptimWrapper:
        """Build the wrapper; ``fused=True`` becomes ``foreach=True`` where torch cannot fuse.

        Args:
            model (nn.Module): the model whose parameters are optimised (already on its device).

        Returns:
            OptimWrapper: as the parent builds it.
        """
        options = self.optimizer_cfg
        first = next(iter(model.parameters()), None)
        if options.get("fused") and first is not None:
            optimizer = options["type"]
            if isinstance(optimizer, str):
                optimizer = OPTIMIZERS.get(optimizer)
            device_type = first.device.type
            if optimizer is not None and not fused_optimizer_supported(optimizer, device_type):
                print_log(f"{optimizer.__name__}(fused=True) is not available for {device_type} "
                          "parameters in this torch version: using foreach=True instead",
                          logger="current")
                self.optimizer_cfg = {k: v for k, v in options.items() if k != "fused"}
                self.optimizer_cfg["foreach"] = True
        return super().__call__(model)

    def add_params(self, params: List[dict], module: nn.Module, prefix: str = "", is_dcn_module: Any = None) -> None:
        """The parent's per-parameter groups, merged by option set once the whole model is collected.

        The parent recurses into child modules through ``self.add_params`` with a non-empty ``prefix``; those calls
        only collect. The top-level call (empty prefix) merges what they collected.
        """
        if prefix:
            super().add_params(params, module, prefix=prefix, is_dcn_module=is_dcn_module)
            return
        per_parameter: List[dict] = []
        super().add_params(per_parameter, module, prefix=prefix, is_dcn_module=is_dcn_module)
        params.extend(merge_param_groups(per_parameter))
