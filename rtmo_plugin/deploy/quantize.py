"""Post-training INT8 quantisation of the exported RTMO graph with NNCF for OpenVINO, with mixed precision.

Why NNCF + OpenVINO rather than onnxruntime's static quantisation: OpenVINO's CPU plugin runs INT8 convolutions
with VNNI / AMX-INT8 kernels and fuses the quantise/dequantise pairs into them, NNCF places the quantisers by the
hardware's fusion patterns (no requantisation between a conv and its activation), and its ignored scopes keep named
parts of the graph in float: the mixed precision RTMO needs.

The graph is split into named parts (:data:`PARTS`), regular expressions over the OpenVINO node names of the graph
that :func:`~rtmo_plugin.deploy.export_onnx` writes. :data:`DEFAULT_KEEP_FLOAT` lists the parts kept in float by
default; ``experiments/int8_ablation.py`` measures which parts break INT8 and is where that default comes from.

Calibration images are read from folders, letterboxed exactly like inference (:func:`~rtmo_plugin.apis.letterbox`),
and fed as ``(1, 3, H, W)`` float32 BGR 0-255 batches.
"""
import re
from pathlib import Path
from typing import Any, Dict, Iterable, List, Sequence, Tuple, Union

import numpy as np

from .openvino_runtime import require_openvino

#: graph parts that can be kept in float, as regexes over OpenVINO node names of the exported graph
PARTS: Dict[str, Tuple[str, ...]] = {
    # the class-logit 1x1 convs of both levels: instance score = sigmoid(logit)
    "score": (r"^/dense_head/cls_outs\.\d+/.*",),
    # the 3x3 convs of the class branch that feed the class-logit convs
    "score_branch": (r"^/dense_head/cls_convs\.\d+/.*",),
    # the 3x3 convs of the pose branch
    "pose_branch": (r"^/dense_head/pose_convs\.\d+/.*",),
    # the stacked 1x1 output convs of the pose branch: box offsets, keypoint visibility logits, pose vectors
    "pose_outputs": (r"^/dense_head/pose_outs\.\d+/.*",),
    # the DCC's input projection (pose vector -> K keypoint features)
    "dcc_input": (r"^/dcc/pose_to_kpts/.*",),
    # the DCC's gated attention unit over the K keypoint tokens (uv, q.k^T, kernel.v, o)
    "dcc_gau": (r"^/dcc/(uv|o|gau_act)/.*", r"^/dcc/MatMul(_1)?$"),
    # the DCC's bin classifier: bin positions, sine encodings, logits, softmax over bins (Exp, its sum + eps, Div),
    # expected coordinate: every DCC node outside the GAU and the input projection, element-wise ones included
    "dcc_bins": (r"^/dcc/(?!uv/|o/|gau_act/|pose_to_kpts/|MatMul(_1)?$).*",),
    # the dense decode: sigmoid scores, box offsets x stride + prior, exp(log-size) x stride
    "decode": (r"^/dense_head/(?!cls_|pose_)[^/]*$",),
    # the whole neck (HybridEncoder: encoder layer, FPN and PAN convs)
    "neck": (r"^/neck/.*",),
    # the neck's transformer encoder layer (self-attention + FFN on the stride-32 level)
    "encoder": (r"^/neck/encoder\..*",),
    # the backbone's stem (the first convolutions, on the 0-255 image)
    "stem": (r"^/backbone/stem/.*",),
    # the whole backbone (CSPDarknet)
    "backbone": (r"^/backbone/.*",),
}
#: parts kept in float unless told otherwise (measured: docs/deploy_cpu.md, experiments/int8_ablation.py)
DEFAULT_KEEP_FLOAT: Tuple[str, ...] = ("score", "pose_outputs", "decode", "dcc_input", "dcc_gau", "dcc_bins")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


class QuantizationError(RuntimeError):
    """Raised with a message naming the input (model, folder or image) and what is wrong with it."""


def keep_float_patterns(parts: Sequence[str]) -> List[str]:
    """The node-name regexes of the named ``parts``.

    Args:
        parts (Sequence[str]): keys of :data:`PARTS`.

    Returns:
        list[str]: regexes for ``nncf.IgnoredScope(patterns=...)``.
    """
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise ValueError(f"unknown graph parts {unknown}; choose from {sorted(PARTS)}")
    return [pattern for part in parts for pattern in PARTS[part]]


