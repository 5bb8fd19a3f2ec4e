"""Multi-process demo training (gloo, spawned workers; DDP or local SGD): the ranks agree on what the budget decides."""
import json
import os
import time
from pathlib import Path
from typing import Dict, List

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from rtmo_plugin.demo_data import SyntheticConfig, generate_split
from rtmo_plugin.demo_data import multiprocess
from rtmo_plugin.demo_data.multiprocess import (RankZeroClock, free_local_port, split_train_batch,
                                                train_with_record_on_processes)
from rtmo_plugin.demo_data.pipeline import build_config
from rtmo_plugin.utils.compat import destroy_process_group

NUM_TRAIN, NUM_VAL = 8, 4


class ImagesScored:
    """Score function that counts the distinct images the gathered validation results cover (picklable)."""

    def __call__(self, results: List[dict]) -> Dict[str, float]:
        return {"images scored": float(len({r["image_id"] for r in results}))}


class _RankTime:
    """A ``time`` module stand-in whose clock is 1000 s ahead on rank 1."""

    def __init__(self, rank: int) -> None:
        self.rank = rank

    def time(self) -> float:
        return 5000.0 + 1000.0 * self.rank


def _read_clock_on_rank(rank: int, port: int, out_dir: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    multiprocess.time = _RankTime(rank)  # this spawned process only
    try:
        Path(out_dir, f"clock{rank}.json").write_text(json.dumps(RankZeroClock()()))
    finally:
        destroy_process_group()  # safe on torch 2.1 too (see compat)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mp_data")
    cfg = SyntheticConfig(image_size=(128, 128), max_people=2, height_range=(0.6, 0.9), occluder_prob=0.0)
    generate_split(root, "train", NUM_TRAIN, seed=0, cfg=cfg, progress=False)
    generate_split(root, "val", NUM_VAL, seed=1, cfg=cfg, progress=False)
    return root


def _tiny_config(data: Path, work_dir: Path, epochs: int) -> object:
    """The demo config on the tiny split: batch 2 per rank, so 2 iterations per epoch on 2 ranks."""
    cfg = build_config(data, work_dir, max_epochs=epochs)
    cfg.train_dataloader["batch_size"] = 2
    cfg.val_dataloader["batch_size"] = 1
    cfg.train_cfg["val_interval"] = 1
    cfg.model["test_cfg"]["score_thr"] = 0.0  # an untrained model's scores are low; every image gets predictions
    cfg.log_level = "WARNING"
    return cfg


def test_rank_zero_clock_is_the_local_time_outside_a_process_group() -> None:
    before = time.time()
    assert before <= RankZeroClock()() <= time.time()


def test_rank_zero_clock_gives_every_rank_rank_zeros_time(tmp_path: Path) -> None:
    mp.start_processes(_read_clock_on_rank, args=(free_local_port(), str(tmp_path)), nprocs=2, start_method="spawn")
    readings = [json.loads((tmp_path / f"clock{r}.json").read_text()) for r in (0, 1)]
    assert readings == [5000.0, 5000.0]


def test_two_processes_share_the_budget_schedule_and_score_every_val_image(tiny_data: Path, tmp_path: Path) -> None:
    cfg = _tiny_config(tiny_data, tmp_path / "work", epochs=3)
    outcomes = train_with_record_on_processes(cfg, processes=2, budget_seconds=3600.0, follow_budget=True,
                                              desc="test", score_fn=ImagesScored(), total_threads=2)
    assert [o.rank for o in outcomes] == [0, 1]
    first, second = outcomes
    # 8 images / (2 ranks x batch 2) = 2 iterations per epoch, 3 epochs, nothing cut by the budget
    assert first.record.iters == second.record.iters == [1, 2, 3, 4, 5, 6]
    assert not first.stopped_by_budget and not first.record.stopped_early
    # the decay starts after the one-epoch warm-up; every rank set the same rate at every iteration
    assert len(first.lr_fractions) == 4 and first.lr_fractions == second.lr_fractions
    assert first.param_checksum == second.param_checksum != 0.0
    # batch-norm statistics (the model's and the EMA's) averaged over the ranks: both validate the same model
    assert first.buffer_checksum == pytest.approx(second.buffer_checksum, rel=1e-12) and first.buffer_checksum != 0.0
    # each rank predicted part of the val split; rank 0 scored all of it, at every one of the 3 validations
    assert first.record.val_metrics["images scored"] == [float(NUM_VAL)] * 3
    assert "images scored" not in second.record.val_metrics
    assert first.record.val_iters == [2, 4, 6]
    assert (tmp_path / "work" / "final.pth").is_file()
    assert torch.isfinite(torch.tensor(first.record.losses["loss"])).all()


def test_local_sgd_ranks_step_on_their_own_batches_and_end_with_one_model(tiny_data: Path, tmp_path: Path) -> None:
    cfg = _tiny_config(tiny_data, tmp_path / "work", epochs=2)
    outcomes = train_with_record_on_processes(cfg, processes=2, budget_seconds=3600.0, follow_budget=True,
                                              desc="test", score_fn=ImagesScored(), total_threads=2,
                                              sync="weights", average_every=3)
    first, second = outcomes
    # every rank passes over all 8 images per epoch at batch 2: 4 iterations per epoch, as one process would
    assert first.record.iters == second.record.iters == list(range(1, 9))
    # different images on the two ranks: their first losses differ
    assert first.record.losses["loss"][0] != second.record.losses["loss"][0]
    # averaged after each epoch (and every 3 iterations): both end with the same weights and statistics
    assert first.param_checksum == second.param_checksum != 0.0
    assert first.buffer_checksum == pytest.approx(second.buffer_checksum, rel=1e-12) and first.buffer_checksum != 0.0
    assert first.record.val_metrics["images scored"] == [float(NUM_VAL)] * 2 and first.record.val_iters == [4, 8]
    assert len(first.lr_fractions) == len(second.lr_fractions) == 4  # the decay after the one-epoch warm-up
    assert (tmp_path / "work" / "final.pth").is_file()


def test_a_spent_budget_stops_every_rank_after_the_same_epoch(tiny_data: Path, tmp_path: Path) -> None:
    cfg = _tiny_config(tiny_data, tmp_path / "work", epochs=4)
    cfg.train_cfg["val_interval"] = 10
    outcomes = train_with_record_on_processes(cfg, processes=2, budget_seconds=1e-3, total_threads=2,
                                              final_checkpoint=None)
    assert [o.record.iters for o in outcomes] == [[1, 2], [1, 2]]
    assert all(o.record.stopped_early for o in outcomes)
    assert outcomes[0].param_checksum == outcomes[1].param_checksum


def test_bad_arguments_are_refused_with_their_names(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="processes must be >= 2"):
        train_with_record_on_processes(object(), processes=1)
    with pytest.raises(ValueError, match="follow_budget needs budget_seconds"):
        train_with_record_on_processes(object(), processes=2, follow_budget=True)
    with pytest.raises(ValueError, match="sync must be one of .*got 'params'"):
        train_with_record_on_processes(object(), processes=2, sync="params")
    with pytest.raises(ValueError, match="average_every must be >= 1, got 0"):
        train_with_record_on_processes(object(), processes=2, sync="weights", average_every=0)


def test_the_config_batch_is_shared_out_over_the_processes(tmp_path: Path) -> None:
    cfg = build_config(tmp_path / "data", tmp_path / "work")
    assert cfg.train_dataloader["batch_size"] == 4
    assert split_train_batch(cfg, 2) == 2 and cfg.train_dataloader["batch_size"] == 2
    with pytest.raises(ValueError, match=r"train_dataloader.batch_size=2 does not split evenly over 3 processes"):
        split_train_batch(cfg, 3)
    assert cfg.train_dataloader["batch_size"] == 2  # unchanged by the refused split
