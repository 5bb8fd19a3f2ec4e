"""Deployment: fast inference mode (BN folded, batched decoding) and end-to-end ONNX export."""
from .fast_model import DEFAULT_NMS_THR, DEFAULT_SCORE_THR, FastRTMO, RTMOOutputs, convert_to_fast
from .fuse import fuse_conv_bn, fuse_linear_bn, merge_parallel_convs
from .fused_tree import count_batchnorms, fuse_module_tree
from .nms import batched_nms
from .onnx_export import compare_with_torch, export_onnx, onnx_session, run_onnx
from .synthetic_weights import make_detecting

__all__ = [
    "DEFAULT_NMS_THR", "DEFAULT_SCORE_THR", "FastRTMO", "RTMOOutputs", "convert_to_fast", "fuse_conv_bn",
    "fuse_linear_bn", "merge_parallel_convs", "count_batchnorms", "fuse_module_tree", "batched_nms",
    "compare_with_torch", "export_onnx", "onnx_session", "run_onnx", "make_detecting",
]
