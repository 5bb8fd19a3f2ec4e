"""Train the demo on several CPU processes (gloo), with the same progress record and budget as one process.

One two-thread process leaves the second core of a 2-core machine half idle: the second thread speeds a training
step up only ~1.25x, while two independent one-thread processes train 1.5-1.9x as many images per second (README,
recipe point 11). :func:`train_with_record_on_processes` starts ``processes`` spawned workers that each build the
runner from the same config, in a gloo process group set up by
:func:`~rtmo_plugin.engine.launch.setup_cpu_distributed`, and train with the hooks of
:func:`~rtmo_plugin.demo_data.training.train_with_record`. Two ways to combine the ranks (``sync``):

* ``"gradients"``: DDP. One optimiser step over all ranks' batches; the batch-norm statistics (the model's and the
  EMA's) are averaged over the ranks after every epoch (:class:`RankAveragedBuffersHook`). The demo first splits the
  config's batch over the ranks (:func:`split_train_batch`), which keeps its recipe (docs/demo_recipe.md, point 12);
* ``"weights"``: local SGD. Every rank steps on its own batches of the config's size, over a full pass of the
  training set per epoch in its own order (``FullPassPerRankSampler``), with no gradient exchange
  (``IndependentRanksWrapper``); ``PeriodicWeightAveragingHook`` averages the weights every ``average_every``
  iterations and, with the EMA copies, after every epoch.

What must agree across the ranks does:

* the time every budget decision reads (the epoch after which training stops; under DDP also the learning rate of
  the budget schedule at each iteration) comes from rank 0's clock, broadcast (:class:`RankZeroClock`); with each
  rank's own clock one rank could stop while the other waits forever. Under local SGD each rank reads its own clock
  for the rate of each iteration, so that no step waits for a broadcast;
* the validation predictions are gathered from all ranks before they are scored (the hook does it);
* every rank draws its own augmentations (``randomness.diff_rank_seed``); all ranks start from rank 0's weights.

Rank 0 draws the progress bar, records the curves (its own batches' losses) and saves the checkpoints. DDP did not
beat one process on 2 cores: in the same hour and 17.5 minutes, keypoint AP 0.235 for one process, 0.100 with 4
images per rank (8 per step), 0.062 with the batch of 4 shared out.
"""
import os
import pickle
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import torch
import torch.distributed as dist
from mmengine.hooks import Hook

from ..engine.hooks.periodic_weight_averaging_hook import model_and_ema_copies
from ..utils.compat import destroy_process_group
from .training import TrainingRecord

SYNC_MODES = ("gradients", "weights")


class RankZeroClock:
    """Rank 0's ``time.time()``, broadcast to every rank at each call; the local time outside a process group.

    Every rank must call it at the same points of the run (it is a collective), which holds for hooks whose calls
    depend only on the iteration and epoch counters.
    """

    def __call__(self) -> float:
        now = torch.tensor([time.time()], dtype=torch.float64)
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            dist.broadcast(now, src=0)
        return float(now.item())


@dataclass
class RankOutcome:
    """What one rank of :func:`train_with_record_on_processes` reports back.

    Attributes:
        rank: the process rank.
        record: the rank's training record (rank 0's holds the scored validations).
        stopped_by_budget: the budget schedule stopped training before its epoch cap.
        lr_fractions: the budget schedule's decay fraction at every decayed iteration (empty without it).
        param_checksum: sum of all model parameters after training (the ranks' weights agree when these do).
        buffer_checksum: sum of the float buffers of the model and its EMA copy after training.
    """

    rank: int
    record: TrainingRecord
    stopped_by_budget: bool = False
    lr_fractions: List[float] = field(default_factory=list)
    param_checksum: float = 0.0
    buffer_checksum: float = 0.0


