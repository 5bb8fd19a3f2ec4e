"""RTMOStageSwitchHook: unit behaviour and the switches inside a real mmengine Runner (4 tiny epochs)."""
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional
from unittest import mock
from unittest.mock import MagicMock

import pytest
import torch
from mmcv.transforms import BaseTransform
from mmengine.config import Config
from mmengine.dataset import BaseDataset
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmpose.registry import DATASETS, MODELS, TRANSFORMS

from rtmo_plugin.engine.hooks import RTMOStageSwitchHook
from rtmo_plugin.engine.hooks.stage_switch_hook import get_dotted, set_dotted


# --------------------------------------------------------------------------- test-only components
@TRANSFORMS.register_module(name="StageSwitchTestMark", force=True)
class _Mark(BaseTransform):
    """Tags a sample with the name of the pipeline that produced it."""

    def __init__(self, stage: str) -> None:
        self.stage = stage

    def transform(self, results: dict) -> dict:
        results["stage"] = self.stage
        return results


@DATASETS.register_module(name="StageSwitchTestDataset", force=True)
class _ToyDataset(BaseDataset):
    """``n`` samples with a scalar input; no annotation file."""

    def __init__(self, n: int = 4, tag: str = "coco", **kwargs: Any) -> None:
        self.n, self.tag = n, tag
        super().__init__(ann_file="", serialize_data=False, **kwargs)

    def load_data_list(self) -> List[dict]:
        return [dict(x=float(i + 1), dataset=self.tag) for i in range(self.n)]


class _Loss(torch.nn.Module):
    def __init__(self, loss_weight: float) -> None:
        super().__init__()
        self.loss_weight = loss_weight


class _Head(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.loss_mle = _Loss(1.0)
        self.loss_oks = _Loss(30.0)
        self.proxy_target_cc = False
        self.use_aux_loss = False


@MODELS.register_module(name="StageSwitchTestModel", force=True)
class _ToyModel(BaseModel):
    """Records, per training iteration, the head state and where the batch came from."""

    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(1))
        self.head = _Head()
        self.trace: List[Dict[str, Any]] = []

    def forward(self, x: Any = None, stage: Any = None, dataset: Any = None, mode: str = "tensor",
                **kwargs: Any) -> Any:
        xs = torch.tensor(x, dtype=torch.float32)
        if mode == "loss":
            self.trace.append(dict(mle=self.head.loss_mle.loss_weight, oks=self.head.loss_oks.loss_weight,
                                   cc=self.head.proxy_target_cc, aux=self.head.use_aux_loss,
                                   stage=set(stage), dataset=set(dataset)))
            return dict(loss=(self.w * xs).pow(2).mean())
        return self.w * xs


STAGE2_SWITCH = dict(type="RTMOStageSwitchHook",
                     epoch_attributes={1: {"proxy_target_cc": True, "loss_mle.loss_weight": 5.0,
                                           "loss_oks.loss_weight": 10.0}},
                     num_last_epochs=1,  # switch at max_epochs - 1 - 1 = epoch 2 of 4
                     new_train_pipeline=[dict(type="StageSwitchTestMark", stage="stage2")],
                     new_train_dataset=dict(type="StageSwitchTestDataset", n=2, tag="coco_only"))


