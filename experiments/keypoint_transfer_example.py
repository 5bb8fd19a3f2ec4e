"""Worked example of issue 31: train the demo RTMO on 26 keypoints from scratch and from a COCO-17 checkpoint.

Runs (each with the same wall-clock budget, one after the other or with ``--parallel`` side by side on one core each,
the demo's budget-following schedule):

* ``scratch``: ``configs/demo/rtmo-tiny_synthetic-160_halpe26.py`` on the Halpe-26 synthetic figures;
* ``transfer``: the same, ``load_from`` = a COCO-17 ``make demo`` checkpoint, mapped by keypoint name by
  ``CheckpointCompatibilityHook(keypoint_transfer=...)`` (17 rows copied, 9 from named neighbours);
* ``crowdpose`` (mechanism check): the COCO-17 checkpoint transferred to CrowdPose-14 (12 shared limb joints,
  ``top_head`` / ``neck`` from neighbours), trained briefly on the 2 ``crowdpose_mini`` photos and scored with the
  CrowdPose metric on the same photos.

Keypoint AP of all 26 points, of the 17 shared and of the 9 new ones is measured at iteration 0 (the loaded
weights, before any step) and every ``--eval-every`` iterations on the synthetic val split (EMA weights, as the
demo). The source model's own AP on the 17 points of the same val images is the reference of the iteration-0 row.
Writes ``<out-dir>/summary.json`` and ``docs/images/keypoint_transfer_curves.png`` (with ``--docs-image``).

    python -m experiments.keypoint_transfer_example --source outputs/demo17/work_dir/final.pth --budget-minutes 6
"""
import argparse
import json
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Optional

os.environ.setdefault("OMP_NUM_THREADS", "2")

from mmengine.hooks import Hook  # noqa: E402

HALPE_CONFIG = "configs/demo/rtmo-tiny_synthetic-160_halpe26.py"
COCO_METAINFO = "configs/_base_/datasets/coco.py"
CROWDPOSE_METAINFO = "configs/_base_/datasets/crowdpose.py"
SUBSETS = {"all": list(range(26)), "shared17": list(range(17)), "new9": list(range(17, 26))}


class PeriodicValHook(Hook):
    """Validate before the first step (the loaded weights), every ``every`` iterations and after the last one."""

    priority = "LOW"

    def __init__(self, every: int) -> None:
        self.every = every
        self._last = -1

    def _validate(self, runner: Any) -> None:
        if runner.iter != self._last:
            runner.val_loop.run()
            runner.model.train()

    def after_val_epoch(self, runner: Any, metrics: Optional[Dict[str, float]] = None) -> None:
        self._last = runner.iter  # also the train loop's own validation (after the last epoch)

    def before_train(self, runner: Any) -> None:
        self._validate(runner)

    def before_train_iter(self, runner: Any, batch_idx: int, data_batch: Any = None) -> None:
        if runner.iter > 0 and runner.iter % self.every == 0:  # runner.iter = steps done so far
            self._validate(runner)

    def after_train(self, runner: Any) -> None:
        self._validate(runner)


def prepare_halpe_data(data_dir: Path, num_train: int, num_val: int, seed: int) -> None:
    """Generate the Halpe-26 synthetic splits unless ``data_dir/manifest.json`` says they exist."""
    from rtmo_plugin.datasets.synthetic import GENERATOR_VERSION, generate_split

    wanted = dict(num_train=num_train, num_val=num_val, seed=seed, keypoint_set="halpe26",
                  generator_version=GENERATOR_VERSION)
    manifest = data_dir / "manifest.json"
    if manifest.is_file() and json.loads(manifest.read_text()) == wanted:
        return
    for split, n in (("train", num_train), ("val", num_val)):
        generate_split(data_dir, split, n, seed=seed, keypoint_set="halpe26")
    manifest.write_text(json.dumps(wanted))


def transfer_hook_cfg(source_metainfo: str) -> Dict[str, Any]:
    """The config entry that makes ``load_from`` transfer a checkpoint of ``source_metainfo``'s keypoints."""
    return dict(type="CheckpointCompatibilityHook", keypoint_transfer=dict(source_metainfo=source_metainfo))


