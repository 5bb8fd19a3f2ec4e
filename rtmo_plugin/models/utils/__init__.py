"""Pure helpers used by the RTMO head (box/keypoint decoding, NMS)."""
from .box_ops import (
                      bbox_xyxy_to_cs,
                      decode_bboxes,
                      decode_keypoints,
                      encode_bboxes,
                      filter_by_score,
                      greedy_nms,
                      pairwise_iou,
)

__all__ = ["bbox_xyxy_to_cs", "decode_bboxes", "decode_keypoints", "encode_bboxes", "filter_by_score",
           "greedy_nms", "pairwise_iou"]
