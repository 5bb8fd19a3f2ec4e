"""The embedded demo (``make demo``): synthetic people -> train a small RTMO on the CPU -> AP -> pictures.

Steps (each shows a progress bar):

1. generate the synthetic train/val splits (skipped when the same files already exist);
2. train ``configs/demo/rtmo-tiny_synthetic-160.py`` with a wall-clock budget, its cosine decay following the
   clock (:mod:`~rtmo_plugin.demo.budget_schedule`) unless a fixed schedule is asked for;
3. evaluate box AP and keypoint AP of the final EMA weights on the held-out val split;
4. draw the predictions on val images (through :class:`~rtmo_plugin.apis.RTMOInferencer`, as a user would), plot
   the loss and AP curves and write a JSON summary into the output folder.

The model only ever sees synthetic figures, so it is shown on synthetic images only.
"""
import json
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import cv2
import numpy as np

from ..apis import RTMOInferencer, draw_poses, load_model
from ..datasets.synthetic import GENERATOR_VERSION, SyntheticConfig, dataset_summary, generate_split
from ..evaluation import BoxAndKeypointScore, evaluate_box_and_keypoints
from ..utils.paths import REPO_ROOT
from .budget_schedule import budget_schedule_from_config
from .curves import plot_curves, with_final_evaluation
from .training import train_with_record

DEMO_CONFIG = REPO_ROOT / "configs" / "demo" / "rtmo-tiny_synthetic-160.py"
#: wall-clock budget of the training part (the whole demo must stay within 20 minutes on 2 cores)
DEMO_BUDGET_MINUTES = 17.5
#: with the budget schedule the epochs are only a cap (a fast machine stops there, its decay completed); 60 lets a
#: machine at 0.09 s per step use the whole budget
DEMO_EPOCH_CAP = 60
SHOW_THR = 0.3  # instances drawn in the pictures: person score >= this (evaluation uses every prediction)


def prepare_data(data_dir: Path, num_train: int, num_val: int, seed: int) -> Dict[str, Dict[str, float]]:
    """Generate the splits unless ``data_dir/manifest.json`` says they exist with these settings."""
    manifest = data_dir / "manifest.json"
    wanted = dict(num_train=num_train, num_val=num_val, seed=seed, generator=SyntheticConfig().__dict__,
                  generator_version=GENERATOR_VERSION)
    wanted = json.loads(json.dumps(wanted))
    if manifest.is_file() and json.loads(manifest.read_text()).get("settings") == wanted:
        print(f"[demo] synthetic data already in {data_dir}")
        return json.loads(manifest.read_text())["summary"]
    summary = {}
    for split, n in (("train", num_train), ("val", num_val)):
        summary[split] = dataset_summary(generate_split(data_dir, split, n, seed=seed))
    manifest.write_text(json.dumps(dict(settings=wanted, summary=summary), indent=1))
    return summary


def build_config(data_dir: Path, work_dir: Path, max_epochs: Optional[int] = None, config: Path = DEMO_CONFIG) -> Any:
    """Load the demo config and point it at ``data_dir`` / ``work_dir``."""
    from mmengine.config import Config

    cfg = Config.fromfile(str(config))
    root = str(data_dir.resolve()) + "/"
    for key in ("train_dataloader", "val_dataloader", "test_dataloader"):
        cfg[key]["dataset"]["data_root"] = root
    cfg.val_evaluator["ann_file"] = root + "annotations/val.json"
    cfg.test_evaluator = cfg.val_evaluator
    if max_epochs is not None:
        cfg.train_cfg["max_epochs"] = max_epochs
        for sched in cfg.param_scheduler:
            if sched.get("type") == "CosineAnnealingLR":
                sched["T_max"], sched["end"] = max_epochs, max_epochs
        # a very short run may end inside the warm-up: drop schedulers that would start at or after the end
        cfg.param_scheduler = [s for s in cfg.param_scheduler if s.get("begin", 0) < s.get("end", max_epochs)]
    cfg.work_dir = str(work_dir)
    return cfg