def free_local_port() -> int:
    """An unused TCP port on 127.0.0.1 for the process group's rendezvous."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def split_train_batch(cfg: Any, processes: int) -> int:
    """Make the config's training batch the global one: each of ``processes`` ranks gets an equal share (in place).

    The recipe (learning rate, steps per epoch, warm-up length) then stays as tuned for one process; only the
    batch-norm statistics see fewer images per rank.

    Args:
        cfg: config whose ``train_dataloader.batch_size`` is the batch one optimiser step should see.
        processes: the number of ranks.

    Returns:
        int: the per-rank batch size now in ``cfg``.

    Raises:
        ValueError: the batch does not split evenly (both numbers named).
    """
    batch = int(cfg.train_dataloader["batch_size"])
    if processes < 1 or batch % processes:
        raise ValueError(f"train_dataloader.batch_size={batch} does not split evenly over {processes} processes")
    cfg.train_dataloader["batch_size"] = batch // processes
    return batch // processes


def _rank_outcome_file(work_dir: str, rank: int) -> Path:
    return Path(work_dir) / f"rank{rank}_outcome.pkl"


class ChecksumHook(Hook):
    """After training, sums the rank's training weights and the float buffers of the model and its EMA copy.

    Equal sums on all ranks: the ranks ended with the same weights and validate with the same statistics.
    """

    priority = "LOWEST"

    def __init__(self) -> None:
        self.param_checksum = 0.0
        self.buffer_checksum = 0.0

    def after_train(self, runner: Any) -> None:
        modules = model_and_ema_copies(runner)
        with torch.no_grad():
            self.param_checksum = float(sum(p.double().sum() for p in runner.model.parameters()))
            self.buffer_checksum = float(sum(b.double().sum() for m in modules for b in m.buffers()
                                             if b.is_floating_point()))


class RankAveragedBuffersHook(Hook):
    """After every training epoch, average the float buffers of the model and of its EMA copy over the ranks.

    DDP averages gradients, not buffers: each rank's batch-norm running statistics follow its own images, and under
    ``EMAHook(update_buffers=True)`` so do the EMA's. Averaged after each epoch, every rank validates with the same
    weights (all parts of the val split are scored with one model) and the saved checkpoint's statistics come from
    every rank's images. Integer buffers (step counters) are equal on all ranks and left alone. mmengine's
    ``SyncBuffersHook`` averages the model's buffers only, not those of the EMA copy that validation and the saved
    checkpoint use.
    """

    priority = "LOW"

    def after_train_epoch(self, runner: Any) -> None:
        from mmengine.dist import all_reduce_params

        for module in model_and_ema_copies(runner):
            all_reduce_params([b for b in module.buffers() if b.is_floating_point()], op="mean")


def _train_rank(rank: int, world_size: int, port: int, threads: int, cfg: Any, budget_seconds: Optional[float],
                follow_budget: bool, desc: str, score_fn: Optional[Callable[[List[dict]], Dict[str, float]]],
                final_checkpoint: Optional[str], sync: str = "gradients", average_every: int = 4) -> None:
    """Body of one spawned worker: join the process group, train, write this rank's :class:`RankOutcome`."""
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    torch.set_num_threads(threads)
    from mmengine.registry import init_default_scope
    from mmpose.utils import register_all_modules

    import rtmo_plugin  # noqa: F401  (registers the plugin in this fresh process)
    from ..engine.hooks import PeriodicWeightAveragingHook
    from ..engine.launch import setup_cpu_distributed
    from .budget_schedule import budget_schedule_from_config
    from .training import train_with_record

    register_all_modules(init_default_scope=False)
    init_default_scope("mmpose")
    cfg.launcher = "pytorch"
    # parameters without a gradient in a step: the demo neck's stride-32 path (its head reads strides 8 and 16 only;
    # 18 tensors) and, on a rank whose batch has no positive prior, the pose branch
    cfg.find_unused_parameters = True
    if not setup_cpu_distributed(cfg, "pytorch"):
        raise RuntimeError("the multi-process demo trains on the CPU with gloo; on a machine with CUDA train with "
                           "`mim train mmpose CONFIG --launcher pytorch --gpus N`")
    try:
        cfg.randomness = dict(cfg.get("randomness") or {}, diff_rank_seed=True)
        clock = RankZeroClock()
        if sync == "weights":
            # local SGD: no gradient exchange; every rank passes over the whole set per epoch in its own order, takes
            # its own steps (each reads its own clock for the rate, so no iteration waits for a broadcast) and the
            # hook averages the weights every `average_every` iterations and after every epoch
            # scoped name: mmengine's runner looks the wrapper up with MODEL_WRAPPERS.get from the root registry
            cfg.model_wrapper_cfg = dict(type="mmpose.IndependentRanksWrapper")
            cfg.train_dataloader["sampler"] = dict(type="FullPassPerRankSampler", shuffle=True)
            averaging: Hook = PeriodicWeightAveragingHook(average_every)
            iteration_clock: Optional[Callable[[], float]] = time.time
        else:
            averaging, iteration_clock = RankAveragedBuffersHook(), None
        schedule = (budget_schedule_from_config(cfg, budget_seconds, clock=clock, iteration_clock=iteration_clock)
                    if follow_budget else None)
        checksum = ChecksumHook()
        hooks = [checksum, averaging] + ([schedule] if schedule is not None else [])
        record = train_with_record(cfg, budget_seconds=budget_seconds, desc=desc, show=rank == 0,
                                   final_checkpoint=final_checkpoint, score_fn=score_fn, extra_hooks=hooks,
                                   clock=clock)
        outcome = RankOutcome(rank, record, bool(schedule is not None and schedule.stopped_by_budget),
                              list(schedule.fractions) if schedule is not None else [], checksum.param_checksum,
                              checksum.buffer_checksum)
        with open(_rank_outcome_file(cfg.work_dir, rank), "wb") as f:
            pickle.dump(outcome, f)
    finally:
        destroy_process_group()  # torch 2.1: gloo teardown can hang (see compat)


