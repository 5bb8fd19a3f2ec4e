"""setup_cpu_distributed: DDP wrappers get the CPU arguments, other wrappers are left as configured."""
from typing import List

import pytest
import torch
from mmengine.config import Config

import rtmo_plugin  # noqa: F401  (registers IndependentRanksWrapper)
from rtmo_plugin.engine import launch


calls: List[str] = []


@pytest.fixture
def torchrun_env(monkeypatch: pytest.MonkeyPatch) -> None:
    calls.clear()
    for key, value in dict(RANK="0", WORLD_SIZE="2", LOCAL_RANK="0", MASTER_ADDR="127.0.0.1",
                           MASTER_PORT="29999").items():
        monkeypatch.setenv(key, value)
    # no real process group: record the call instead
    monkeypatch.setattr(launch.dist, "init_process_group", lambda backend, **kwargs: calls.append(backend))
    monkeypatch.setattr(launch.torch.cuda, "is_available", lambda: False)


def test_the_default_wrapper_is_cpu_ddp(torchrun_env: None) -> None:
    cfg = Config(dict(find_unused_parameters=True))
    assert launch.setup_cpu_distributed(cfg, "pytorch")
    assert cfg.model_wrapper_cfg == dict(type="MMDistributedDataParallel", device_ids=None, broadcast_buffers=False,
                                         find_unused_parameters=True)
    assert cfg.env_cfg["dist_cfg"]["backend"] == "gloo" and calls == ["gloo"]


def test_a_wrapper_that_is_not_ddp_gets_no_ddp_arguments(torchrun_env: None) -> None:
    cfg = Config(dict(model_wrapper_cfg=dict(type="mmpose.IndependentRanksWrapper")))
    assert launch.setup_cpu_distributed(cfg, "pytorch")
    assert cfg.model_wrapper_cfg == dict(type="mmpose.IndependentRanksWrapper")


def test_ddp_classes_and_unknown_names_count_as_ddp() -> None:
    assert launch._is_ddp_wrapper(torch.nn.parallel.DistributedDataParallel)
    assert launch._is_ddp_wrapper("MMDistributedDataParallel")
    assert launch._is_ddp_wrapper("NoSuchWrapper")
    assert not launch._is_ddp_wrapper("mmpose.IndependentRanksWrapper")
