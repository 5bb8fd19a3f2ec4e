"""Images per second of the plugin's stage-1 training pipeline vs. MMPose's, measured side by side."""
import random
import time
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np

from rtmo_plugin.testing.pipelines import config_pipeline


def _coco_mini(root: Path, pipeline: List[dict]):
    from mmpose.datasets import CocoDataset

    return CocoDataset(data_root=str(root), ann_file="test_coco.json", data_prefix=dict(img=""),
                       data_mode="bottomup", pipeline=pipeline)


def _one_round(dataset, num_samples: int, seed: int) -> Tuple[float, float]:
    """(wall seconds, CPU seconds of this process) to produce ``num_samples`` training samples (loading included)
    from a fixed seed."""
    np.random.seed(seed)
    random.seed(seed)
    start, start_cpu = time.perf_counter(), time.process_time()
    for i in range(num_samples):
        dataset[i % len(dataset)]
    return time.perf_counter() - start, time.process_time() - start_cpu


def benchmark_pipelines(coco_mini_root: Path, rounds: int = 6, samples_per_round: int = 40, seed: int = 0,
                        warmup: int = 4) -> Dict[str, float]:
    """Run both stage-1 pipelines (same args as MMPose's rtmo-s COCO config) on coco_mini, alternating.

    Every round re-seeds numpy and ``random`` identically for both pipelines and alternates which one goes first,
    so both see the same images, the same draws and the same machine load pattern.

    Args:
        coco_mini_root (Path): folder with ``test_coco.json`` and its images.
        rounds (int): measured rounds per pipeline.
        samples_per_round (int): samples per round.
        seed (int): base seed; round ``r`` uses ``seed + r``.
        warmup (int): samples of each pipeline run before timing (file cache, lazy imports).

    Returns:
        dict: ``ours_ips``, ``reference_ips`` (images per wall-clock second over all rounds), ``ratio``
        (ours / reference), the per-round spread ``ratio_min`` / ``ratio_max``, and the same per CPU second of
        this process (``ours_cpu_ips``, ``reference_cpu_ips``, ``cpu_ratio``; less sensitive to other load).
    """
    import cv2

    cv2.setNumThreads(0)  # what mmengine's dataloader workers do
    ours = _coco_mini(coco_mini_root, config_pipeline("train_pipeline_stage1"))
    reference = _coco_mini(coco_mini_root, config_pipeline("train_pipeline_stage1", reference=True))
    _one_round(ours, warmup, seed)
    _one_round(reference, warmup, seed)
    wall = {"ours": 0.0, "reference": 0.0}
    cpu = {"ours": 0.0, "reference": 0.0}
    ratios = []
    for r in range(rounds):
        order = [("ours", ours), ("reference", reference)]
        if r % 2:
            order.reverse()
        times = {name: _one_round(ds, samples_per_round, seed + r) for name, ds in order}
        for name, (t_wall, t_cpu) in times.items():
            wall[name] += t_wall
            cpu[name] += t_cpu
        ratios.append(times["reference"][0] / times["ours"][0])
    n = rounds * samples_per_round
    return dict(ours_ips=n / wall["ours"], reference_ips=n / wall["reference"],
                ratio=wall["reference"] / wall["ours"], ratio_min=min(ratios), ratio_max=max(ratios),
                ours_cpu_ips=n / cpu["ours"], reference_cpu_ips=n / cpu["reference"],
                cpu_ratio=cpu["reference"] / cpu["ours"], images=float(n))