def train_with_record_on_processes(cfg: Any, processes: int = 2, budget_seconds: Optional[float] = None,
                                   follow_budget: bool = False, desc: str = "train",
                                   score_fn: Optional[Callable[[List[dict]], Dict[str, float]]] = None,
                                   final_checkpoint: Optional[str] = "final.pth",
                                   total_threads: Optional[int] = None, sync: str = "gradients",
                                   average_every: int = 4) -> List[RankOutcome]:
    """Train ``cfg`` on ``processes`` spawned CPU processes (gloo) and return every rank's outcome.

    Args:
        cfg: full config with ``work_dir`` set (each worker gets a copy; the caller's is not changed).
        processes: number of training processes (ranks), >= 2.
        budget_seconds: wall-clock budget of the training (rank 0's clock); None = no limit.
        follow_budget: replace the config's cosine decay by the budget schedule
            (:func:`~rtmo_plugin.demo_data.budget_schedule.budget_schedule_from_config`); needs ``budget_seconds``.
        desc: progress bar label (rank 0 draws it).
        score_fn: picklable extra score of every validation (e.g.
            :class:`~rtmo_plugin.demo_data.evaluate.BoxAndKeypointScore`), run by rank 0 on all ranks' predictions.
        final_checkpoint: file name in ``work_dir`` for the last (EMA) weights, saved by rank 0; None: not saved.
        total_threads: torch threads shared out among the processes (default ``OMP_NUM_THREADS`` or the CPU count);
            each gets at least one.
        sync: ``"gradients"``: DDP, one optimiser step over all ranks' batches; ``"weights"``: local SGD, each rank
            steps on its own batches over a full pass per epoch and the weights are averaged every
            ``average_every`` iterations and after every epoch (:class:`PeriodicWeightAveragingHook`).
        average_every: iterations between weight averagings with ``sync="weights"``.

    Returns:
        list[RankOutcome]: one per rank, in rank order (rank 0's record is the one to report).

    Raises:
        ValueError: fewer than 2 processes, ``follow_budget`` without a budget, an unknown ``sync`` or an
            ``average_every`` below 1.
        torch.multiprocessing.ProcessRaisedException: a worker failed (its traceback is in the message).
    """
    import copy

    import torch.multiprocessing as mp

    if processes < 2:
        raise ValueError(f"processes must be >= 2 for a multi-process run, got {processes} (use train_with_record)")
    if follow_budget and not budget_seconds:
        raise ValueError("follow_budget needs budget_seconds > 0")
    if sync not in SYNC_MODES:
        raise ValueError(f"sync must be one of {SYNC_MODES}, got {sync!r}")
    if average_every < 1:
        raise ValueError(f"average_every must be >= 1, got {average_every}")
    total = total_threads or int(os.environ.get("OMP_NUM_THREADS", 0)) or os.cpu_count() or 1
    threads = max(1, total // processes)
    cfg = copy.deepcopy(cfg)
    Path(cfg.work_dir).mkdir(parents=True, exist_ok=True)
    for rank in range(processes):
        _rank_outcome_file(cfg.work_dir, rank).unlink(missing_ok=True)
    mp.start_processes(_train_rank, nprocs=processes, join=True, start_method="spawn",
                       args=(processes, free_local_port(), threads, cfg, budget_seconds, follow_budget, desc,
                             score_fn, final_checkpoint, sync, average_every))
    outcomes = []
    for rank in range(processes):
        with open(_rank_outcome_file(cfg.work_dir, rank), "rb") as f:
            outcomes.append(pickle.load(f))
    return outcomes
