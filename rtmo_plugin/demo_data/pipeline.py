"""The embedded demo (``make demo``): synthetic data -> train a small RTMO on the CPU -> AP -> visualisations.

Steps (each shows a progress bar):

1. generate the synthetic train/val splits (skipped when the same files already exist);
2. train ``configs/demo/rtmo-tiny_synthetic-160.py`` with a wall-clock budget, its cosine decay following the clock
   (:mod:`~rtmo_plugin.demo_data.budget_schedule`) unless a fixed schedule is asked for;
3. evaluate box AP and keypoint AP of the final EMA weights on the held-out val split (and, as a diagnostic,
   the keypoint AP of the proxy-regression keypoints of the same detections);
4. draw predictions on val images, on the ``coco_mini`` photos and on the frames of ``video/street.mp4`` (skipped
   with a message when the shared data folder is absent);
5. write the loss/AP curve and a JSON summary into the output folder.
"""
import json
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import cv2
import numpy as np

from ..utils.paths import REPO_ROOT, shared_data_dir
from .generator import GENERATOR_VERSION, SyntheticConfig, dataset_summary, generate_split
from .visualize import draw_poses, plot_curves, with_final_evaluation

DEMO_CONFIG = REPO_ROOT / "configs" / "demo" / "rtmo-tiny_synthetic-160.py"
#: wall-clock budget of the training part (the whole demo must stay within 20 minutes on 2 cores)
DEMO_BUDGET_MINUTES = 17.5
#: with the budget schedule, the epochs are only a cap (a fast machine stops there, its decay completed); 60, so
#: that a machine with 0.09 s per step uses the budget (9,600 iterations, recipe point 25) where 30 left 6 minutes
DEMO_EPOCH_CAP = 60
SHOW_THR = 0.3  # instances drawn in the pictures: box score >= this (evaluation uses every prediction)


def _draw(img: np.ndarray, pred: Tuple[np.ndarray, ...]) -> np.ndarray:
    """``img`` with the instances of ``pred`` (keypoints, keypoint scores, boxes, box scores) scoring >= SHOW_THR."""
    return draw_poses(img, *pred, instance_thr=SHOW_THR)


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


def load_trained_model(cfg: Any, checkpoint: Path) -> Any:
    """A fresh model from ``cfg`` with the checkpoint's (EMA) weights, in eval mode, with ``cfg`` attached."""
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint

    from mmpose.registry import MODELS

    init_default_scope("mmpose")
    model = MODELS.build(cfg.model)
    load_checkpoint(model, str(checkpoint), map_location="cpu", logger="silent")
    model.cfg = cfg
    return model.eval()


def infer_images(model: Any, images: List[np.ndarray]) -> List[Tuple[np.ndarray, ...]]:
    """Run the config's test pipeline + model on BGR images; (keypoints, kpt scores, boxes, box scores) each."""
    import torch
    from mmengine.dataset import Compose, pseudo_collate

    pipeline = Compose(model.cfg.test_dataloader.dataset.pipeline)
    outputs = []
    for i, img in enumerate(images):
        data = pipeline(dict(img=img, img_id=i, img_path=f"frame_{i}", ori_shape=img.shape[:2],
                             img_shape=img.shape[:2], id=i))
        with torch.no_grad():
            pred = model.test_step(pseudo_collate([data]))[0].pred_instances
        outputs.append((np.asarray(pred.keypoints), np.asarray(pred.keypoint_scores), np.asarray(pred.bboxes),
                        np.asarray(pred.bbox_scores)))
    return outputs


def _montage(images: List[np.ndarray], height: int = 256, cols: int = 4) -> np.ndarray:
    """Tile images (resized to a common height) into rows of ``cols``, padding short rows with black."""
    tiles = [cv2.resize(im, (int(im.shape[1] * height / im.shape[0]), height)) for im in images]
    lines = [np.concatenate(tiles[r:r + cols], axis=1) for r in range(0, len(tiles), cols)]
    width = max(line.shape[1] for line in lines)
    return np.concatenate([np.pad(line, ((0, 0), (0, width - line.shape[1]), (0, 0))) for line in lines], axis=0)


