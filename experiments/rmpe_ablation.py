"""RMPE's ablation on the synthetic figures of ``make demo``, and RMPE beside the demo's RTMO on the same val split.

Trains ``configs/rmpe/sstn-tiny_synthetic-96x128.py`` (the SSTN top-down model) on the synthetic train split with
one component removed per row, every row with the same wall-clock budget on one CPU core:

* ``full``: STN + SPPE + SDTN, the frozen parallel SPPE, PGPG box jitter; seeds 0, 1 and 2 (the spread);
* ``no_stn``: a plain crop of the enlarged box (``TopdownPoseEstimator``, same backbone and head); without an STN
  there is nothing for the parallel SPPE to train, so it goes too;
* ``no_parallel``: without the parallel SPPE;
* ``no_pgpg``: trained on the ground-truth boxes (no PoseGuidedProposals);
* box NMS instead of pose NMS: the ``full`` models, evaluated with the proposals' box NMS (IoU 0.6, AlphaPose's
  detector) in place of the parametric pose NMS (no training of its own).

The parallel SPPE of RMPE is a trained single-person model; here it is the ``no_stn`` row's model (trained first).
Runs go two at a time, one thread each, in three stages of ``--budget-minutes``: (no_stn, no_parallel),
(full seed 0, full seed 1), (no_pgpg, full seed 2).

Evaluation (2 threads, after training) is RMPE inference as a user runs it (:class:`RMPEInferencer`) on the 100
val images, COCO keypoint AP on their ground truth, with two detectors of known error: the ground-truth boxes
jittered like AlphaPose's detector error (``GroundTruthBoxes(jitter=True)``), one proposal per person and three
per person (a detector at a low threshold proposes each person several times, which is what the pose NMS is for),
and RTMO's boxes (the ``make demo`` checkpoint). The demo's RTMO on the same images is the one-stage reference.

    python -m experiments.rmpe_ablation --budget-minutes 10           # 30 min of training, then evaluation
    python -m experiments.rmpe_ablation --evaluate-only               # re-score the trained rows
"""
import argparse
import functools
import json
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

os.environ.setdefault("OMP_NUM_THREADS", "2")

CONFIG = Path("configs/rmpe/sstn-tiny_synthetic-96x128.py")
RTMO_CONFIG = Path("configs/demo/rtmo-tiny_synthetic-160.py")
#: row name -> (variant, seed)
ROWS: Dict[str, Tuple[str, int]] = {
    "no_stn": ("no_stn", 0), "no_parallel": ("no_parallel", 0),
    "full": ("full", 0), "full_seed1": ("full", 1),
    "no_pgpg": ("no_pgpg", 0), "full_seed2": ("full", 2),
}
STAGES = (("no_stn", "no_parallel"), ("full", "full_seed1"), ("no_pgpg", "full_seed2"))
#: AlphaPose's detector NMS threshold (its YOLOv3 configuration)
DETECTOR_NMS_IOU = 0.6


def row_config(variant: str, seed: int, data_dir: Path, work_dir: Path, parallel_checkpoint: Optional[Path]) -> Any:
    """The SSTN config with one RMPE component removed (``variant``), pointed at ``data_dir``."""
    from rtmo_plugin.demo.run_demo import build_config

    cfg = build_config(data_dir, work_dir, config=CONFIG)
    cfg.randomness = dict(seed=seed)
    cfg.log_level = "WARNING"
    model = cfg.model
    if variant == "no_stn":
        model.type = "TopdownPoseEstimator"
        model.pop("localization", None)
        model.pop("parallel_sppe", None)
    elif variant in ("full", "no_pgpg"):
        if parallel_checkpoint is None or not Path(parallel_checkpoint).is_file():
            raise FileNotFoundError(f"{variant}: the parallel SPPE needs the no_stn row's weights, not found at "
                                    f"{parallel_checkpoint}; train the first stage first")
        model.parallel_sppe = dict(backbone=dict(model.backbone), head=dict(model.head),
                                   checkpoint=str(parallel_checkpoint))
    elif variant == "no_parallel":
        model.parallel_sppe = None
    else:
        raise ValueError(f"unknown variant {variant!r}")
    if variant == "no_pgpg":
        pipeline = cfg.train_dataloader.dataset.pipeline
        cfg.train_dataloader.dataset.pipeline = [t for t in pipeline if t["type"] != "PoseGuidedProposals"]
    return cfg


def _train_row(job: Tuple[str, Path, Path, float, Optional[Path]]) -> Dict[str, Any]:
    """Train one row in a worker process with one thread; returns its timings."""
    import torch
    from mmengine.registry import init_default_scope

    from rtmo_plugin.demo.budget_schedule import budget_schedule_from_config
    from rtmo_plugin.demo.training import train_with_record

    name, data_dir, out_dir, budget_s, parallel_checkpoint = job
    torch.set_num_threads(1)
    init_default_scope("mmpose")
    variant, seed = ROWS[name]
    cfg = row_config(variant, seed, data_dir, out_dir / name, parallel_checkpoint)
    record = train_with_record(cfg, budget_seconds=budget_s, desc=name,
                               extra_hooks=[budget_schedule_from_config(cfg, budget_s)])
    return dict(iterations=record.iters[-1] if record.iters else 0, seconds_per_iter=record.seconds_per_iter,
                train_seconds=record.wall_seconds, loss_iters=record.iters[::10],
                losses={k: v[::10] for k, v in record.losses.items()})


