"""Fast inference mode of an RTMO ``BottomupPoseEstimator`` (and the module that is exported to ONNX).

:func:`convert_to_fast` is the explicit state change: it reads a trained eval-mode estimator and returns a new
:class:`FastRTMO` (BN folded into every conv and into the DCC linear layer, RepVGG branches merged, priors and bin
grids precomputed for one input size, decoding and NMS batched over images and instances). The source model is
left untouched. ``FastRTMO.forward`` is also the graph :mod:`rtmo_plugin.deploy.onnx_export` traces, so the
PyTorch fast mode and the ONNX model compute the same thing.

Outputs use a flat layout over the batch (M kept instances in total, sorted by image, then by descending score):
``batch_index (M,)``, ``bboxes (M, 4)`` xyxy, ``scores (M,)``, ``keypoints (M, K, 2)``, ``keypoint_scores (M, K)``,
all in model-input pixels (the letterboxed image).
"""
from typing import Dict, NamedTuple, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from .fast_dcc import FastDCC
from .fast_dense_head import FastDenseHead
from .fused_tree import OneDNNConvAct, fuse_module_tree, onednn_available, use_onednn_kernels
from .nms import batched_nms

#: RTMO test-time defaults (MMPose configs): score threshold, NMS IoU threshold.
DEFAULT_SCORE_THR = 0.1
DEFAULT_NMS_THR = 0.65


class RTMOOutputs(NamedTuple):
    """Flat batched predictions (see module docstring)."""

    batch_index: Tensor
    bboxes: Tensor
    scores: Tensor
    keypoints: Tensor
    keypoint_scores: Tensor