def matching_nodes(model: Any, parts: Sequence[str],
                   op_types: Sequence[str] = ("Convolution", "GroupConvolution", "MatMul")) -> Dict[str, List[str]]:
    """Names of the ``op_types`` nodes of an ``openvino.Model`` each part matches (to check the patterns).

    Args:
        model: ``openvino.Model`` read from the exported graph.
        parts (Sequence[str]): keys of :data:`PARTS`.
        op_types (Sequence[str]): OpenVINO op types to list.

    Returns:
        dict[str, list[str]]: part -> matched node names.
    """
    names = [op.get_friendly_name() for op in model.get_ordered_ops() if not op_types or op.get_type_name() in op_types]
    return {part: [n for n in names if any(re.match(p, n) for p in PARTS[part])] for part in parts}


def list_images(folders: Sequence[Union[str, Path]]) -> List[Path]:
    """All image files directly in ``folders``, sorted per folder.

    Raises:
        QuantizationError: a folder that does not exist or holds no image.
    """
    files: List[Path] = []
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            raise QuantizationError(f"calibration folder {folder}: not a folder")
        found = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not found:
            raise QuantizationError(f"calibration folder {folder}: no images in it "
                                    f"(looked for {', '.join(IMAGE_SUFFIXES)})")
        files.extend(found)
    return files


def load_calibration_batch(path: Path, input_size: Tuple[int, int]) -> np.ndarray:
    """Read one image and letterbox it like inference does.

    Args:
        path (Path): image file.
        input_size (tuple[int, int]): model input ``(W, H)``.

    Returns:
        np.ndarray: ``(1, 3, H, W)`` float32 BGR 0-255.

    Raises:
        QuantizationError: the file cannot be decoded as an image.
    """
    import cv2

    from ..apis.image_inputs import letterbox

    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise QuantizationError(f"calibration image {path}: unreadable (not an image OpenCV can decode)")
    canvas, _ = letterbox(image, input_size)
    return np.ascontiguousarray(canvas.transpose(2, 0, 1)[None], dtype=np.float32)


def read_rtmo_graph(path: Union[str, Path]) -> Tuple[Any, Tuple[int, int]]:
    """Read an exported RTMO graph and its input size.

    Args:
        path (str | Path): ``.onnx`` (from :func:`~rtmo_plugin.deploy.export_onnx`) or OpenVINO IR ``.xml``.

    Returns:
        tuple: ``openvino.Model`` and the input ``(W, H)``.

    Raises:
        QuantizationError: missing file, unreadable graph, or not an RTMO export (input ``images (B, 3, H, W)``
            with static H, W; outputs batch_index, bboxes, scores, keypoints, keypoint_scores).
    """
    from .onnx_export import OUTPUT_NAMES

    path = Path(path)
    if not path.is_file():
        raise QuantizationError(f"model {path}: file not found (export one with tools/export_onnx.py)")
    ov = require_openvino()
    try:
        model = ov.Core().read_model(str(path))
    except Exception as exc:  # OpenVINO raises a generic RuntimeError for any parse failure
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise QuantizationError(f"model {path}: OpenVINO cannot read it ({first_line})") from exc
    inputs = {port.get_any_name(): port for port in model.inputs}
    outputs = {name for port in model.outputs for name in port.get_names()}
    missing = [n for n in OUTPUT_NAMES if n not in outputs]
    if "images" not in inputs or missing:
        raise QuantizationError(f"model {path}: not an RTMO export (needs input 'images' and outputs "
                                f"{list(OUTPUT_NAMES)}; has inputs {sorted(inputs)}, outputs {sorted(outputs)})")
    shape = inputs["images"].get_partial_shape()
    if shape.rank.is_dynamic or len(shape) != 4 or shape[2].is_dynamic or shape[3].is_dynamic:
        raise QuantizationError(f"model {path}: input 'images' must be (B, 3, H, W) with a fixed H, W, got {shape}")
    return model, (int(shape[3].get_length()), int(shape[2].get_length()))


