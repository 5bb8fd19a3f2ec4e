"""ChannelsLastHook: conv weights go NHWC before the run; outputs and gradients match the contiguous model."""
import copy
from types import SimpleNamespace

import torch
from mmengine.registry import init_default_scope
from mmengine.runner.priority import get_priority
from mmpose.registry import HOOKS
from torch import nn

from rtmo_plugin.engine.hooks import ChannelsLastHook


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.SiLU(), nn.Conv2d(8, 4, 3, stride=2),
                         nn.Flatten(), nn.LazyLinear(2))


def test_weights_become_channels_last_and_results_match() -> None:
    net = _net()
    x = torch.rand(2, 3, 16, 16)
    net(x)  # materialise the lazy layer
    reference = copy.deepcopy(net)
    ChannelsLastHook().before_run(SimpleNamespace(model=net))
    for conv in (net[0], net[3]):
        assert conv.weight.is_contiguous(memory_format=torch.channels_last)
        assert not conv.weight.is_contiguous()
    assert net[5].weight.is_contiguous()  # 2-D tensors keep their layout
    out, ref = net(x), reference(x)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)
    out.sum().backward()
    ref.sum().backward()
    for p, q in zip(net.parameters(), reference.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-6)
    # a checkpoint of the NHWC model loads into a contiguous one
    fresh = copy.deepcopy(reference)
    fresh.load_state_dict(net.state_dict())
    torch.testing.assert_close(fresh(x), ref, rtol=1e-5, atol=1e-6)


def test_runs_before_ema_copies_the_model_and_builds_from_config() -> None:
    init_default_scope("mmpose")
    hook = HOOKS.build(dict(type="ChannelsLastHook"))
    assert isinstance(hook, ChannelsLastHook)
    # the configs give EMAHook priority 49 (a lower value runs first)
    assert get_priority(hook.priority) < get_priority(49)
