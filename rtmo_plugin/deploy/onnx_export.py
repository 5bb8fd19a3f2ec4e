"""End-to-end ONNX export of :class:`FastRTMO`: image tensor in, decoded poses out.

Graph inputs/outputs (B dynamic, M = kept instances over the batch, dynamic):

* ``images``: ``(B, 3, H, W)`` float32, BGR 0-255, letterboxed to the export input size;
* ``batch_index (M,)`` int64, ``bboxes (M, 4)`` xyxy, ``scores (M,)``, ``keypoints (M, K, 2)``,
  ``keypoint_scores (M, K)`` - in model-input pixels, sorted by image then descending score.

The score threshold and greedy NMS are inside the graph (one ``NonMaxSuppression`` node), as is the DCC.
Exported with the TorchScript-based exporter (``dynamo=False`` where torch has the switch), which
honours the NMS ``symbolic``.
"""
import warnings
from pathlib import Path
from typing import Dict, Optional, Union

import numpy as np
import torch

from ..utils.compat import onnx_export_kwargs
from .fast_model import FastRTMO

OUTPUT_NAMES = ("batch_index", "bboxes", "scores", "keypoints", "keypoint_scores")
MIN_OPSET = 17


def export_onnx(model: FastRTMO, path: Union[str, Path], opset: int = MIN_OPSET, batch_size: int = 1) -> Path:
    """Export ``model`` to ``path`` with a dynamic batch dimension.

    Args:
        model (FastRTMO): the fast model (see :func:`~rtmo_plugin.deploy.convert_to_fast`), on CPU.
        path (str | Path): output ``.onnx`` file (parent folders are created).
        opset (int): ONNX opset, at least 17.
        batch_size (int): batch of the dummy input used for tracing (the exported batch stays dynamic).

    Returns:
        Path: the written file.
    """
    if opset < MIN_OPSET:
        raise ValueError(f"opset must be >= {MIN_OPSET}, got {opset}")
    if not isinstance(model, FastRTMO):
        raise TypeError(f"export_onnx expects a FastRTMO (use convert_to_fast first), got {type(model).__name__}")
    if getattr(model, "kernels", "torch") != "torch":
        raise ValueError(
            "export_onnx needs a fast model with standard kernels: convert_to_fast(model, kernels='torch')")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = model.input_size
    model = model.cpu().eval()
    dummy = torch.rand(batch_size, 3, height, width, generator=torch.Generator().manual_seed(0)) * 255
    dynamic_axes = {"images": {0: "batch"}}
    dynamic_axes.update({name: {0: "num_instances"} for name in OUTPUT_NAMES})
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about Python-level shape checks on constant sizes
        torch.onnx.export(model, (dummy,), str(path), input_names=["images"], output_names=list(OUTPUT_NAMES),
                          dynamic_axes=dynamic_axes, opset_version=opset, do_constant_folding=True,
                          **onnx_export_kwargs())
    return path


def onnx_session(path: Union[str, Path], num_threads: Optional[int] = None):
    """An onnxruntime CPU ``InferenceSession`` for an exported model.

    Args:
        path (str | Path): the ``.onnx`` file.
        num_threads (int | None): intra-op threads (None = onnxruntime's default).

    Returns:
        onnxruntime.InferenceSession
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if num_threads is not None:
        options.intra_op_num_threads = int(num_threads)
        options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def run_onnx(session, images: np.ndarray) -> Dict[str, np.ndarray]:
    """Run an exported model.

    Args:
        session: from :func:`onnx_session`.
        images (np.ndarray): ``(B, 3, H, W)`` float32.

    Returns:
        dict[str, np.ndarray]: the five outputs by name.
    """
    outputs = session.run(list(OUTPUT_NAMES), {"images": np.ascontiguousarray(images, dtype=np.float32)})
    return dict(zip(OUTPUT_NAMES, outputs))


def compare_with_torch(model: FastRTMO, session, images: torch.Tensor) -> Dict[str, float]:
    """Max absolute difference of every output between PyTorch fast mode and onnxruntime.

    Args:
        model (FastRTMO): the exported model.
        session: onnxruntime session of its export.
        images (torch.Tensor): ``(B, 3, H, W)`` test batch.

    Returns:
        dict[str, float]: ``{output name: max |torch - onnx|}`` plus ``num_instances_torch`` / ``_onnx``.
        Raises ``AssertionError`` if the instance counts or batch indices differ.
    """
    with torch.no_grad():
        ref = model(images)
    got = run_onnx(session, images.numpy())
    report: Dict[str, float] = {"num_instances_torch": float(ref.scores.shape[0]),
                                "num_instances_onnx": float(got["scores"].shape[0])}
    if ref.scores.shape[0] != got["scores"].shape[0]:
        raise AssertionError(f"onnxruntime kept {got['scores'].shape[0]} instances, PyTorch {ref.scores.shape[0]}")
    for name, value in zip(OUTPUT_NAMES, ref):
        diff = np.abs(value.numpy().astype(np.float64) - got[name].astype(np.float64))
        report[name] = float(diff.max()) if diff.size else 0.0
    if report["batch_index"] != 0:
        raise AssertionError("onnxruntime and PyTorch assign instances to different images")
    return report