def train_halpe(name: str, out_dir: Path, data_dir: Path, budget_s: float, eval_every: int,
                source: Optional[Path], lr_scale: float = 1.0) -> Dict[str, Any]:
    """One 26-keypoint run (``lr_scale`` multiplies the peak and the final learning rate); returns its curves."""
    from rtmo_plugin.datasets.metainfo_check import load_checked_metainfo
    from rtmo_plugin.demo.budget_schedule import budget_schedule_from_config
    from rtmo_plugin.demo.run_demo import DEMO_EPOCH_CAP, build_config
    from rtmo_plugin.demo.training import train_with_record

    from .keypoint_subset_ap import SubsetKeypointScore

    cfg = build_config(data_dir, out_dir / name, DEMO_EPOCH_CAP, Path(HALPE_CONFIG))
    cfg.log_level = "WARNING"
    cfg.train_cfg["val_interval"] = 10 ** 6  # validation by PeriodicValHook only
    cfg.optim_wrapper.optimizer.lr *= lr_scale
    for sched in cfg.param_scheduler:
        if "eta_min" in sched:
            sched["eta_min"] *= lr_scale
    if source is not None:
        cfg.load_from = str(source)
        cfg.custom_hooks = list(cfg.custom_hooks) + [transfer_hook_cfg(COCO_METAINFO)]
    sigmas = load_checked_metainfo(cfg.val_dataloader.dataset.metainfo).get("sigmas")
    score = SubsetKeypointScore(data_dir / "annotations" / "val.json", sigmas, SUBSETS)
    hooks = [budget_schedule_from_config(cfg, budget_s), PeriodicValHook(eval_every)]
    record = train_with_record(cfg, budget_seconds=budget_s, desc=name, score_fn=score, extra_hooks=hooks)
    return dict(iters=record.val_iters, **record.val_metrics, seconds_per_iter=record.seconds_per_iter,
                train_seconds=record.wall_seconds, final_iter=record.iters[-1] if record.iters else 0)


def _lr_scale(run: str) -> float:
    """The learning-rate factor a run name asks for: ``transfer_lr0.1`` -> 0.1; 1 otherwise."""
    if run in ("scratch", "transfer"):
        return 1.0
    if run.startswith("transfer_lr"):
        try:
            return float(run[len("transfer_lr"):])
        except ValueError:
            pass
    raise SystemExit(f"keypoint_transfer_example: unknown run {run!r} (scratch, transfer, transfer_lr<factor>, "
                     "crowdpose)")


def _train_halpe_one_thread(job: tuple) -> Dict[str, Any]:
    """``train_halpe`` in a worker process with one thread (runs side by side get one core each)."""
    import torch
    from mmengine.registry import init_default_scope

    torch.set_num_threads(1)
    init_default_scope("mmpose")
    return train_halpe(*job)


def source_reference(source: Path, data_dir: Path) -> Dict[str, float]:
    """AP of the COCO-17 source model on the 17 points of the 26-keypoint val images (the transfer's reference)."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    from rtmo_plugin.apis import load_model
    from rtmo_plugin.demo.run_demo import DEMO_CONFIG, build_config
    from rtmo_plugin.evaluation.box_keypoint_ap import predict_dataloader

    from .keypoint_subset_ap import SubsetKeypointScore

    model = load_model(Config.fromfile(str(DEMO_CONFIG)), source)
    halpe = build_config(data_dir, data_dir / "unused", None, Path(HALPE_CONFIG))
    results = predict_dataloader(model, Runner.build_dataloader(halpe.val_dataloader))
    from rtmo_plugin.datasets.metainfo_check import load_checked_metainfo

    sigmas = load_checked_metainfo(halpe.val_dataloader.dataset.metainfo)["sigmas"]
    return SubsetKeypointScore(data_dir / "annotations" / "val.json", sigmas, SUBSETS)(results)


def crowdpose_check(source: Path, out_dir: Path, crowdpose_root: Path, iters: int) -> Dict[str, Any]:
    """COCO-17 -> CrowdPose-14 on ``crowdpose_mini``: CrowdPose AP before and after ``iters`` steps (same 2 photos)."""
    from mmengine.config import Config

    from rtmo_plugin.demo.run_demo import DEMO_CONFIG
    from rtmo_plugin.demo.training import train_with_record

    cfg = Config.fromfile(str(DEMO_CONFIG))
    root = str(crowdpose_root) + "/"
    ann = root + "test_crowdpose.json"
    for key in ("train_dataloader", "val_dataloader", "test_dataloader"):
        cfg[key]["dataset"].update(type="CheckedCrowdPoseDataset", data_root=root, ann_file="test_crowdpose.json",
                                   data_prefix=dict(img="."), metainfo=dict(from_file=CROWDPOSE_METAINFO))
    cfg.train_dataloader.batch_size = 2
    cfg.val_evaluator = dict(type="CocoMetric", ann_file=ann, score_mode="bbox", nms_mode="none",
                             iou_type="keypoints_crowd", prefix="crowdpose", use_area=False)
    cfg.test_evaluator = cfg.val_evaluator
    cfg.model.head.num_keypoints = 14
    cfg.model.head.assigner.oks_calculator.metainfo = CROWDPOSE_METAINFO
    cfg.model.head.loss_oks.metainfo = CROWDPOSE_METAINFO
    cfg.train_cfg = dict(by_epoch=True, max_epochs=iters, val_interval=10 ** 6)  # 1 step per epoch (2 photos)
    cfg.param_scheduler = []  # constant learning rate for a few steps
    cfg.load_from = str(source)
    cfg.custom_hooks = list(cfg.custom_hooks) + [transfer_hook_cfg(COCO_METAINFO)]
    cfg.work_dir = str(out_dir / "crowdpose")
    cfg.log_level = "WARNING"
    record = train_with_record(cfg, desc="crowdpose", extra_hooks=[PeriodicValHook(max(iters // 2, 1))])
    report = json.loads((out_dir / "crowdpose" / "keypoint_transfer.json").read_text())
    return dict(iters=record.val_iters, **record.val_metrics, seconds_per_iter=record.seconds_per_iter,
                keypoints=report["keypoints"], counts=report["counts"])


def plot(runs: Dict[str, Dict[str, Any]], reference: Dict[str, float], out_file: Path, title: str) -> None:
    """Keypoint AP (all / shared 17 / new 9) and box AP against iterations for every run."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = (("kpt AP all", "keypoint AP, all 26"), ("kpt AP shared17", "keypoint AP, 17 shared"),
              ("kpt AP new9", "keypoint AP, 9 new"), ("box AP", "box AP"))
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.8))
    for ax, (metric, name) in zip(axes, panels):
        for run_name, run in runs.items():
            ax.plot(run["iters"], run[metric], marker="o", label=run_name)
        if metric in reference:
            ax.axhline(reference[metric], color="grey", ls="--", label="COCO-17 source model")
        ax.set_title(name)
        ax.set_xlabel("iteration")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[0].set_ylabel("AP (synthetic val, 100 images)")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    out_file.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_file, dpi=100)