def visualise(model: Any, data_dir: Path, out_dir: Path, shared: Optional[Path]) -> List[str]:
    """Skeleton overlays for 8 val images, the coco_mini photos and the street video; returns written files."""
    from tqdm import tqdm

    written = []
    val = json.loads((data_dir / "annotations" / "val.json").read_text())["images"][:8]
    imgs = [cv2.imread(str(data_dir / "val" / im["file_name"])) for im in val]
    preds = infer_images(model, imgs)
    drawn = [_draw(im, p) for im, p in zip(imgs, preds)]
    cv2.imwrite(str(out_dir / "synthetic_val_predictions.png"), _montage(drawn))
    written.append("synthetic_val_predictions.png")
    if shared is None or not (shared / "coco_mini").is_dir():
        print(f"[demo] shared sample data not found ({shared_data_dir()}); skipping coco_mini and video inference")
        return written
    photos = sorted((shared / "coco_mini").glob("*.jpg"))
    imgs = [cv2.imread(str(p)) for p in tqdm(photos, desc="coco_mini", unit="img")]
    preds = infer_images(model, imgs)
    cv2.imwrite(str(out_dir / "coco_mini_predictions.png"),
                _montage([_draw(im, p) for im, p in zip(imgs, preds)], 320, 2))
    written.append("coco_mini_predictions.png")
    video = shared / "video" / "street.mp4"
    cap = cv2.VideoCapture(str(video))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    if not frames:
        print(f"[demo] could not read frames from {video}; skipping video inference")
        return written
    preds = infer_images(model, list(tqdm(frames, desc="street.mp4", unit="frame")))
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(out_dir / "street_predictions.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 5, (w, h))
    for frame, pred in zip(frames, preds):
        writer.write(_draw(frame, pred))
    writer.release()
    cv2.imwrite(str(out_dir / "street_frame0_predictions.png"), _draw(frames[0], preds[0]))
    written += ["street_predictions.mp4", "street_frame0_predictions.png"]
    return written


def run_demo(out_dir: Path = REPO_ROOT / "outputs" / "demo", num_train: int = 800, num_val: int = 100,
             seed: int = 0, max_epochs: Optional[int] = None, budget_minutes: float = DEMO_BUDGET_MINUTES,
             config: Path = DEMO_CONFIG, follow_budget: bool = True, processes: int = 1, sync: str = "gradients",
             average_every: int = 4) -> Dict[str, Any]:
    """The whole demo; returns (and writes to ``out_dir/summary.json``) the measured numbers.

    With ``follow_budget`` (the default) the learning rate decays over the wall-clock budget and training runs
    until the budget (``max_epochs``, default :data:`DEMO_EPOCH_CAP`, is a cap); without it, the config's
    epoch-based schedule runs and the budget only cuts it short. With ``processes`` > 1 the training runs on that
    many CPU processes (:mod:`~rtmo_plugin.demo_data.multiprocess`) that share out the ``OMP_NUM_THREADS`` threads:
    with ``sync="gradients"`` as DDP ranks that also share out the config's batch, with ``sync="weights"`` as
    independent learners on the config's batch each, their weights averaged every ``average_every`` iterations. The
    evaluation and pictures after it run in this process.
    """
    from mmengine.runner import Runner
    from mmpose.utils import register_all_modules

    import rtmo_plugin  # noqa: F401  (registers the plugin)
    from .budget_schedule import budget_schedule_from_config
    from .crowd_breakdown import ap_by_people_count
    from .evaluate import BoxAndKeypointScore, box_and_keypoint_ap, evaluate_box_and_keypoints, predict_dataloader
    from .keypoint_errors import keypoint_error_report
    from .mean_pose_baseline import mean_pose_ap
    from .multiprocess import split_train_batch, train_with_record_on_processes
    from .proxy_keypoints import proxy_keypoints_as_output
    from .training import train_with_record

    register_all_modules(init_default_scope=False)
    from mmengine.registry import init_default_scope
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
    score_fn = BoxAndKeypointScore(ann_file)
    if processes > 1:
        if sync == "gradients":
            split_train_batch(cfg, processes)  # the config's batch per optimiser step, shared out over the processes
        outcome = train_with_record_on_processes(cfg, processes, budget_minutes * 60, follow_budget,
                                                 f"train RTMO (CPU, {processes} processes)", score_fn,
                                                 sync=sync, average_every=average_every)[0]
        record, stopped_by_schedule = outcome.record, outcome.stopped_by_budget
    else:
        hook = budget_schedule_from_config(cfg, budget_minutes * 60) if follow_budget else None
        record = train_with_record(cfg, budget_seconds=budget_minutes * 60, desc="train RTMO (CPU)",
                                   score_fn=score_fn, extra_hooks=[hook] if hook is not None else [])
        stopped_by_schedule = hook is not None and hook.stopped_by_budget
    val_loader = Runner.build_dataloader(cfg.val_dataloader)

    model = load_trained_model(cfg, work_dir / "final.pth")
    results = predict_dataloader(model, val_loader, progress=True)
    metrics = box_and_keypoint_ap(ann_file, results)
    errors = keypoint_error_report(ann_file, results)  # where the keypoint AP goes (per-keypoint misses)
    metrics["oracle_kpt_AP"] = errors["oracle_kpt_AP"]
    by_people = ap_by_people_count(ann_file, results)  # how much the crowded images cost
    with proxy_keypoints_as_output(model.head):  # diagnostic: what the DCC's input features already know
        metrics["proxy_kpt_AP"] = evaluate_box_and_keypoints(model, val_loader, ann_file)["kpt_AP"]
    # pose-blind reference: the training set's average pose in each true box of the val split
    metrics["mean_pose_kpt_AP"] = mean_pose_ap(data_dir / "annotations" / "train.json", ann_file)["AP"]

    shared = shared_data_dir()
    files = visualise(model, data_dir, out_dir, shared if shared.is_dir() else None)
    aps = {k: v for k, v in record.val_metrics.items() if k in ("kpt AP", "box AP")}
    final_iter = record.iters[-1] if record.iters else 0
    ap_steps, aps = with_final_evaluation(record.val_iters, aps, final_iter,
                                          {"kpt AP": metrics["kpt_AP"], "box AP": metrics["box_AP"]})
    plot_curves(record.iters, {k: v for k, v in record.losses.items()}, ap_steps, aps,
                out_dir / "curves.png", title=f"small RTMO on synthetic figures, final kpt AP {metrics['kpt_AP']:.3f}")
    files.append("curves.png")
    summary = dict(data=data_summary, metrics=metrics, iterations=final_iter,
                   seconds_per_iter=record.seconds_per_iter, train_seconds=record.wall_seconds,
                   data_seconds=t_data, total_seconds=time.time() - start,
                   stopped_early=record.stopped_early or stopped_by_schedule,
                   schedule="budget" if follow_budget else "epochs", processes=processes,
                   sync=sync if processes > 1 else None,
                   val_curve=dict(iters=record.val_iters, **record.val_metrics), ap_by_people=by_people,
                   keypoint_errors=dict(median_error=errors["median_error"],
                                        error_over_tolerance=errors["error_over_tolerance"]),
                   files=files)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1))
    return summary
