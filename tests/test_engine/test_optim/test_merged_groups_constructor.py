"""MergedGroupsOptimWrapperConstructor: MMPose's param-wise rules, fewer groups, the same updates."""
import copy
from typing import Dict, List

import pytest
import torch
import torch.nn as nn
from mmpose.registry import OPTIM_WRAPPER_CONSTRUCTORS

from rtmo_plugin.engine.optim import MergedGroupsOptimWrapperConstructor, merge_param_groups


class _Net(nn.Module):
    """Conv + BN 'neck.encoder' and a linear 'head.dcc', so the demo's custom keys and decay rules all apply."""

    def __init__(self) -> None:
        super().__init__()
        self.neck = nn.Module()
        self.neck.encoder = nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), nn.BatchNorm2d(4))
        self.head = nn.Module()
        self.head.dcc = nn.Linear(4, 2)
        self.body = nn.Sequential(nn.Conv2d(4, 4, 1, bias=False), nn.BatchNorm2d(4), nn.Linear(4, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body[1](self.body[0](self.neck.encoder(x))).mean((2, 3))
        return self.head.dcc(self.body[2](y)).sum()


def _cfg(constructor: str, **optimizer_kwargs) -> Dict:
    return dict(type="OptimWrapper", constructor=constructor,
                optimizer=dict(type="AdamW", lr=4e-3, weight_decay=0.05, **optimizer_kwargs),
                paramwise_cfg=dict(norm_decay_mult=0, bias_decay_mult=0, bypass_duplicate=True,
                                   force_default_settings=True,
                                   custom_keys={"neck.encoder": dict(lr_mult=0.05), "head.dcc": dict(lr_mult=0.1)}))


def _build(model: nn.Module, cfg: Dict):
    cfg = copy.deepcopy(cfg)
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(type=cfg.pop("constructor"), optim_wrapper_cfg=cfg,
                                                        paramwise_cfg=cfg.pop("paramwise_cfg")))
    return constructor(model)


def _options_by_param(optimizer: torch.optim.Optimizer) -> Dict[int, tuple]:
    return {id(p): (g["lr"], g["weight_decay"]) for g in optimizer.param_groups for p in g["params"]}


def test_registry_name_resolves_to_the_plugin_class() -> None:
    assert OPTIM_WRAPPER_CONSTRUCTORS.get("MergedGroupsOptimWrapperConstructor") is MergedGroupsOptimWrapperConstructor


def test_every_parameter_keeps_its_options_in_fewer_groups() -> None:
    torch.manual_seed(0)
    model = _Net()
    reference = _build(model, _cfg("ForceDefaultOptimWrapperConstructor")).optimizer
    merged = _build(model, _cfg("MergedGroupsOptimWrapperConstructor")).optimizer
    assert len(reference.param_groups) == sum(1 for _ in model.parameters())
    # (lr multiplier 1, 0.05, 0.1) x (decay, no decay on norms and biases)
    assert len(merged.param_groups) == 6
    flat = [p for g in merged.param_groups for p in g["params"]]
    assert len(flat) == len({id(p) for p in flat}) == sum(1 for _ in model.parameters())
    assert _options_by_param(merged) == _options_by_param(reference)
    assert _options_by_param(merged)[id(model.neck.encoder[1].weight)] == (pytest.approx(2e-4), 0.0)
    assert _options_by_param(merged)[id(model.head.dcc.weight)] == (pytest.approx(4e-4), 0.05)


@pytest.mark.parametrize("optimizer_kwargs", [dict(), dict(foreach=True), dict(fused=True)])
def test_training_steps_match_the_per_parameter_groups(optimizer_kwargs: Dict) -> None:
    torch.manual_seed(0)
    model_ref = _Net()
    model_new = copy.deepcopy(model_ref)
    initial = copy.deepcopy(model_ref.state_dict())
    opt_ref = _build(model_ref, _cfg("ForceDefaultOptimWrapperConstructor"))
    opt_new = _build(model_new, _cfg("MergedGroupsOptimWrapperConstructor", **optimizer_kwargs))
    for step in range(5):
        x = torch.randn(2, 3, 6, 6, generator=torch.Generator().manual_seed(step))
        for model, wrapper in ((model_ref, opt_ref), (model_new, opt_new)):
            wrapper.update_params(model(x))
    for (name, p_ref), p_new in zip(model_ref.named_parameters(), model_new.parameters()):
        assert torch.isfinite(p_new).all(), name
        if optimizer_kwargs:  # batched kernels round differently
            assert torch.allclose(p_ref, p_new, atol=1e-6, rtol=1e-5), name
        else:  # the same per-parameter kernel: bit-identical
            assert torch.equal(p_ref, p_new), name
        assert not torch.equal(p_new, initial[name]), f"{name} was not updated"


def test_merge_keeps_first_appearance_order_and_tuple_options() -> None:
    a, b, c = (torch.zeros(1, requires_grad=True) for _ in range(3))
    groups: List[Dict] = [dict(params=[a], lr=1.0, betas=(0.9, 0.999)), dict(params=[b], lr=0.1, betas=(0.9, 0.999)),
                          dict(params=[c], lr=1.0, betas=[0.9, 0.999])]
    merged = merge_param_groups(groups)
    assert [g["lr"] for g in merged] == [1.0, 0.1]
    assert merged[0]["params"] == [a, c] and merged[1]["params"] == [b]


def test_merge_names_a_group_without_params() -> None:
    with pytest.raises(KeyError, match="param group 1 has no 'params'"):
        merge_param_groups([dict(params=[torch.zeros(1)], lr=1.0), dict(lr=1.0)])


def test_empty_group_list_gives_no_groups() -> None:
    assert merge_param_groups([]) == []