class FastRTMO(nn.Module):
    """BN-folded RTMO with batched decoding for one fixed input size.

    Args:
        backbone (nn.Module): fused backbone (see :func:`fuse_module_tree`).
        neck (nn.Module): fused neck.
        dense_head (FastDenseHead): conv branches + box decoding.
        dcc (FastDCC): keypoint decoder.
        score_thr (float): keep grid cells with score above this (RTMO: 0.1).
        nms_thr (float): greedy NMS IoU threshold (RTMO: 0.65).
        max_per_image (int): cap of instances per image after NMS.
        mean (Tensor | None): ``(3,)`` normalisation mean of the data preprocessor (None = identity).
        std (Tensor | None): ``(3,)`` normalisation std.
        bgr_to_rgb (bool): whether the preprocessor swaps channels first.
        channels_last (bool): run the convolutions in NHWC memory layout (oneDNN picks faster kernels on CPU
            and never falls back to the im2col path that NCHW small-batch convs take).
    """

    def __init__(self, backbone: nn.Module, neck: Optional[nn.Module], dense_head: FastDenseHead, dcc: FastDCC,
                 score_thr: float = DEFAULT_SCORE_THR, nms_thr: float = DEFAULT_NMS_THR,
                 max_per_image: Optional[int] = None, mean: Optional[Tensor] = None, std: Optional[Tensor] = None,
                 bgr_to_rgb: bool = False, channels_last: bool = True) -> None:
        super().__init__()
        if not 0.0 < nms_thr < 1.0:
            raise ValueError(f"nms_thr must be in (0, 1), got {nms_thr}")
        self.backbone = backbone
        self.neck = neck
        self.dense_head = dense_head
        self.dcc = dcc
        self.score_thr = float(score_thr)
        self.nms_thr = float(nms_thr)
        num_priors = dense_head.priors.shape[0]
        self.max_per_image = int(min(max_per_image or num_priors, num_priors))
        self.bgr_to_rgb = bool(bgr_to_rgb)
        self.channels_last = bool(channels_last)
        self.normalize = mean is not None and std is not None and not (
            torch.all(mean == 0) and torch.all(std == 1))
        self.register_buffer("mean", (mean if mean is not None else torch.zeros(3)).view(1, -1, 1, 1).float(),
                             persistent=False)
        self.register_buffer("std", (std if std is not None else torch.ones(3)).view(1, -1, 1, 1).float(),
                             persistent=False)

    @property
    def input_size(self) -> Tuple[int, int]:
        """Model input ``(W, H)`` the priors were computed for."""
        return self.dense_head.input_size

    @property
    def kernels(self) -> str:
        """``'onednn'`` when the convs run as oneDNN fused kernels (CPU only, not exportable), else ``'torch'``."""
        return "onednn" if any(isinstance(m, OneDNNConvAct) for m in self.modules()) else "torch"

    @property
    def num_keypoints(self) -> int:
        return self.dense_head.num_keypoints

    def forward(self, inputs: Tensor) -> RTMOOutputs:
        """Predict poses for a batch of letterboxed images.

        Args:
            inputs (Tensor): ``(B, 3, H, W)`` float BGR images in 0-255, ``(W, H) == self.input_size``.

        Returns:
            RTMOOutputs: flat predictions in input pixels.
        """
        width, height = self.input_size
        if inputs.dim() != 4 or inputs.shape[1] != 3 or inputs.shape[2] != height or inputs.shape[3] != width:
            raise ValueError(f"FastRTMO expects inputs of shape (B, 3, {height}, {width}), got {tuple(inputs.shape)}")
        x = inputs.float()
        if self.bgr_to_rgb:
            x = x.flip(1)
        if self.normalize:
            x = (x - self.mean) / self.std
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        feats = self.backbone(x)
        if self.neck is not None:
            feats = self.neck(feats)
        scores, boxes, kpt_vis, pose_vecs = self.dense_head(feats)
        num_priors = scores.shape[1]
        keep = batched_nms(boxes, scores[:, None, :], self.max_per_image, self.nms_thr, self.score_thr)
        batch_index, prior_index = keep[:, 0], keep[:, 2]
        flat = batch_index * num_priors + prior_index
        sel_boxes = boxes.reshape(-1, 4).index_select(0, flat)
        sel_scores = scores.reshape(-1).index_select(0, flat)
        sel_vis = kpt_vis.reshape(-1, kpt_vis.shape[-1]).index_select(0, flat)
        sel_pose = pose_vecs.reshape(-1, pose_vecs.shape[-1]).index_select(0, flat)
        grids = self.dense_head.priors.index_select(0, prior_index)
        keypoints = self.dcc(sel_pose, sel_boxes, grids)
        # boxes are clamped to the input canvas after the DCC used the raw ones (as RTMO does); keypoints are not
        limits = torch.tensor([width, height, width, height], dtype=sel_boxes.dtype, device=sel_boxes.device)
        sel_boxes = torch.minimum(sel_boxes.clamp(min=0), limits)
        return RTMOOutputs(batch_index, sel_boxes, sel_scores, keypoints, sel_vis)


def _cache_encoder_pos_enc(neck: nn.Module, input_size: Tuple[int, int]) -> None:
    """Store the HybridEncoder's sine position encodings for this input size as ``pos_enc_{i}`` buffers.

    MMPose's ``HybridEncoder`` recomputes them every call, except while exporting to ONNX, where it reads these
    buffers. The encoder runs on backbone level ``use_encoder_idx[i]`` (stride ``2 ** (3 + idx)``).
    """
    if getattr(neck, "num_encoder_layers", 0) <= 0 or not hasattr(neck, "sincos_pos_enc"):
        return
    width, height = input_size
    for i, level in enumerate(neck.use_encoder_idx):
        stride = 2 ** (3 + level)
        h, w = height // stride, width // stride
        pos_enc = neck.sincos_pos_enc(size=(h, w)).transpose(-1, -2).reshape(1, h * w, -1)
        neck.register_buffer(f"pos_enc_{i}", pos_enc.detach().clone(), persistent=False)


def _test_cfg(model: nn.Module) -> Dict:
    cfg = getattr(model, "test_cfg", None) or getattr(getattr(model, "head", None), "test_cfg", None) or {}
    return dict(cfg)


def _preprocessor_norm(model: nn.Module) -> Tuple[Optional[Tensor], Optional[Tensor], bool]:
    pre = getattr(model, "data_preprocessor", None)
    if pre is None or not getattr(pre, "_enable_normalize", False):
        return None, None, bool(getattr(pre, "_channel_conversion", False))
    return pre.mean.detach().flatten().cpu(), pre.std.detach().flatten().cpu(), bool(pre._channel_conversion)