def montage(images: List[np.ndarray], height: int = 256, cols: int = 4) -> np.ndarray:
    """Tile images (resized to a common height) into rows of ``cols``, padding short rows with black."""
    tiles = [cv2.resize(im, (int(im.shape[1] * height / im.shape[0]), height)) for im in images]
    lines = [np.concatenate(tiles[r:r + cols], axis=1) for r in range(0, len(tiles), cols)]
    width = max(line.shape[1] for line in lines)
    return np.concatenate([np.pad(line, ((0, 0), (0, width - line.shape[1]), (0, 0))) for line in lines], axis=0)


def draw_val_predictions(model: Any, data_dir: Path, out_file: Path, count: int = 8) -> Path:
    """Skeleton overlays of the first ``count`` val images, tiled into one picture."""
    val = json.loads((data_dir / "annotations" / "val.json").read_text())["images"][:count]
    images = [cv2.imread(str(data_dir / "val" / im["file_name"])) for im in val]
    predictions = RTMOInferencer(model, mode="eval")(images)
    drawn = [draw_poses(im, pred, instance_thr=SHOW_THR) for im, pred in zip(images, predictions)]
    cv2.imwrite(str(out_file), montage(drawn))
    return out_file


def run_demo(out_dir: Path = REPO_ROOT / "outputs" / "demo", num_train: int = 800, num_val: int = 100,
             seed: int = 0, max_epochs: Optional[int] = None, budget_minutes: float = DEMO_BUDGET_MINUTES,
             config: Path = DEMO_CONFIG, follow_budget: bool = True) -> Dict[str, Any]:
    """The whole demo; returns (and writes to ``out_dir/summary.json``) the measured numbers.

    With ``follow_budget`` (the default) the learning rate decays over the wall-clock budget and training runs
    until the budget (``max_epochs``, default :data:`DEMO_EPOCH_CAP`, is a cap); without it, the config's
    epoch-based schedule runs and the budget only cuts it short.
    """
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner

    init_default_scope("mmpose")
    start = time.time()
    out_dir = Path(out_dir)
    data_dir, work_dir = out_dir / "data", out_dir / "work_dir"
    out_dir.mkdir(parents=True, exist_ok=True)
    data_summary = prepare_data(data_dir, num_train, num_val, seed)
    t_data = time.time() - start

    if follow_budget and max_epochs is None:
        max_epochs = DEMO_EPOCH_CAP
    cfg = build_config(data_dir, work_dir, max_epochs, config)
    cfg.log_level = "WARNING"
    ann_file = data_dir / "annotations" / "val.json"
    hook = budget_schedule_from_config(cfg, budget_minutes * 60) if follow_budget else None
    record = train_with_record(cfg, budget_seconds=budget_minutes * 60, desc="train RTMO (CPU)",
                               score_fn=BoxAndKeypointScore(ann_file), extra_hooks=[hook] if hook else [])
    stopped_by_schedule = hook is not None and hook.stopped_by_budget

    model = load_model(cfg, work_dir / "final.pth")
    metrics = evaluate_box_and_keypoints(model, Runner.build_dataloader(cfg.val_dataloader), ann_file, progress=True)
    files = [draw_val_predictions(model, data_dir, out_dir / "synthetic_val_predictions.png").name]
    aps = {k: v for k, v in record.val_metrics.items() if k in ("kpt AP", "box AP")}
    final_iter = record.iters[-1] if record.iters else 0
    ap_steps, aps = with_final_evaluation(record.val_iters, aps, final_iter,
                                          {"kpt AP": metrics["kpt_AP"], "box AP": metrics["box_AP"]})
    plot_curves(record.iters, dict(record.losses), ap_steps, aps, out_dir / "curves.png",
                title=f"small RTMO on synthetic figures, final kpt AP {metrics['kpt_AP']:.3f}")
    files.append("curves.png")
    summary = dict(data=data_summary, metrics=metrics, iterations=final_iter,
                   seconds_per_iter=record.seconds_per_iter, train_seconds=record.wall_seconds,
                   data_seconds=t_data, total_seconds=time.time() - start,
                   stopped_early=record.stopped_early or stopped_by_schedule,
                   schedule="budget" if follow_budget else "epochs",
                   val_curve=dict(iters=record.val_iters, **record.val_metrics), files=files)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1))
    return summary
