"""BudgetCosineLRHook: the demo's cosine decay follows the wall clock and training stops inside the budget."""
import math
from pathlib import Path
from typing import Any, Dict, List

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from rtmo_plugin.demo.budget_schedule import (
    BudgetCosineLRHook,
    budget_schedule_from_config,
    cosine_factor,
    split_cosine_scheduler,
)
from rtmo_plugin.demo.run_demo import DEMO_CONFIG


class _FakeClock:
    """Seconds that advance by ``step`` at every training iteration (the recorder hook below ticks it)."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 1000.0, step

    def __call__(self) -> float:
        return self.now


class _ToyModel(BaseModel):
    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(3))

    def forward(self, inputs: torch.Tensor, mode: str = "loss") -> Dict[str, torch.Tensor]:
        return dict(loss=(self.weight * torch.stack(list(inputs))).sum() ** 2 * 1e-3)


class _TickAndRecord(Hook):
    """A hook that records the rate each iteration trains with, then advances the fake clock."""

    priority = "LOWEST"

    def __init__(self, clock: _FakeClock) -> None:
        self.clock, self.lrs, self.epochs = clock, [], 0

    def before_train_iter(self, runner: Any, batch_idx: int, data_batch: Any = None) -> None:
        self.lrs.append(runner.optim_wrapper.optimizer.param_groups[0]["lr"])  # the rate this iteration uses

    def after_train_iter(self, runner: Any, batch_idx: int, data_batch: Any = None, outputs: Any = None) -> None:
        self.clock.now += self.clock.step

    def after_train_epoch(self, runner: Any) -> None:
        self.epochs += 1


def _train(tmp_path: Path, seconds_per_iter: float, budget: float, max_epochs: int, iters_per_epoch: int = 5
           ) -> tuple:
    clock = _FakeClock(seconds_per_iter)
    schedule = BudgetCosineLRHook(budget, warmup_epochs=1, eta_min=0.1, clock=clock)
    recorder = _TickAndRecord(clock)
    runner = Runner(
        model=_ToyModel(), work_dir=str(tmp_path),
        train_dataloader=DataLoader([torch.ones(3)] * iters_per_epoch, batch_size=1,
                                    collate_fn=lambda b: dict(inputs=b)),
        optim_wrapper=dict(optimizer=dict(type="SGD", lr=1.0)),
        param_scheduler=[dict(type="LinearLR", start_factor=0.5, by_epoch=True, begin=0, end=1,
                              convert_to_iter_based=True)],
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs), default_hooks=dict(checkpoint=None, logger=None),
        custom_hooks=[schedule, recorder], default_scope="mmengine")
    runner.train()
    return schedule, recorder


def test_cosine_factor_ends_and_clips() -> None:
    assert cosine_factor(0.0) == 1.0 and cosine_factor(1.0) == pytest.approx(0.0)
    assert cosine_factor(0.5) == pytest.approx(0.5)
    assert cosine_factor(-1.0) == 1.0 and cosine_factor(2.0) == pytest.approx(0.0)


def test_decay_follows_the_clock_and_training_stops_inside_the_budget(tmp_path: Path) -> None:
    # 5 iterations per epoch at 2 s: 10 s an epoch; a 55 s budget fits 5 epochs of the 20 allowed
    schedule, recorder = _train(tmp_path, seconds_per_iter=2.0, budget=55.0, max_epochs=20)
    assert schedule.stopped_by_budget and recorder.epochs == 5
    assert len(recorder.lrs) == 25
    assert recorder.lrs[:5] == pytest.approx([0.5, 0.625, 0.75, 0.875, 1.0])  # the config's warm-up, untouched
    # after the warm-up (10 s spent, 45 s left): f = 2 s * k / 45 s
    expected = [0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 2.0 * k / 45.0)) for k in range(20)]
    assert recorder.lrs[5:] == pytest.approx(expected)
    assert schedule.fractions[-1] == pytest.approx(38.0 / 45.0)  # the last iteration, one epoch short of 55 s
    assert recorder.clock.now - 1000.0 <= 55.0


def test_a_fast_machine_decays_over_the_epoch_cap(tmp_path: Path) -> None:
    # 0.1 s per iteration: 3 epochs take 1.5 s of a 1000 s budget, so the iterations govern the decay
    schedule, recorder = _train(tmp_path, seconds_per_iter=0.1, budget=1000.0, max_epochs=3)
    assert not schedule.stopped_by_budget and recorder.epochs == 3
    expected = [0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * k / 10)) for k in range(10)]
    assert recorder.lrs[5:] == pytest.approx(expected)


def test_no_group_rate_changes_during_the_warm_up(tmp_path: Path) -> None:
    schedule, recorder = _train(tmp_path, seconds_per_iter=1.0, budget=1000.0, max_epochs=1)
    assert schedule.fractions == [] and recorder.lrs == pytest.approx([0.5, 0.625, 0.75, 0.875, 1.0])


def test_the_demo_config_schedule_is_swapped() -> None:
    cfg = Config.fromfile(str(DEMO_CONFIG))
    hook = budget_schedule_from_config(cfg, 600.0)
    assert [s["type"] for s in cfg.param_scheduler] == ["QuadraticWarmupLR"]
    assert hook.warmup_epochs == 1 and hook.eta_min == pytest.approx(2e-4) and hook.budget == 600.0


def test_a_config_without_one_epoch_based_cosine_is_refused() -> None:
    with pytest.raises(ValueError, match=r"exactly one CosineAnnealingLR.*\['QuadraticWarmupLR'\]"):
        split_cosine_scheduler([dict(type="QuadraticWarmupLR")])
    cfg = Config(dict(param_scheduler=[dict(type="CosineAnnealingLR", by_epoch=False, begin=30, end=900)]))
    with pytest.raises(ValueError, match="must count epochs"):
        budget_schedule_from_config(cfg, 600.0)
    assert budget_schedule_from_config(Config(dict(param_scheduler=[dict(type="QuadraticWarmupLR")])), 60.0) is None
    schedulers: List[dict] = [dict(type="QuadraticWarmupLR"), dict(type="CosineAnnealingLR", eta_min=0.5)]
    assert split_cosine_scheduler(schedulers)["eta_min"] == 0.5 and len(schedulers) == 1


@pytest.mark.parametrize("kwargs, message", [(dict(budget_seconds=0), "budget_seconds must be > 0"),
                                             (dict(budget_seconds=5, warmup_epochs=-1), "warmup_epochs must be"),
                                             (dict(budget_seconds=5, eta_min=0.1, eta_min_ratio=0.05), "not both"),
                                             (dict(budget_seconds=5, eta_min_ratio=1.5), "eta_min_ratio must be")])
def test_bad_arguments_are_named(kwargs: Dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BudgetCosineLRHook(**kwargs)


class _TwoGroupModel(BaseModel):
    def __init__(self) -> None:
        super().__init__()
        self.features, self.dcc = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(3))

    def forward(self, inputs: torch.Tensor, mode: str = "loss") -> Dict[str, torch.Tensor]:
        x = torch.stack(list(inputs))
        return dict(loss=((self.features * x).sum() + (self.dcc * x).sum()) ** 2 * 1e-3)


class _RecordAllGroups(Hook):
    priority = "LOWEST"

    def __init__(self) -> None:
        self.lrs: List[List[float]] = []

    def before_train_iter(self, runner: Any, batch_idx: int, data_batch: Any = None) -> None:
        self.lrs.append([g["lr"] for g in runner.optim_wrapper.optimizer.param_groups])


@pytest.mark.parametrize("ratio", [None, 0.05])
def test_a_ratio_floor_keeps_each_groups_lr_mult_and_an_absolute_one_does_not(tmp_path: Path, ratio: Any) -> None:
    # a 'dcc' group at 0.1x: with eta_min_ratio both groups decay to 5 % of their own start, so the 0.1x holds at
    # every iteration; with the absolute eta_min=0.05 both end at 0.05 (the dcc group's 0.1x has become 1x)
    schedule = BudgetCosineLRHook(1e6, warmup_epochs=0, eta_min=0.0 if ratio else 0.05, eta_min_ratio=ratio)
    recorder = _RecordAllGroups()
    runner = Runner(
        model=_TwoGroupModel(), work_dir=str(tmp_path),
        train_dataloader=DataLoader([torch.ones(3)] * 11, batch_size=1, collate_fn=lambda b: dict(inputs=b)),
        optim_wrapper=dict(optimizer=dict(type="SGD", lr=1.0), paramwise_cfg=dict(custom_keys={"dcc": dict(
            lr_mult=0.1)})),
        train_cfg=dict(by_epoch=True, max_epochs=1), default_hooks=dict(checkpoint=None, logger=None),
        custom_hooks=[schedule, recorder], default_scope="mmengine")
    runner.train()
    features, dcc = (torch.tensor(x) for x in zip(*recorder.lrs))
    assert features[0] == 1.0 and dcc[0] == pytest.approx(0.1)
    assert features[-1] == pytest.approx(0.05 + 0.95 * cosine_factor(10 / 11))  # f = iteration / 11
    if ratio:
        assert torch.allclose(dcc, 0.1 * features)
    else:
        assert dcc[-1] == pytest.approx(0.05 + 0.05 * cosine_factor(10 / 11)) and dcc[-1] > 0.5 * features[-1]


def test_the_cosine_entrys_eta_min_ratio_reaches_the_hook() -> None:
    cfg = Config(dict(param_scheduler=[dict(type="QuadraticWarmupLR"),
                                       dict(type="CosineAnnealingLR", eta_min_ratio=0.05, begin=2)]))
    hook = budget_schedule_from_config(cfg, 60.0)
    assert hook.eta_min_ratio == 0.05 and hook.eta_min == 0.0 and hook.warmup_epochs == 2
