"""Time one training step (forward, backward, optimiser step, EMA update) with and without the batched drop-ins.

Two copies of the same model, from the same initial weights, train on the same batches in alternating rounds in
one process: the *reference* with the optimiser and EMA a config names (MMPose's
``ForceDefaultOptimWrapperConstructor`` and MMDetection's ``ExpMomentumEMA`` in the demo config before this
change), the *batched* one with :class:`MergedGroupsOptimWrapperConstructor` + fused AdamW and
:class:`ForeachExpMomentumEMA`. Alternating rounds share the machine's speed swings.
"""
import copy
import time
from typing import Any, Dict, List

import numpy as np
import torch
from mmengine.runner import Runner
from mmpose.registry import MODELS


def _set_ups(cfg: Any) -> Dict[str, Dict[str, Any]]:
    """(optim wrapper cfg, EMA type) of the reference and of the batched variant, from ``cfg``."""
    reference = copy.deepcopy(cfg.optim_wrapper)
    reference["constructor"] = "ForceDefaultOptimWrapperConstructor"
    reference["optimizer"] = {k: v for k, v in reference["optimizer"].items() if k not in ("fused", "foreach")}
    batched = copy.deepcopy(reference)
    batched["constructor"] = "MergedGroupsOptimWrapperConstructor"
    batched["optimizer"]["fused"] = True
    return dict(reference=dict(optim_wrapper=reference, ema="ExpMomentumEMA"),
                batched=dict(optim_wrapper=batched, ema="ForeachExpMomentumEMA"))


def benchmark_training_step(cfg: Any, num_batches: int = 10, rounds: int = 6, channels_last: bool = True
                            ) -> Dict[str, Any]:
    """Seconds per training step of the reference and the batched optimiser/EMA, measured side by side.

    Args:
        cfg: an mmengine config with ``model``, ``optim_wrapper`` and ``train_dataloader`` (e.g. the demo's, with
            its data root set).
        num_batches: training batches per round (drawn once, reused every round).
        rounds: measured rounds per variant, alternating, after one unmeasured warm-up round each.
        channels_last: convert both models as ``ChannelsLastHook`` does.

    Returns:
        ``reference`` / ``batched``: per-round seconds per step (lists), ``ratio``: mean batched / mean reference,
        ``param_groups``: number of optimiser groups of each.
    """
    runner = Runner.from_cfg(cfg)
    base = runner.model
    if channels_last:
        base = base.to(memory_format=torch.channels_last)
    loader = runner.build_dataloader(cfg.train_dataloader)
    batches = []
    for batch in loader:
        batches.append(batch)
        if len(batches) == num_batches:
            break
    variants: Dict[str, Dict[str, Any]] = {}
    for name, set_up in _set_ups(cfg).items():
        model = copy.deepcopy(base).train()
        runner.model = model  # the constructor reads runner.model
        wrapper = runner.build_optim_wrapper(set_up["optim_wrapper"])
        ema = MODELS.build(dict(type=set_up["ema"], model=model, momentum=2e-4, update_buffers=True))
        variants[name] = dict(model=model, wrapper=wrapper, ema=ema, times=[])

    def one_round(v: Dict[str, Any]) -> float:
        start = time.perf_counter()
        for batch in batches:
            v["model"].train_step(batch, v["wrapper"])
            v["ema"].update_parameters(v["model"])
        return (time.perf_counter() - start) / len(batches)

    for v in variants.values():  # warm-up
        one_round(v)
    for _ in range(rounds):
        for v in variants.values():
            v["times"].append(one_round(v))
    result: Dict[str, Any] = {name: v["times"] for name, v in variants.items()}
    result["ratio"] = float(np.mean(result["batched"]) / np.mean(result["reference"]))
    result["param_groups"] = {name: len(v["wrapper"].optimizer.param_groups) for name, v in variants.items()}
    return result


def format_report(result: Dict[str, Any]) -> List[str]:
    """Lines for the tool's output."""
    ref, new = np.asarray(result["reference"]), np.asarray(result["batched"])
    return [f"  reference (ForceDefault constructor, AdamW, ExpMomentumEMA): {ref.mean():.3f} s/step "
            f"({result['param_groups']['reference']} param groups), rounds {np.round(ref, 3).tolist()}",
            f"  batched (merged groups, fused AdamW, ForeachExpMomentumEMA): {new.mean():.3f} s/step "
            f"({result['param_groups']['batched']} param groups), rounds {np.round(new, 3).tolist()}",
            f"  ratio batched/reference = {result['ratio']:.2f}x"]
