"""Replay the RTMO learning-rate curve built from our configs and compare it with the recipe (spec §5).

The schedulers and the optimizer wrapper are built exactly as the runner builds them (``PARAM_SCHEDULERS.build`` with
``epoch_length`` and ``build_optim_wrapper``) and stepped the way mmengine's ``ParamSchedulerHook`` steps them
(iteration-based schedulers after every iteration, epoch-based ones after every epoch). The expected curve is an
independent closed-form re-statement of the recipe:

* quadratic warm-up over 5 epochs: ``lr(t) = base * (t + 1)^2 / T^2`` with ``T = 5 * L`` (L = iterations per epoch);
* cosine from ``base`` to ``eta_min = 2e-4`` over ``T_max`` epochs (cut at the stage switch);
* ``x 2.5`` for the epoch after the first cosine, never divided back (mmpose's ConstantLR with ``end - begin = 1``);
* a second cosine from that raised value down to ``eta_min``; then constant.

The full 600/700 epochs are replayed with a few iterations per epoch; the spec's rounded values are checked too.
"""
import math
from pathlib import Path
from typing import Dict, List, Tuple

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmpose.registry import PARAM_SCHEDULERS

REPO = Path(__file__).resolve().parents[2]
L = 3  # iterations per epoch in the replay


def _config(pattern: str) -> Config:
    found = sorted((REPO / "configs").glob(pattern))
    assert found, f"no config matching configs/{pattern}"
    return Config.fromfile(str(found[0]))


class _TinyRTMOLike(torch.nn.Module):
    """Parameter names that exercise the paramwise rules: a conv, a norm, biases and ``neck.encoder``."""

    def __init__(self) -> None:
        super().__init__()
        self.backbone = torch.nn.Conv2d(3, 4, 3)
        self.neck = torch.nn.Module()
        self.neck.encoder = torch.nn.Linear(4, 4)
        self.neck.norm = torch.nn.BatchNorm2d(4)
        self.head = torch.nn.Linear(4, 1, bias=False)


def _recipe(first_end: int, first_tmax: int, second_tmax: int, second_end: int) -> Dict[str, int]:
    return dict(first_end=first_end, first_tmax=first_tmax, second_tmax=second_tmax, second_end=second_end)


COCO = _recipe(first_end=280, first_tmax=280, second_tmax=300, second_end=580)
CROWDPOSE = _recipe(first_end=349, first_tmax=350, second_tmax=320, second_end=670)


def _expected_curve(base: float, n_epochs: int, recipe: Dict[str, int], eta_min: float = 2e-4) -> List[float]:
    """Closed-form learning rate of every iteration for the recipe (see module docstring)."""
    warm = 5 * L
    e1, t1 = recipe["first_end"] * L, recipe["first_tmax"] * L
    b2, t2, e2 = (recipe["first_end"] + 1) * L, recipe["second_tmax"] * L, recipe["second_end"] * L

    def cosine(start: float, k: int, t_max: int) -> float:
        return eta_min + (start - eta_min) * (1 + math.cos(math.pi * k / t_max)) / 2

    lrs = []
    for t in range(n_epochs * L):
        if t < warm:
            lr = base * (t + 1) ** 2 / warm ** 2
        elif t < e1:
            lr = cosine(base, t - warm, t1)
        else:
            raised = 2.5 * cosine(base, e1 - 1 - warm, t1)  # the last cosine value, times 2.5, kept
            if t < b2:
                lr = raised
            else:
                lr = cosine(raised, min(t, e2 - 1) - b2, t2)
        lrs.append(lr)
    return lrs


def _replay(cfg: Config, n_epochs: int) -> Tuple[List[List[float]], List[dict]]:
    """Step the config's schedulers like the runner does; return per-iteration lrs of every param group."""
    model = _TinyRTMOLike()
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    schedulers = [PARAM_SCHEDULERS.build(dict(s), default_args=dict(optimizer=wrapper, epoch_length=L))
                  for s in cfg.param_scheduler]
    groups = wrapper.optimizer.param_groups
    lrs: List[List[float]] = []
    for _ in range(n_epochs):
        for _ in range(L):
            lrs.append([g["lr"] for g in groups])
            for s in schedulers:
                if not s.by_epoch:
                    s.step()
        for s in schedulers:
            if s.by_epoch:
                s.step()
    return lrs, groups


