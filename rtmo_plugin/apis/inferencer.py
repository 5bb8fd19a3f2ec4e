"""Batched RTMO inference on numpy images: one call, a list of BGR images in, per-image poses out.

Example::

    from rtmo_plugin.apis import RTMOInferencer
    inferencer = RTMOInferencer(config='configs/rtmo-s_8xb32-600e_coco.py', checkpoint='rtmo-s.pth',
                                device='cpu', mode='fast', batch_size=8)
    predictions = inferencer([cv2.imread('a.jpg'), cv2.imread('b.jpg')])
    predictions[0].keypoints        # (N, 17, 2) float32, image pixels
    predictions[0].keypoint_scores  # (N, 17)
    predictions[0].bboxes           # (N, 4) xyxy
    predictions[0].bbox_scores      # (N,)

Modes: ``'eval'`` runs the estimator's own ``test_step`` (reference semantics), ``'fast'`` the BN-folded batched
:class:`~rtmo_plugin.deploy.FastRTMO`, ``'onnx'`` the exported graph in onnxruntime (given ``onnx_path`` or
exported on the fly), ``'openvino'`` the same graph in OpenVINO at float32, ``'int8'`` a post-training-quantised
graph (``int8_path``, made by ``tools/quantize.py``) in OpenVINO, ``'bf16'`` the float graph in OpenVINO with its
layers in bfloat16 (CPUs with AMX or AVX-512 BF16). All modes share the letterbox and the mapping back to image
pixels. See docs/deploy_cpu.md for which mode to use where.
"""
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Union

import numpy as np
import torch
from torch import nn

from ..deploy import convert_to_fast, export_onnx, onnx_session, run_onnx
from ..deploy.openvino_runtime import openvino_compile, run_openvino
from .image_inputs import LetterboxInfo, letterbox, to_bgr_uint8
from .model_loading import load_model, resolve_device

MODES = ("eval", "fast", "onnx", "openvino", "bf16", "int8")
#: modes that run an exported graph on the CPU (the torch model is only needed to export it)
GRAPH_MODES = ("onnx", "openvino", "bf16", "int8")
INT8_HINT = ("mode='int8' needs a quantised model: export the float graph with `python tools/export_onnx.py CONFIG "
             "--checkpoint CKPT --out model.onnx`, quantise it with `python tools/quantize.py model.onnx --images "
             "FOLDER --out model_int8.xml`, then pass int8_path='model_int8.xml' (demo CLI: --int8-model)")


@dataclass
class PosePrediction:
    """Poses found in one image (image pixels, highest score first).

    Attributes:
        keypoints (np.ndarray): ``(N, K, 2)`` float32 x, y.
        keypoint_scores (np.ndarray): ``(N, K)`` visibility scores in [0, 1].
        bboxes (np.ndarray): ``(N, 4)`` xyxy person boxes.
        bbox_scores (np.ndarray): ``(N,)`` person scores (RTMO's instance score).
    """

    keypoints: np.ndarray
    keypoint_scores: np.ndarray
    bboxes: np.ndarray
    bbox_scores: np.ndarray

    def __len__(self) -> int:
        return int(self.bbox_scores.shape[0])

    @classmethod
    def empty(cls, num_keypoints: int) -> "PosePrediction":
        return cls(np.zeros((0, num_keypoints, 2), np.float32), np.zeros((0, num_keypoints), np.float32),
                   np.zeros((0, 4), np.float32), np.zeros((0,), np.float32))


