"""Evaluation: COCO results, box and keypoint AP, the COCO metric with RMPE pose NMS, result-file evaluation."""
from .box_keypoint_ap import (
                              BoxAndKeypointScore,
                              box_and_keypoint_ap,
                              coco_ap,
                              evaluate_box_and_keypoints,
                              predict_dataloader,
)
from .coco_results import data_samples_to_coco_results, to_coco_results, write_json
from .pose_nms_coco_metric import PoseNMSCocoMetric
from .pose_nms_eval import evaluate_coco_results
from .raw_predictions import dump_raw_predictions

__all__ = [
    "BoxAndKeypointScore", "box_and_keypoint_ap", "coco_ap", "evaluate_box_and_keypoints", "predict_dataloader",
    "data_samples_to_coco_results", "to_coco_results", "write_json", "PoseNMSCocoMetric", "evaluate_coco_results",
    "dump_raw_predictions",
]