def quantize_rtmo(model_path: Union[str, Path], image_files: Sequence[Union[str, Path]], out_path: Union[str, Path],
                  keep_float: Iterable[str] = DEFAULT_KEEP_FLOAT, subset_size: int = 300,
                  preset: str = "mixed", fast_bias_correction: bool = True, progress: bool = True) -> Path:
    """Quantise an exported RTMO graph to INT8 (post-training, static) and save it as OpenVINO IR.

    Args:
        model_path (str | Path): exported float graph (``.onnx`` or ``.xml``).
        image_files (Sequence[str | Path]): calibration images (any size; letterboxed to the model input).
        out_path (str | Path): output IR ``.xml`` (the ``.bin`` is written beside it).
        keep_float (Iterable[str]): :data:`PARTS` kept in float (NNCF ignored scope).
        subset_size (int): calibration images used (at most ``len(image_files)``).
        preset (str): ``'mixed'`` (symmetric weights, asymmetric activations) or ``'performance'`` (symmetric).
        fast_bias_correction (bool): NNCF's fast bias correction (else the slower full one).
        progress (bool): progress bar while reading the images (NNCF shows its own for the statistics).

    Returns:
        Path: the written ``.xml``.

    Raises:
        QuantizationError: bad model or calibration images, or NNCF failing on the graph (message names the input).
    """
    require_openvino()
    try:
        import nncf
    except ImportError as exc:
        raise QuantizationError("the 'nncf' package is not installed; install it with `pip install nncf` "
                                "(the verified version is in requirements/tests.txt)") from exc
    if not image_files:
        raise QuantizationError("no calibration images given")
    if preset not in ("mixed", "performance"):
        raise ValueError(f"preset must be 'mixed' or 'performance', got {preset!r}")
    model, input_size = read_rtmo_graph(model_path)
    files = [Path(f) for f in image_files][:max(1, int(subset_size))]
    # read them all first: a bad file stops the run before NNCF starts, with its name
    batches = [load_calibration_batch(f, input_size) for f in optional_progress(files, "calibration images", progress)]
    patterns = keep_float_patterns(list(keep_float))
    ignored = nncf.IgnoredScope(patterns=patterns, validate=False) if patterns else None
    try:
        quantized = nncf.quantize(
            model, nncf.Dataset(batches), subset_size=len(batches), fast_bias_correction=fast_bias_correction,
            preset=nncf.QuantizationPreset.MIXED if preset == "mixed" else nncf.QuantizationPreset.PERFORMANCE,
            target_device=nncf.TargetDevice.CPU, ignored_scope=ignored)
    except Exception as exc:  # NNCF's errors are of many types; keep the cause chained
        raise QuantizationError(
            f"model {model_path}: NNCF could not quantise it ({type(exc).__name__}: {exc})") from exc
    ov = require_openvino()
    out_path = Path(out_path).with_suffix(".xml")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    ov.save_model(quantized, str(out_path), compress_to_fp16=False)
    return out_path


def count_quantized(model_path: Union[str, Path]) -> Dict[str, int]:
    """Count FakeQuantize nodes and the Convolution / MatMul nodes of a saved model (what NNCF quantised).

    Returns:
        dict[str, int]: ``fake_quantize``, ``convolution``, ``matmul``.
    """
    ov = require_openvino()
    ops = [op.get_type_name() for op in ov.Core().read_model(str(model_path)).get_ordered_ops()]
    return dict(fake_quantize=ops.count("FakeQuantize"), convolution=ops.count("Convolution")
                + ops.count("GroupConvolution"), matmul=ops.count("MatMul"))


def optional_progress(items: Sequence[Any], desc: str, enabled: bool = True) -> Iterable[Any]:
    """``items`` wrapped in a tqdm bar when ``enabled``."""
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="img")


__all__ = ["PARTS", "DEFAULT_KEEP_FLOAT", "QuantizationError", "keep_float_patterns", "matching_nodes",
           "list_images", "load_calibration_batch", "read_rtmo_graph", "quantize_rtmo", "count_quantized",
           "optional_progress"]