@pytest.mark.parametrize("pattern, recipe, n_epochs", [
    ("rtmo-s_*coco*.py", COCO, 600),
    ("rtmo-s_*crowdpose*.py", CROWDPOSE, 700),
])
def test_lr_curve_matches_recipe(pattern: str, recipe: Dict[str, int], n_epochs: int) -> None:
    cfg = _config(pattern)
    assert cfg.train_cfg.max_epochs == n_epochs
    lrs, groups = _replay(cfg, n_epochs)
    base = cfg.optim_wrapper.optimizer.lr
    assert base == pytest.approx(4e-3)

    # every param group follows the closed form scaled to its own base lr (neck.encoder: 0.05 x 4e-3 = 2e-4)
    for gi, group in enumerate(groups):
        group_base = group["initial_lr"]
        expected = _expected_curve(group_base, n_epochs, recipe)
        got = [row[gi] for row in lrs]
        worst = max(abs(g - e) / e for g, e in zip(got, expected))
        assert worst < 1e-6, f"group {gi} (base {group_base}) deviates by {worst:.2e} from the recipe"


def test_lr_curve_spec_values_coco() -> None:
    """The rounded values listed in spec §5 (lr at the first iteration of the epoch)."""
    lrs, groups = _replay(_config("rtmo-s_*coco*.py"), 600)
    default = [i for i, g in enumerate(groups) if g["initial_lr"] == pytest.approx(4e-3)][0]
    encoder = [i for i, g in enumerate(groups) if g["initial_lr"] == pytest.approx(2e-4)]
    assert encoder, "no param group with the 0.05x learning rate of neck.encoder"

    def at(epoch: int, group: int = default) -> float:
        return lrs[epoch * L][group]

    assert lrs[0][default] == pytest.approx(4e-3 / (5 * L) ** 2)  # warm-up starts at base / T^2
    assert lrs[5 * L - 1][default] == pytest.approx(4e-3)  # warm-up ends at base
    for epoch, value in [(5, 4e-3), (50, 3.76e-3), (140, 2.21e-3), (279, 2.04e-4), (280, 5.08e-4), (300, 5.05e-4),
                         (430, 3.55e-4), (579, 2.0e-4), (599, 2.0e-4)]:
        assert at(epoch) == pytest.approx(value, rel=0.01), f"epoch {epoch}"
    # the x2.5 jump is never divided back: epoch 281 starts the second cosine from the raised value
    assert at(280) / lrs[280 * L - 1][default] == pytest.approx(2.5)
    assert at(281) == pytest.approx(at(280), rel=1e-3)
    # neck.encoder (base 2e-4 = eta_min) stays at 2e-4 until the jump, then 5e-4, then back to 2e-4
    enc = encoder[0]
    assert at(100, enc) == pytest.approx(2e-4) and at(280, enc) == pytest.approx(5e-4)
    assert at(599, enc) == pytest.approx(2e-4, rel=1e-3)


def test_lr_curve_spec_values_crowdpose() -> None:
    lrs, groups = _replay(_config("rtmo-s_*crowdpose*.py"), 700)
    default = [i for i, g in enumerate(groups) if g["initial_lr"] == pytest.approx(4e-3)][0]
    for epoch, value in [(348, 2.04e-4), (349, 5.07e-4), (500, 3.69e-4), (669, 2.0e-4), (699, 2.0e-4)]:
        assert lrs[epoch * L][default] == pytest.approx(value, rel=0.01), f"epoch {epoch}"


def test_paramwise_rules() -> None:
    """AdamW, weight decay 0.05 except norms and biases, 0.05x lr on neck.encoder, grad clip 0.1."""
    cfg = _config("rtmo-s_*coco*.py")
    model = _TinyRTMOLike()
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert type(wrapper.optimizer).__name__ == "AdamW"
    assert wrapper.clip_grad_kwargs == dict(max_norm=0.1, norm_type=2)
    by_param = {id(p): g for g in wrapper.optimizer.param_groups for p in g["params"]}
    named = dict(model.named_parameters())
    assert by_param[id(named["backbone.weight"])]["weight_decay"] == pytest.approx(0.05)
    assert by_param[id(named["backbone.bias"])]["weight_decay"] == 0
    assert by_param[id(named["neck.norm.weight"])]["weight_decay"] == 0
    assert by_param[id(named["neck.encoder.weight"])]["lr"] == pytest.approx(2e-4)
    assert by_param[id(named["neck.encoder.weight"])]["weight_decay"] == pytest.approx(0.05)
    assert by_param[id(named["neck.encoder.bias"])]["weight_decay"] == 0  # force_default_settings
    assert by_param[id(named["head.weight"])]["lr"] == pytest.approx(4e-3)
