"""RMPE components: parametric pose NMS, symmetric spatial transformer network (SSTN)."""
from .pose_nms import COCO_PARAMS, MPII_PARAMS, ParametricPoseNMS, PoseNMSResult

__all__ = ["COCO_PARAMS", "MPII_PARAMS", "ParametricPoseNMS", "PoseNMSResult"]
