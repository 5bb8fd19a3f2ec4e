"""ForeachExpMomentumEMA: the same averages as MMDetection's ExpMomentumEMA, computed in batched calls."""
import copy

import pytest
import torch
import torch.nn as nn
from mmpose.registry import MODELS

from rtmo_plugin.engine.optim import ForeachExpMomentumEMA


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(64, 2))


def _train_step(net: nn.Module, step: int) -> None:
    """Change parameters and BN buffers (running stats and the integer batch counter)."""
    net.train()
    x = torch.randn(2, 3, 6, 6, generator=torch.Generator().manual_seed(step))
    net(x)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(100 + step)))


def test_registry_name_resolves_to_the_plugin_class() -> None:
    assert MODELS.get("ForeachExpMomentumEMA") is ForeachExpMomentumEMA


@pytest.mark.parametrize("update_buffers", [True, False])
@pytest.mark.parametrize("interval", [1, 2])
def test_same_values_as_exp_momentum_ema(update_buffers: bool, interval: int) -> None:
    net = _net()
    kwargs = dict(momentum=2e-4, gamma=50, interval=interval, update_buffers=update_buffers)
    reference = MODELS.build(dict(type="ExpMomentumEMA", model=net, **kwargs))
    batched = MODELS.build(dict(type="ForeachExpMomentumEMA", model=net, **kwargs))
    for step in range(7):
        _train_step(net, step)
        reference.update_parameters(net)
        batched.update_parameters(net)
    assert int(batched.steps) == int(reference.steps) == 7
    ref_state, new_state = reference.state_dict(), batched.state_dict()
    assert ref_state.keys() == new_state.keys()
    for key in ref_state:
        assert torch.equal(ref_state[key], new_state[key]), key
    # the average lags the model: it is not a copy
    assert not torch.equal(batched.module[3].weight, net[3].weight)


def test_momentum_follows_the_yolox_schedule() -> None:
    ema = ForeachExpMomentumEMA(_net(), momentum=2e-4, gamma=2000)
    assert ema.momentum_at(0) == pytest.approx((1 - 2e-4) * torch.exp(torch.tensor(-1 / 2000)).item() + 2e-4)
    assert ema.momentum_at(10 ** 6) == pytest.approx(2e-4)


def test_state_dict_loads_into_the_mmdet_class() -> None:
    net = _net()
    batched = ForeachExpMomentumEMA(net, update_buffers=True)
    for step in range(3):
        _train_step(net, step)
        batched.update_parameters(net)
    reference = MODELS.build(dict(type="ExpMomentumEMA", model=copy.deepcopy(net), update_buffers=True))
    reference.load_state_dict(batched.state_dict(), strict=True)
    assert int(reference.steps) == 3