def train_stages(names: List[str], data_dir: Path, out_dir: Path, budget_s: float) -> Dict[str, Any]:
    """Train the rows in ``names`` stage by stage, two runs at a time on one core each."""
    done: Dict[str, Any] = {}
    parallel = out_dir / "no_stn" / "final.pth"
    for stage in STAGES:
        todo = [name for name in stage if name in names]
        if not todo:
            continue
        jobs = [(name, data_dir, out_dir, budget_s, parallel) for name in todo]
        with ProcessPoolExecutor(len(jobs), mp_context=multiprocessing.get_context("spawn")) as pool:
            for name, result in zip(todo, pool.map(_train_row, jobs)):
                done[name] = result
                print(f"[rmpe] {name}: {result}", flush=True)
    return done


@functools.lru_cache(maxsize=1)
def val_images(data_dir: Path) -> Tuple[List[Any], List[str], List[int]]:
    """The val split's BGR images, file names and COCO image ids (read once for all the rows and detectors)."""
    import cv2

    ann = json.loads((data_dir / "annotations" / "val.json").read_text())
    infos = sorted(ann["images"], key=lambda im: im["id"])
    images = [cv2.imread(str(data_dir / "val" / im["file_name"])) for im in infos]
    return images, [im["file_name"] for im in infos], [im["id"] for im in infos]


def keypoint_ap(predictor: Any, data_dir: Path, batch: int = 8) -> Dict[str, float]:
    """COCO keypoint AP of ``predictor`` (an inferencer: images, names -> PosePrediction) on the val split,
    and its mean latency per image (ms)."""
    from rtmo_plugin.evaluation import to_coco_results
    from rtmo_plugin.evaluation.box_keypoint_ap import coco_ap

    images, names, ids = val_images(data_dir)
    results: List[dict] = []
    start = time.perf_counter()
    for i in range(0, len(images), batch):
        preds = predictor(images[i:i + batch], names=names[i:i + batch])
        for pred, image_id in zip(preds, ids[i:i + batch]):
            results += to_coco_results(pred, image_id, decimals=None)
    ms = (time.perf_counter() - start) / len(images) * 1e3
    ap = coco_ap(data_dir / "annotations" / "val.json", results)
    return dict(AP=ap["AP"], AP50=ap["AP50"], AR=ap["AR"], ms_per_image=ms, poses=len(results))


def evaluate(out_dir: Path, data_dir: Path, rtmo_checkpoint: Path, names: List[str]) -> Dict[str, Any]:
    """Score every trained row with RMPE inference (see the module docstring) and the demo's RTMO."""
    from rtmo_plugin.apis import GroundTruthBoxes, RMPEInferencer, RTMOBoxes, RTMOInferencer
    from rtmo_plugin.apis.model_loading import load_model

    ann = data_dir / "annotations" / "val.json"
    detectors = {"gt_jitter_x1": GroundTruthBoxes(ann, jitter=True, seed=0),
                 "gt_jitter_x3": GroundTruthBoxes(ann, jitter=True, seed=0, proposals_per_person=3)}
    table: Dict[str, Any] = {}
    if rtmo_checkpoint.is_file():
        rtmo = RTMOInferencer(config=str(RTMO_CONFIG), checkpoint=str(rtmo_checkpoint), mode="fast")
        table["rtmo"] = keypoint_ap(rtmo, data_dir)
        detectors["rtmo_boxes"] = RTMOBoxes(rtmo)
        print("[rmpe] RTMO:", table["rtmo"], flush=True)
    for name in names:
        checkpoint = out_dir / name / "final.pth"
        if not checkpoint.is_file():
            continue
        variant, seed = ROWS[name]
        model = load_model(row_config(variant, seed, data_dir, out_dir / name, out_dir / "no_stn" / "final.pth"),
                           checkpoint)
        row: Dict[str, Any] = {}
        for detector_name, boxes in detectors.items():
            row[f"{detector_name}/pose_nms"] = keypoint_ap(RMPEInferencer(boxes, model), data_dir)
            if variant == "full" and detector_name != "rtmo_boxes":
                row[f"{detector_name}/box_nms"] = keypoint_ap(
                    RMPEInferencer(boxes, model, pose_nms=None, proposal_nms_thr=DETECTOR_NMS_IOU), data_dir)
        table[name] = row
        print(f"[rmpe] {name}:", {k: round(v["AP"], 4) for k, v in row.items()}, flush=True)
    return table


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget-minutes", type=float, default=10.0, help="wall-clock training budget per row")
    parser.add_argument("--rows", nargs="+", default=list(ROWS), choices=list(ROWS))
    parser.add_argument("--data-dir", type=Path, default=Path("outputs/demo/data"),
                        help="the synthetic splits of make demo (generated there if missing)")
    parser.add_argument("--rtmo-checkpoint", type=Path, default=Path("outputs/demo/work_dir/final.pth"))
    parser.add_argument("--out-dir", type=Path, default=Path("outputs/rmpe_ablation"))
    parser.add_argument("--evaluate-only", action="store_true")
    args = parser.parse_args(argv)

    from mmengine.registry import init_default_scope

    from rtmo_plugin.demo.run_demo import prepare_data

    init_default_scope("mmpose")
    prepare_data(args.data_dir, 800, 100, seed=0)
    summary_file = args.out_dir / "summary.json"
    summary: Dict[str, Any] = json.loads(summary_file.read_text()) if summary_file.is_file() else {}
    if not args.evaluate_only:
        summary["budget_minutes"] = args.budget_minutes
        summary.setdefault("training", {}).update(
            train_stages(args.rows, args.data_dir, args.out_dir, args.budget_minutes * 60))
        summary_file.parent.mkdir(parents=True, exist_ok=True)
        summary_file.write_text(json.dumps(summary, indent=1))
    summary["evaluation"] = evaluate(args.out_dir, args.data_dir, args.rtmo_checkpoint, args.rows)
    summary_file.write_text(json.dumps(summary, indent=1))
    print(f"[rmpe] summary: {summary_file}")


if __name__ == "__main__":
    main()