def main(argv: Optional[List[str]] = None) -> None:
    from mmengine.registry import init_default_scope

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, required=True, help="COCO-17 checkpoint of the demo model")
    parser.add_argument("--out-dir", type=Path, default=Path("outputs/keypoint_transfer"))
    parser.add_argument("--budget-minutes", type=float, default=6.0, help="wall-clock budget of each 26-kpt run")
    parser.add_argument("--eval-every", type=int, default=50)
    parser.add_argument("--num-train", type=int, default=800)
    parser.add_argument("--num-val", type=int, default=100)
    parser.add_argument("--runs", nargs="+", default=["scratch", "transfer", "crowdpose"],
                        help="scratch, transfer, transfer_lr<factor> (e.g. transfer_lr0.1: peak and final learning "
                             "rate x0.1), crowdpose")
    parser.add_argument("--crowdpose-root", type=Path, default=Path("../shared/data/crowdpose_mini"))
    parser.add_argument("--crowdpose-iters", type=int, default=20)
    parser.add_argument("--parallel", action="store_true",
                        help="train scratch and transfer at the same time, 1 thread each (equal conditions)")
    parser.add_argument("--docs-image", type=Path, default=None, help="also write the curves PNG here")
    parser.add_argument("--plot-only", action="store_true", help="redraw the curves from <out-dir>/summary.json")
    args = parser.parse_args(argv)
    title = (f"demo RTMO on 26-keypoint synthetic figures, {args.budget_minutes:g} min each: from scratch vs from a "
             "COCO-17 checkpoint transferred by name")
    outs = [args.out_dir / "curves.png"] + ([args.docs_image] if args.docs_image else [])
    if args.plot_only:
        done = json.loads((args.out_dir / "summary.json").read_text())
        for out in outs:
            plot(done["runs"], done["source_reference"], out, title)
        return

    init_default_scope("mmpose")
    data_dir = args.out_dir / "data"
    summary_file = args.out_dir / "summary.json"
    summary: Dict[str, Any] = json.loads(summary_file.read_text()) if summary_file.is_file() else {}
    summary.update(budget_minutes=args.budget_minutes, source=str(args.source))
    t0 = time.time()
    prepare_halpe_data(data_dir, args.num_train, args.num_val, seed=0)
    summary["source_reference"] = source_reference(args.source, data_dir)
    print("[example] COCO-17 source on the 26-kpt val images:", summary["source_reference"])
    runs = summary.setdefault("runs", {})
    names = [name for name in args.runs if name != "crowdpose"]
    jobs = [(name, args.out_dir, data_dir, args.budget_minutes * 60, args.eval_every,
             args.source if name.startswith("transfer") else None, _lr_scale(name)) for name in names]
    if args.parallel and len(jobs) > 1:
        summary["schedule"] = f"{len(jobs)} runs at the same time, 1 thread each"
        with ProcessPoolExecutor(len(jobs), mp_context=multiprocessing.get_context("spawn")) as pool:
            results = list(pool.map(_train_halpe_one_thread, jobs))
    else:
        if jobs:
            summary["schedule"] = "one run after the other"
        results = [train_halpe(*job) for job in jobs]
    for name, result in zip(names, results):
        runs[name] = result
        print(f"[example] {name}:", {k: v[-1] if isinstance(v, list) and v else v for k, v in result.items()})
    summary_file.write_text(json.dumps(summary, indent=1))
    if "crowdpose" in args.runs:
        summary["crowdpose"] = crowdpose_check(args.source, args.out_dir, args.crowdpose_root, args.crowdpose_iters)
        print("[example] crowdpose:", summary["crowdpose"])
    summary["total_seconds"] = time.time() - t0
    summary_file.write_text(json.dumps(summary, indent=1))
    if runs:
        for out in outs:
            plot(runs, summary["source_reference"], out, title)


if __name__ == "__main__":
    main()
