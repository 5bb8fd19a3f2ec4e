"""The version switches of :mod:`rtmo_plugin.utils.compat` fit the torch that runs them.

CI runs this file on torch 2.1.2 and on torch 2.14.1, so both branches of every switch run.
"""
import inspect

import pytest
import torch
from torch import nn

from rtmo_plugin.utils import compat


def test_torch_version_parses_local_builds() -> None:
    major, minor = compat.torch_version()
    assert (major, minor) >= (2, 1)
    assert torch.__version__.startswith(f"{major}.{minor}.")


def test_onnx_export_kwargs_match_the_exporter() -> None:
    has_switch = "dynamo" in inspect.signature(torch.onnx.export).parameters
    assert compat.onnx_export_kwargs() == ({"dynamo": False} if has_switch else {})
    assert has_switch == (compat.torch_version() >= (2, 5))


def test_fused_adamw_on_cpu_follows_the_torch_version() -> None:
    # torch 2.1 fuses AdamW only on CUDA; torch >= 2.4 on the CPU too
    supported = compat.fused_optimizer_supported(torch.optim.AdamW, "cpu")
    assert supported == (compat.torch_version() >= (2, 4))


def _build(optimizer: dict) -> torch.optim.Optimizer:
    from mmpose.registry import OPTIM_WRAPPER_CONSTRUCTORS

    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Conv2d(4, 2, 1))
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type="MergedGroupsOptimWrapperConstructor",
        optim_wrapper_cfg=dict(type="OptimWrapper", optimizer=optimizer),
        paramwise_cfg=dict(norm_decay_mult=0, bias_decay_mult=0)))
    wrapper = constructor(model)
    loss = model(torch.rand(2, 3, 8, 8)).square().mean()
    wrapper.update_params(loss)  # one step runs with whichever kernel was chosen
    return wrapper.optimizer


def test_fused_config_trains_on_cpu_with_any_torch() -> None:
    optimizer = _build(dict(type="AdamW", lr=1e-3, weight_decay=0.05, fused=True))
    if compat.fused_optimizer_supported(torch.optim.AdamW, "cpu"):
        assert optimizer.defaults["fused"] is True
    else:
        assert not optimizer.defaults.get("fused") and optimizer.defaults["foreach"] is True
    assert len(optimizer.param_groups) == 2  # merged: decay / no decay


def test_unfused_config_is_left_alone() -> None:
    optimizer = _build(dict(type="AdamW", lr=1e-3, weight_decay=0.05))
    assert not optimizer.defaults.get("fused") and optimizer.defaults.get("foreach") is None


@pytest.mark.skipif(not hasattr(torch.serialization, "safe_globals"),
                    reason="torch < 2.5: nothing to allow-list (loads with weights_only=False)")
def test_safe_globals_cover_mmengine_history_buffers() -> None:
    from mmengine.logging.history_buffer import HistoryBuffer

    assert HistoryBuffer in torch.serialization.get_safe_globals()


def test_destroy_process_group_outside_a_group_is_a_no_op() -> None:
    compat.destroy_process_group()  # the two-rank tests use it in every spawned rank
