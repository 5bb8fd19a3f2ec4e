"""setup_cpu_distributed: DDP wrappers get the CPU arguments, other wrappers are left as configured."""
from typing import List

import pytest
import torch
from mmengine.config import Config

import rtmo_plugin  # noqa: F401
from rtmo_plugin.engine import launch

calls: List[str] = []


class NotDDPWrapper(torch.nn.Module):
    """A model wrapper that is no ``DistributedDataParallel`` (it takes no DDP arguments)."""


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
    cfg = Config(dict(model_wrapper_cfg=dict(type=NotDDPWrapper)))
    assert launch.setup_cpu_distributed(cfg, "pytorch")
    assert cfg.model_wrapper_cfg == dict(type=NotDDPWrapper)


def test_ddp_classes_and_unknown_names_count_as_ddp() -> None:
    assert launch._is_ddp_wrapper(torch.nn.parallel.DistributedDataParallel)
    assert launch._is_ddp_wrapper("MMDistributedDataParallel")
    assert launch._is_ddp_wrapper("NoSuchWrapper")
    assert not launch._is_ddp_wrapper(NotDDPWrapper)


SLURM_TASK = dict(SLURM_PROCID="1", SLURM_NTASKS="2", SLURM_LOCALID="1", SLURM_NODELIST="node[07-08]")


@pytest.fixture
def fake_scontrol(tmp_path, monkeypatch: pytest.MonkeyPatch):
    """An ``scontrol`` on PATH that lists two hosts and records its arguments."""
    record = tmp_path / "scontrol_args"
    script = tmp_path / "bin" / "scontrol"
    script.parent.mkdir()
    script.write_text(f'#!/bin/sh\necho "$@" > {record}\nprintf "node07\\nnode08\\n"\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{script.parent}:{launch.os.environ['PATH']}")
    return record


def test_slurm_variables_map_to_torch_ones_as_mmengine_maps_them(fake_scontrol) -> None:
    env = launch.slurm_to_torch_environment(dict(SLURM_TASK))
    assert env == dict(RANK="1", WORLD_SIZE="2", LOCAL_RANK="1", MASTER_ADDR="node07", MASTER_PORT="29500")
    assert fake_scontrol.read_text().split() == ["show", "hostname", "node[07-08]"]
    # an address and a port already set win, and scontrol is not asked
    fake_scontrol.unlink()
    env = launch.slurm_to_torch_environment(dict(SLURM_TASK, MASTER_ADDR="10.0.0.5", MASTER_PORT="23456"))
    assert (env["MASTER_ADDR"], env["MASTER_PORT"]) == ("10.0.0.5", "23456")
    assert not fake_scontrol.exists()


def test_slurm_environment_errors_name_the_variable(fake_scontrol) -> None:
    with pytest.raises(RuntimeError, match=r"missing \['SLURM_NTASKS'\]"):
        launch.slurm_to_torch_environment({k: v for k, v in SLURM_TASK.items() if k != "SLURM_NTASKS"})
    with pytest.raises(RuntimeError, match=r"SLURM_PROCID='x' is not an integer"):
        launch.slurm_to_torch_environment(dict(SLURM_TASK, SLURM_PROCID="x"))


def test_slurm_without_scontrol_asks_for_master_addr(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no scontrol anywhere
    with pytest.raises(RuntimeError, match="scontrol show hostname node\\[07-08\\].*set MASTER_ADDR"):
        launch.slurm_to_torch_environment(dict(SLURM_TASK))


def test_slurm_launcher_takes_the_cpu_path(monkeypatch: pytest.MonkeyPatch, fake_scontrol) -> None:
    calls.clear()
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.setenv(key, "unset")  # recorded, so that the values the launcher sets are removed afterwards
        monkeypatch.delenv(key)
    for key, value in SLURM_TASK.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(launch.dist, "init_process_group",
                        lambda backend, **kwargs: calls.append((backend, kwargs["rank"], kwargs["world_size"])))
    monkeypatch.setattr(launch.torch.cuda, "is_available", lambda: False)
    cfg = Config(dict())
    assert launch.setup_cpu_distributed(cfg, "slurm")
    assert calls == [("gloo", 1, 2)]
    assert (launch.os.environ["MASTER_ADDR"], launch.os.environ["LOCAL_RANK"]) == ("node07", "1")
    assert cfg.model_wrapper_cfg["device_ids"] is None and cfg.env_cfg["dist_cfg"]["backend"] == "gloo"
    # with CUDA present, nothing is touched: mmengine's own slurm path runs
    monkeypatch.setattr(launch.torch.cuda, "is_available", lambda: True)
    assert not launch.setup_cpu_distributed(Config(dict()), "slurm")


def test_slurm_test_leaves_no_torch_variables_behind() -> None:
    """Runs after the one above: the variables the slurm path set were undone with the test."""
    assert "RANK" not in launch.os.environ and "LOCAL_RANK" not in launch.os.environ
