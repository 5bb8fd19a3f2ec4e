"""Run an mmengine training in-process with a progress bar, a wall-clock budget and recorded curves.

Used by the demo (and by the overfit check in ``experiments/``). The hook below is attached to a runner instance
(it is not registered in any registry, so it never appears in configs).
"""
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from mmengine.config import Config
from mmengine.hooks import Hook

from ..evaluation.coco_results import data_samples_to_coco_results

LOSS_KEYS = ("loss", "loss_cls", "loss_bbox", "loss_oks", "loss_mle", "loss_vis")


@dataclass
class TrainingRecord:
    """What happened during a training run.

    Attributes:
        iters: iteration index (1-based) of every loss sample.
        losses: loss name -> values per iteration.
        val_iters: iteration at every validation.
        val_metrics: metric name -> values per validation.
        seconds_per_iter: mean wall time per training iteration (data + step).
        wall_seconds: total wall time of ``runner.train()``.
        stopped_early: True if the wall-clock budget ended the run.
    """

    iters: List[int] = field(default_factory=list)
    losses: Dict[str, List[float]] = field(default_factory=dict)
    val_iters: List[int] = field(default_factory=list)
    val_metrics: Dict[str, List[float]] = field(default_factory=dict)
    seconds_per_iter: float = 0.0
    wall_seconds: float = 0.0
    stopped_early: bool = False


class ProgressRecorderHook(Hook):
    """tqdm bar over the training iterations; records losses/metrics; stops at a wall-clock budget.

    Args:
        record: where to store the curves.
        budget_seconds: stop training (at the end of the current epoch) after this many seconds; None = no limit.
        desc: progress bar label.
        show: draw the tqdm bar.
        score_fn: optional ``f(results) -> dict`` run at the end of every validation on the COCO results
            (:func:`~rtmo_plugin.evaluation.data_samples_to_coco_results`) of the validation loop's own
            predictions, i.e.
            of the weights validation uses (the EMA weights under ``EMAHook``), with no second inference pass; its
            values are recorded next to the evaluator's. Under DDP each rank predicts part of the split: the
            results are gathered from all ranks and scored in the main process only.
        clock: time source in seconds for the budget decision.
    """

    def __init__(self, record: TrainingRecord, budget_seconds: Optional[float] = None, desc: str = "train",
                 show: bool = True, score_fn: Optional[Callable[[List[dict]], Dict[str, float]]] = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.record, self.budget, self.desc, self.show = record, budget_seconds, desc, show
        self.score_fn, self.clock = score_fn, clock
        self._val_results: List[dict] = []
        self._bar: Any = None
        self._t0 = 0.0
        self._iter_time = 0.0
        self._n = 0

    def before_train(self, runner: Any) -> None:
        self._t0 = self.clock()
        if self.show:
            from tqdm import tqdm
            self._bar = tqdm(total=runner.max_iters, initial=runner.iter, desc=self.desc, unit="it", dynamic_ncols=True)

    def before_train_iter(self, runner: Any, batch_idx: int, data_batch: Any = None) -> None:
        self._tick = time.time()

    def after_train_iter(self, runner: Any, batch_idx: int, data_batch: Any = None, outputs: Any = None) -> None:
        self._iter_time += time.time() - self._tick
        self._n += 1
        self.record.iters.append(runner.iter + 1)
        for key in LOSS_KEYS:
            if outputs is not None and key in outputs:
                self.record.losses.setdefault(key, []).append(float(outputs[key].detach().mean()))
        if self._bar is not None:
            self._bar.update(1)
            if outputs is not None and "loss" in outputs:
                self._bar.set_postfix(loss=f"{float(outputs['loss'].detach()):.3f}", refresh=False)

    def after_train_epoch(self, runner: Any) -> None:
        if self.budget is not None and self.clock() - self._t0 > self.budget:
            runner.train_loop.stop_training = True
            self.record.stopped_early = True
            runner.logger.warning(f"wall-clock budget of {self.budget:.0f} s reached after epoch {runner.epoch + 1}; "
                                  "stopping training")

    def before_val_epoch(self, runner: Any) -> None:
        self._val_results = []

    def after_val_iter(self, runner: Any, batch_idx: int, data_batch: Any = None, outputs: Any = None) -> None:
        if self.score_fn is not None and outputs is not None:
            self._val_results += data_samples_to_coco_results(outputs)

    def after_val_epoch(self, runner: Any, metrics: Optional[Dict[str, float]] = None) -> None:
        metrics = dict(metrics or {})
        if self.score_fn is not None:
            from mmengine.dist import all_gather_object, is_main_process

            # every rank must take part in the gather; a single process gets its own list back
            results = [r for part in all_gather_object(self._val_results) for r in part]
            self._val_results = []
            if is_main_process():
                metrics.update(self.score_fn(results))
        if not metrics:
            return
        self.record.val_iters.append(runner.iter)
        for key, value in metrics.items():
            self.record.val_metrics.setdefault(key, []).append(float(value))
        if self._bar is not None:
            self._bar.write(f"[{self.desc}] iter {runner.iter}: " +
                            ", ".join(f"{k}={float(v):.3f}" for k, v in metrics.items() if k.endswith("AP")))

    def after_train(self, runner: Any) -> None:
        self.record.wall_seconds = self.clock() - self._t0
        self.record.seconds_per_iter = self._iter_time / max(self._n, 1)
        if self._bar is not None:
            self._bar.close()


def train_with_record(cfg: Config, budget_seconds: Optional[float] = None, desc: str = "train",
                      show: bool = True, final_checkpoint: Optional[str] = "final.pth",
                      score_fn: Optional[Callable[[List[dict]], Dict[str, float]]] = None,
                      extra_hooks: Sequence[Hook] = (), clock: Callable[[], float] = time.time) -> TrainingRecord:
    """Build a runner from ``cfg``, train with :class:`ProgressRecorderHook`, save ``final_checkpoint``.

    The final checkpoint goes through the hooks' ``before_save_checkpoint`` so, with an ``EMAHook``, its
    ``state_dict`` holds the EMA weights (what validation uses).

    Args:
        cfg: full config with ``work_dir`` set.
        budget_seconds: wall-clock budget for training (None = no limit).
        desc: progress bar label.
        show: show the progress bar.
        final_checkpoint: file name in ``work_dir`` for the last weights (None: do not save).
        score_fn: extra scores of every validation's predictions (see :class:`ProgressRecorderHook`).
        extra_hooks: hook instances to register too (e.g. the demo's budget schedule).
        clock: time source of the budget decision (see :class:`ProgressRecorderHook`).

    Returns:
        TrainingRecord: the curves and timings.
    """
    from mmengine.runner import Runner

    record = TrainingRecord()
    runner = Runner.from_cfg(cfg)
    runner.register_hook(ProgressRecorderHook(record, budget_seconds, desc, show, score_fn, clock))
    for hook in extra_hooks:
        runner.register_hook(hook)
    runner.train()
    if final_checkpoint:
        runner.save_checkpoint(str(Path(cfg.work_dir)), final_checkpoint, save_optimizer=False,
                               save_param_scheduler=False)
    return record
