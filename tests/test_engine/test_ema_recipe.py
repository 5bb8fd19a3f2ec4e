"""EMA as configured by our RTMO configs: ExpMomentumEMA, momentum 2e-4, buffers too (spec §5):
m(step) = (1 - 2e-4) * exp(-(1 + step) / 2000) + 2e-4;  p_ema <- (1 - m) * p_ema + m * p."""
import math
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmpose.registry import MODELS

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["rtmo-s_8xb32-600e_coco.py", "rtmo-t_8xb32-600e_coco.py",
                                  "rtmo-s_8xb32-700e_crowdpose.py"])
def test_configs_use_the_rtmo_ema(name: str) -> None:
    hooks = Config.fromfile(str(REPO / "configs" / name)).custom_hooks
    ema = [h for h in hooks if h["type"] == "EMAHook"]
    assert len(ema) == 1
    assert ema[0]["ema_type"] == "ExpMomentumEMA" and ema[0]["momentum"] == pytest.approx(2e-4)
    assert ema[0]["update_buffers"] is True and ema[0]["priority"] == 49
    switch = [h for h in hooks if h["type"] == "RTMOStageSwitchHook"]
    assert len(switch) == 1 and switch[0]["priority"] == 48


def test_exp_momentum_formula_on_params_and_buffers() -> None:
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    ema = MODELS.build(dict(type="ExpMomentumEMA", model=net, momentum=2e-4, update_buffers=True))
    expected_w = net[0].weight.detach().clone()
    expected_rm = net[1].running_mean.detach().clone()
    for step in range(5):
        with torch.no_grad():
            net[0].weight.add_(1.0)
            net[1].running_mean.add_(0.5)
        ema.update_parameters(net)
        if step == 0:  # mmengine copies the model on the first update
            expected_w, expected_rm = net[0].weight.detach().clone(), net[1].running_mean.detach().clone()
            continue
        m = (1 - 2e-4) * math.exp(-(1 + step) / 2000) + 2e-4
        expected_w = (1 - m) * expected_w + m * net[0].weight.detach()
        expected_rm = (1 - m) * expected_rm + m * net[1].running_mean.detach()
        assert torch.allclose(ema.module[0].weight, expected_w, atol=1e-6)
        assert torch.allclose(ema.module[1].running_mean, expected_rm, atol=1e-6)