def _runner(work_dir: Path, max_epochs: int = 4, resume: Optional[str] = None) -> Runner:
    return Runner.from_cfg(Config(dict(
        model=dict(type="StageSwitchTestModel"),
        work_dir=str(work_dir),
        train_dataloader=dict(
            batch_size=2, num_workers=0,
            sampler=dict(type="DefaultSampler", shuffle=False),
            collate_fn=dict(type="pseudo_collate"),
            dataset=dict(type="StageSwitchTestDataset", n=4, tag="body7",
                         pipeline=[dict(type="StageSwitchTestMark", stage="stage1")])),
        optim_wrapper=dict(optimizer=dict(type="SGD", lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        custom_hooks=[STAGE2_SWITCH],
        default_hooks=dict(checkpoint=dict(type="CheckpointHook", interval=1),
                           logger=dict(type="LoggerHook", interval=1)),
        log_level="WARNING",
        default_scope="mmpose",
        load_from=resume,
        resume=resume is not None,
        randomness=dict(seed=0),
    )))


def test_switches_in_a_real_runner(tmp_path: Path) -> None:
    runner = _runner(tmp_path / "run")
    runner.train()
    trace = runner.model.trace
    assert len(trace) == 2 + 2 + 1 + 1  # epochs 0,1: 4 samples / 2; epochs 2,3: the 2-sample stage-2 dataset
    epoch0, epoch1, stage2 = trace[:2], trace[2:4], trace[4:]
    for t in epoch0:
        assert (t["mle"], t["oks"], t["cc"], t["aux"]) == (1.0, 30.0, False, False)
        assert t["stage"] == {"stage1"} and t["dataset"] == {"body7"}
    for t in epoch1:
        assert (t["mle"], t["oks"], t["cc"], t["aux"]) == (5.0, 10.0, True, False)
        assert t["stage"] == {"stage1"}
    for t in stage2:
        assert (t["mle"], t["oks"], t["cc"], t["aux"]) == (5.0, 10.0, True, True)
        assert t["stage"] == {"stage2"} and t["dataset"] == {"coco_only"}


def test_resume_after_both_switches_reapplies_them(tmp_path: Path) -> None:
    work = tmp_path / "run"
    _runner(work).train()
    # resume from the end of epoch 3 (0-based epoch 3 next) of a 5-epoch run: both switches are in the past
    resumed = _runner(work, max_epochs=5, resume=str(work / "epoch_3.pth"))
    resumed.train()
    trace = resumed.model.trace
    assert len(trace) == 2  # epochs 3 and 4 of the 2-sample stage-2 dataset
    for t in trace:
        assert (t["mle"], t["oks"], t["cc"], t["aux"]) == (5.0, 10.0, True, True)
        assert t["stage"] == {"stage2"} and t["dataset"] == {"coco_only"}


def test_resume_between_switches(tmp_path: Path) -> None:
    work = tmp_path / "run"
    _runner(work, max_epochs=2).train()  # ends after epoch 1: attributes switched, pipeline not yet
    resumed = _runner(work, max_epochs=4, resume=str(work / "epoch_2.pth"))
    resumed.train()
    trace = resumed.model.trace
    assert len(trace) == 2 and all(t["aux"] and t["stage"] == {"stage2"} for t in trace)


def _mock_runner(epoch: int, max_epochs: int = 600) -> MagicMock:
    runner = MagicMock()
    runner.epoch, runner.max_epochs = epoch, max_epochs
    runner.model = torch.nn.Module()
    runner.model.head = _Head()
    runner.logger = logging.getLogger("stage-switch-test")
    return runner


def test_switch_epoch_formula() -> None:
    hook = RTMOStageSwitchHook(num_last_epochs=20)
    assert hook.switch_epoch(600) == 579
    assert RTMOStageSwitchHook(num_last_epochs=30).switch_epoch(700) == 669


def test_no_pipeline_switch_when_num_last_epochs_is_none() -> None:
    hook = RTMOStageSwitchHook(epoch_attributes={0: {"proxy_target_cc": True}}, num_last_epochs=None)
    assert hook.switch_epoch(600) is None
    runner = _mock_runner(epoch=599)
    hook.before_train_epoch(runner)
    assert runner.model.head.proxy_target_cc is True and runner.model.head.use_aux_loss is False


def test_attributes_are_applied_from_their_epoch_on_only() -> None:
    hook = RTMOStageSwitchHook(epoch_attributes={280: {"loss_mle.loss_weight": 5.0}}, num_last_epochs=20)
    runner = _mock_runner(279)
    hook.before_train_epoch(runner)
    assert runner.model.head.loss_mle.loss_weight == 1.0
    runner.epoch = 280
    hook.before_train_epoch(runner)
    assert runner.model.head.loss_mle.loss_weight == 5.0
    assert runner.model.head.use_aux_loss is False


def test_several_blocks_applied_in_epoch_order_on_resume() -> None:
    hook = RTMOStageSwitchHook(epoch_attributes={10: {"loss_oks.loss_weight": 3.0}, 5: {"loss_oks.loss_weight": 2.0}},
                               num_last_epochs=0)
    runner = _mock_runner(epoch=12, max_epochs=100)
    hook.before_train_epoch(runner)
    assert runner.model.head.loss_oks.loss_weight == 3.0  # the later block wins


def test_pipeline_switch_without_new_pipeline_only_sets_aux_loss() -> None:
    hook = RTMOStageSwitchHook(num_last_epochs=20)
    runner = _mock_runner(epoch=579)
    hook.before_train_epoch(runner)
    assert runner.model.head.use_aux_loss is True
    runner.build_dataloader.assert_not_called()


def test_wrapped_model_head_is_found() -> None:
    hook = RTMOStageSwitchHook(epoch_attributes={0: {"proxy_target_cc": True}})
    runner = _mock_runner(0)
    wrapper = MagicMock()
    wrapper.module = runner.model
    runner.model = wrapper
    with mock.patch("rtmo_plugin.engine.hooks.stage_switch_hook.is_model_wrapper", return_value=True):
        hook.before_train_epoch(runner)
    assert wrapper.module.head.proxy_target_cc is True


def test_unknown_attribute_is_a_clear_error() -> None:
    hook = RTMOStageSwitchHook(epoch_attributes={0: {"loss_mle.weight_typo": 5.0}})
    with pytest.raises(AttributeError, match="loss_mle.weight_typo"):
        hook.before_train_epoch(_mock_runner(0))
    with pytest.raises(AttributeError, match="no_such_loss"):
        get_dotted(_Head(), "no_such_loss.loss_weight")


@pytest.mark.parametrize("bad, err", [({-1: {}}, ValueError), ({"280": {}}, ValueError), ({5: [1]}, TypeError),
                                      ([1, 2], TypeError)])
def test_bad_epoch_attributes_rejected(bad: Any, err: type) -> None:
    with pytest.raises(err, match="epoch_attributes"):
        RTMOStageSwitchHook(epoch_attributes=bad)


def test_negative_num_last_epochs_rejected() -> None:
    with pytest.raises(ValueError, match="num_last_epochs"):
        RTMOStageSwitchHook(num_last_epochs=-1)


def test_set_dotted_returns_old_value() -> None:
    head = _Head()
    assert set_dotted(head, "loss_oks.loss_weight", 10.0) == 30.0
    assert head.loss_oks.loss_weight == 10.0
