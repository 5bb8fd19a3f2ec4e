"""Evaluation: COCO metric with RMPE pose NMS / box NMS options, evaluation of result files."""
from .pose_nms_coco_metric import PoseNMSCocoMetric
from .pose_nms_eval import evaluate_coco_results
from .raw_predictions import dump_raw_predictions

__all__ = ["PoseNMSCocoMetric", "dump_raw_predictions", "evaluate_coco_results"]
