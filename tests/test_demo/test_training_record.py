"""ProgressRecorderHook: scores each validation's own predictions (no second inference pass) and records them."""
from types import SimpleNamespace
from typing import Dict, List

import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData
from mmpose.structures import PoseDataSample

from rtmo_plugin.demo.training import ProgressRecorderHook, TrainingRecord
from rtmo_plugin.evaluation import data_samples_to_coco_results as coco_results


def _sample(img_id: int, num_instances: int, offset: float) -> PoseDataSample:
    """A test_step-like output: ``num_instances`` poses of 17 keypoints, xyxy boxes, box scores."""
    pred = InstanceData()
    pred.keypoints = np.full((num_instances, 17, 2), 10.0 + offset)
    pred.keypoint_scores = np.full((num_instances, 17), 0.9)
    pred.bboxes = np.tile(np.array([[0.0, 0.0, 20.0, 40.0]]) + offset, (num_instances, 1))
    pred.bbox_scores = np.linspace(0.9, 0.5, num_instances)
    sample = PoseDataSample(metainfo=dict(img_id=img_id))
    sample.pred_instances = pred
    return sample


def test_coco_results_drop_non_finite_poses_and_convert_boxes_to_xywh() -> None:
    sample = _sample(7, 2, 0.0)
    sample.pred_instances.keypoints[1, 3, 0] = np.nan
    results = coco_results([sample, _sample(8, 0, 0.0)])
    assert len(results) == 1
    assert results[0]["image_id"] == 7 and results[0]["bbox"] == [0.0, 0.0, 20.0, 40.0]
    assert results[0]["keypoints"][:3] == pytest.approx([10.0, 10.0, 0.9])
    assert results[0]["score"] == pytest.approx(0.9)


def test_hook_scores_all_iterations_of_one_validation_then_starts_afresh() -> None:
    seen: List[List[dict]] = []

    def score_fn(results: List[dict]) -> Dict[str, float]:
        seen.append(results)
        return {"kpt AP": float(len(results)) / 10}

    record = TrainingRecord()
    hook = ProgressRecorderHook(record, show=False, score_fn=score_fn)
    runner = SimpleNamespace(iter=100)
    for validation, offsets in enumerate(([0.0, 1.0], [2.0])):
        hook.before_val_epoch(runner)
        outputs = [[_sample(i, 3, off)] for i, off in enumerate(offsets)]
        for batch_idx, out in enumerate(outputs):
            hook.after_val_iter(runner, batch_idx, data_batch=None, outputs=out)
        hook.after_val_epoch(runner, metrics={"coco/AP": 0.5})
        assert seen[validation] == coco_results([s for out in outputs for s in out])
        runner.iter += 100
    assert [len(r) for r in seen] == [6, 3]
    assert record.val_iters == [100, 200]
    assert record.val_metrics == {"coco/AP": [0.5, 0.5], "kpt AP": [0.6, 0.3]}


def test_hook_without_score_fn_records_the_evaluator_metrics_only() -> None:
    record = TrainingRecord()
    hook = ProgressRecorderHook(record, show=False)
    runner = SimpleNamespace(iter=4)
    hook.before_val_epoch(runner)
    hook.after_val_iter(runner, 0, data_batch=None, outputs=[_sample(0, 2, 0.0)])
    hook.after_val_epoch(runner, metrics={"coco/AP": torch.tensor(0.25).item()})
    assert record.val_metrics == {"coco/AP": [0.25]} and record.val_iters == [4]