def image_labels(count: int, names: Optional[Sequence[str]] = None) -> List[str]:
    """How messages refer to ``count`` images: their ``names``, else ``images[i]``; a wrong length is an error."""
    if names is None:
        return [f"images[{i}]" for i in range(count)]
    if len(names) != count:
        raise ValueError(f"got {count} images but {len(names)} names")
    return [str(name) for name in names]


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class RTMOInferencer:
    """Batched pose inference with an RTMO model.

    Args:
        model (nn.Module | None): a built ``BottomupPoseEstimator`` (eval mode); or give ``config``.
        config (str | Path | None): config file, used when ``model`` is None.
        checkpoint (str | Path | None): weights for ``config`` (ours or official RTMO).
        device (str): 'cpu' or 'cuda[:N]' ('onnx', 'openvino', 'bf16' and 'int8' always run on the CPU).
        mode (str): 'eval', 'fast', 'onnx', 'openvino', 'bf16' or 'int8'.
        batch_size (int): images per forward pass.
        score_thr (float | None): instance score threshold (default: the model's test_cfg, RTMO 0.1).
        nms_thr (float | None): NMS IoU threshold (default: test_cfg, RTMO 0.65).
        onnx_path (str | Path | None): exported model for 'onnx' and 'openvino' modes (for 'openvino' also an
            OpenVINO IR ``.xml``); exported to a temp file when None.
        num_threads (int | None): onnxruntime / OpenVINO inference threads.
        int8_path (str | Path | None): the quantised model for 'int8' mode (IR ``.xml`` from ``tools/quantize.py``).
    """

    def __init__(self, model: Optional[nn.Module] = None, *, config: Optional[Union[str, Path]] = None,
                 checkpoint: Optional[Union[str, Path]] = None, device: str = "cpu", mode: str = "fast",
                 batch_size: int = 8, score_thr: Optional[float] = None, nms_thr: Optional[float] = None,
                 onnx_path: Optional[Union[str, Path]] = None, num_threads: Optional[int] = None,
                 int8_path: Optional[Union[str, Path]] = None) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if mode == "int8" and int8_path is None:
            raise ValueError(INT8_HINT)
        if mode == "int8" and not Path(int8_path).is_file():
            raise FileNotFoundError(f"quantised model {int8_path} not found; {INT8_HINT}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if model is None:
            if config is None:
                raise ValueError("RTMOInferencer needs a model or a config")
            model = load_model(config, checkpoint, device="cpu" if mode in GRAPH_MODES else device)
        self.model = model.eval()
        self.mode = mode
        self.batch_size = int(batch_size)
        self.device = resolve_device("cpu" if mode in GRAPH_MODES else device)
        self.model.to(self.device)
        cfg = dict(getattr(model, "test_cfg", None) or {})
        if score_thr is not None:
            cfg["score_thr"] = float(score_thr)
        if nms_thr is not None:
            cfg["nms_thr"] = float(nms_thr)
        if "input_size" not in cfg:
            raise ValueError("the model's test_cfg has no 'input_size'; cannot letterbox")
        self.test_cfg = cfg
        self.input_size = (int(cfg["input_size"][0]), int(cfg["input_size"][1]))
        self.num_keypoints = int(model.head.num_keypoints)
        self.fast = None
        self.session = None
        self.compiled = None
        self._tmpdir = None
        if mode == "fast":
            self.fast = convert_to_fast(model, self.input_size, cfg.get("score_thr"), cfg.get("nms_thr"))
        if mode in ("onnx", "openvino", "bf16") and onnx_path is None:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="rtmo_onnx_")
            exportable = convert_to_fast(model.cpu(), self.input_size, cfg.get("score_thr"), cfg.get("nms_thr"),
                                         kernels="torch")
            onnx_path = export_onnx(exportable, Path(self._tmpdir.name) / "rtmo.onnx")
        if mode == "onnx":
            self.session = onnx_session(onnx_path, num_threads)
        elif mode in ("openvino", "bf16", "int8"):
            # precision explicit: on AMX / AVX-512 BF16 CPUs OpenVINO would otherwise pick bf16 for f32 by itself
            self.compiled = openvino_compile(int8_path if mode == "int8" else onnx_path, num_threads,
                                             "bf16" if mode == "bf16" else "f32")

    @property
    def dataset_meta(self) -> dict:
        """Keypoint names/skeleton of the model (empty when the checkpoint had none)."""
        return dict(getattr(self.model, "dataset_meta", None) or {})

    def __call__(self, images: Sequence[np.ndarray], names: Optional[Sequence[str]] = None
                 ) -> List[PosePrediction]:
        """Predict poses for a list of images.

        Args:
            images (Sequence[np.ndarray]): BGR images (see :mod:`rtmo_plugin.apis.image_inputs` for what is
                accepted: grayscale, BGRA, uint16 and float are converted).
            names (Sequence[str], optional): how error messages refer to the images (e.g. file names);
                default ``images[i]``.

        Returns:
            list[PosePrediction]: one per image, in order.
        """
        if isinstance(images, np.ndarray):
            raise TypeError("pass a list of images, e.g. [img] (got a single numpy array)")
        labels = image_labels(len(images), names)
        results: List[PosePrediction] = []
        for offset, chunk in zip(range(0, len(images), self.batch_size), _chunks(list(images), self.batch_size)):
            prepared = [letterbox(to_bgr_uint8(img, labels[offset + i]), self.input_size)
                        for i, img in enumerate(chunk)]
            canvases = np.stack([c for c, _ in prepared])  # (B, H, W, 3) uint8
            infos = [info for _, info in prepared]
            if self.mode == "eval":
                results.extend(self._run_eval(canvases, infos))
            else:
                results.extend(self._run_flat(canvases, infos))
        return results

    @torch.no_grad()
    def _run_eval(self, canvases: np.ndarray, infos: List[LetterboxInfo]) -> List[PosePrediction]:
        from mmpose.structures import PoseDataSample

        samples = []
        for info in infos:
            sample = PoseDataSample()
            sample.set_metainfo(info.meta())
            samples.append(sample)
        inputs = [torch.from_numpy(c).permute(2, 0, 1).contiguous() for c in canvases]
        saved = getattr(self.model, "test_cfg", None)
        self.model.test_cfg = self.test_cfg
        try:
            outputs = self.model.test_step(dict(inputs=inputs, data_samples=samples))
        finally:
            self.model.test_cfg = saved
        preds = []
        for out in outputs:
            inst = out.pred_instances
            if len(inst) == 0:
                preds.append(PosePrediction.empty(self.num_keypoints))
                continue
            preds.append(PosePrediction(np.asarray(inst.keypoints, np.float32),
                                        np.asarray(inst.keypoint_scores, np.float32),
                                        np.asarray(inst.bboxes, np.float32).reshape(-1, 4),
                                        np.asarray(inst.bbox_scores, np.float32)))
        return preds

    @torch.no_grad()
    def _run_flat(self, canvases: np.ndarray, infos: List[LetterboxInfo]) -> List[PosePrediction]:
        batch = np.ascontiguousarray(canvases.transpose(0, 3, 1, 2), dtype=np.float32)
        if self.mode == "fast":
            out = self.fast(torch.from_numpy(batch).to(self.device))
            flat = [t.cpu().numpy() for t in out]
        else:
            got = run_onnx(self.session, batch) if self.mode == "onnx" else run_openvino(self.compiled, batch)
            flat = [got[k] for k in ("batch_index", "bboxes", "scores", "keypoints", "keypoint_scores")]
        batch_index, bboxes, scores, keypoints, kpt_scores = flat
        preds = []
        for i, info in enumerate(infos):
            sel = batch_index == i
            if not np.any(sel):
                preds.append(PosePrediction.empty(self.num_keypoints))
                continue
            boxes_img = info.to_image(bboxes[sel].reshape(-1, 2, 2)).reshape(-1, 4)
            preds.append(PosePrediction(info.to_image(keypoints[sel]), kpt_scores[sel].astype(np.float32),
                                        boxes_img, scores[sel].astype(np.float32)))
        return preds
