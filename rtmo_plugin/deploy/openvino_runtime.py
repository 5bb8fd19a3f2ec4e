"""Run the exported RTMO graph (``.onnx``) or its OpenVINO IR (``.xml`` + ``.bin``) with OpenVINO on the CPU.

Same inputs and outputs as :mod:`rtmo_plugin.deploy.onnx_export`: ``images (B, 3, H, W)`` float32 BGR 0-255 in;
``batch_index (M,)``, ``bboxes (M, 4)``, ``scores (M,)``, ``keypoints (M, K, 2)``, ``keypoint_scores (M, K)`` out.

OpenVINO's CPU plugin picks bf16 by itself on CPUs with AMX or AVX-512 BF16 unless told otherwise, so the
precision is always set explicitly here (``'f32'`` or ``'bf16'``) and :func:`execution_precision` reports what the
compiled model really runs.
"""
from pathlib import Path
from typing import Any, Dict, Optional, Union

import numpy as np

from .onnx_export import OUTPUT_NAMES

#: what to tell a user whose environment lacks the package
INSTALL_HINT = ("the 'openvino' package is not installed; install it with `pip install openvino` "
                "(the verified version is in requirements/tests.txt, `make setup` installs it)")
PRECISIONS = ("f32", "bf16")


def require_openvino() -> Any:
    """Import ``openvino``, or stop with the install hint (a ``RuntimeError``, not an ``ImportError`` traceback).

    Returns:
        module: the ``openvino`` package.
    """
    try:
        import openvino
    except ImportError as exc:
        raise RuntimeError(INSTALL_HINT) from exc
    return openvino


def openvino_compile(path: Union[str, Path], num_threads: Optional[int] = None, precision: str = "f32") -> Any:
    """Read and compile a model for the CPU.

    Args:
        path (str | Path): ``.onnx`` file or OpenVINO IR ``.xml`` (its ``.bin`` beside it).
        num_threads (int | None): inference threads (None = OpenVINO's default: all cores).
        precision (str): ``'f32'`` or ``'bf16'``: the CPU plugin's inference precision hint for float layers
            (an INT8 model keeps its quantised layers in int8 either way).

    Returns:
        openvino.CompiledModel
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"OpenVINO model not found: {path}")
    ov = require_openvino()
    core = ov.Core()
    config: Dict[str, Any] = {"INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": "LATENCY"}
    if num_threads is not None:
        config["INFERENCE_NUM_THREADS"] = int(num_threads)
    return core.compile_model(core.read_model(str(path)), "CPU", config)


def execution_precision(compiled: Any) -> str:
    """The float precision the compiled model runs (``'f32'`` or ``'bf16'``), read back from the plugin."""
    value = compiled.get_property("INFERENCE_PRECISION_HINT")
    name = value.get_type_name() if hasattr(value, "get_type_name") else str(value)
    return {"float32": "f32", "bfloat16": "bf16"}.get(name.lower(), name.lower())


def run_openvino(compiled: Any, images: np.ndarray) -> Dict[str, np.ndarray]:
    """Run a compiled RTMO graph.

    Args:
        compiled: from :func:`openvino_compile`.
        images (np.ndarray): ``(B, 3, H, W)`` float32 BGR 0-255.

    Returns:
        dict[str, np.ndarray]: the five outputs by name (see module docstring).
    """
    result = compiled({"images": np.ascontiguousarray(images, dtype=np.float32)})
    by_name = {port.get_any_name(): value for port, value in result.items()}
    return {name: np.asarray(by_name[name]) for name in OUTPUT_NAMES}