@torch.no_grad()
def convert_to_fast(model: nn.Module, input_size: Optional[Sequence[int]] = None, score_thr: Optional[float] = None,
                    nms_thr: Optional[float] = None, max_per_image: Optional[int] = None,
                    channels_last: bool = True, kernels: str = "auto") -> FastRTMO:
    """Build the fast inference model from a trained RTMO ``BottomupPoseEstimator`` (ours or MMPose's).

    Args:
        model (nn.Module): estimator with ``backbone``, ``neck``, ``head`` (``head.head_module``, ``head.dcc``).
        input_size (Sequence[int] | None): ``(W, H)``; default ``test_cfg['input_size']``.
        score_thr (float | None): default ``test_cfg['score_thr']`` (RTMO: 0.1).
        nms_thr (float | None): default ``test_cfg['nms_thr']`` (RTMO: 0.65).
        max_per_image (int | None): default: no cap (all priors).
        channels_last (bool): NHWC convolutions (see :class:`FastRTMO`).
        kernels (str): ``'onednn'`` runs every conv (+ its activation) as one oneDNN fused kernel on the CPU;
            ``'torch'`` uses standard modules (required for ONNX export and for CUDA); ``'auto'`` picks 'onednn'
            for a CPU model when this torch build has the kernel, else 'torch'.

    Returns:
        FastRTMO: a new module in eval mode on the model's device; ``model`` is not modified.
    """
    for name in ("backbone", "head"):
        if getattr(model, name, None) is None:
            raise ValueError(f"convert_to_fast needs a BottomupPoseEstimator-like model with .{name}")
    head = model.head
    cfg = _test_cfg(model)
    unsupported = [k for k in ("pose_nms", "flip_test", "multiscale_test") if cfg.get(k)]
    if unsupported:
        raise ValueError(f"convert_to_fast: test_cfg options {unsupported} are not implemented in the fast mode / "
                         "ONNX graph (greedy box NMS only); use eval mode for them")
    if input_size is None:
        if "input_size" not in cfg:
            raise ValueError("input_size not given and the model's test_cfg has no 'input_size'")
        input_size = cfg["input_size"]
    input_size = (int(input_size[0]), int(input_size[1]))
    strides = tuple(int(s if not isinstance(s, (tuple, list)) else s[0])
                    for s in getattr(head, "featmap_strides", (16, 32)))
    device = next(model.parameters()).device
    if kernels not in ("auto", "onednn", "torch"):
        raise ValueError(f"kernels must be 'auto', 'onednn' or 'torch', got {kernels!r}")
    if kernels == "auto":
        kernels = "onednn" if device.type == "cpu" and onednn_available() else "torch"
    if kernels == "onednn" and (device.type != "cpu" or not onednn_available()):
        raise ValueError("kernels='onednn' needs a CPU model and a torch build with oneDNN")
    mean, std, bgr_to_rgb = _preprocessor_norm(model)
    neck = fuse_module_tree(model.neck) if getattr(model, "neck", None) is not None else None
    if neck is not None:
        _cache_encoder_pos_enc(neck, input_size)
    fast = FastRTMO(
        backbone=fuse_module_tree(model.backbone),
        neck=neck,
        dense_head=FastDenseHead(head, input_size, strides),
        dcc=FastDCC(head.dcc, getattr(head, "bbox_padding", 1.25)),
        score_thr=cfg.get("score_thr", DEFAULT_SCORE_THR) if score_thr is None else score_thr,
        nms_thr=cfg.get("nms_thr", DEFAULT_NMS_THR) if nms_thr is None else nms_thr,
        max_per_image=max_per_image,
        mean=mean, std=std, bgr_to_rgb=bgr_to_rgb, channels_last=channels_last)
    fast = fast.to(device).eval()
    if kernels == "onednn":
        use_onednn_kernels(fast)
    if channels_last:
        fast = fast.to(memory_format=torch.channels_last)  # 4-D conv weights in NHWC order
    return fast
