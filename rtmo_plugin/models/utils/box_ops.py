"""Pure tensor helpers for the RTMO head: prior decoding, box conversions, IoU, greedy NMS, score filtering.

All boxes are ``(x1, y1, x2, y2)`` in input-image pixels unless stated otherwise. Priors come from MMDet/MMPose's
``MlvlPointGenerator(..., with_stride=True)`` and hold ``(x, y, stride_x, stride_y)`` per grid cell.
"""
from typing import Tuple

import torch
from torch import Tensor


def decode_bboxes(pred: Tensor, priors: Tensor) -> Tensor:
    """Turn raw box regressions into boxes.

    The centre is an offset of the prior in units of its stride, the size a log-scale in units of the stride:
    ``c = p[:2] * s + prior_xy``, ``wh = exp(p[2:]) * s``.

    Args:
        pred (Tensor): raw regressions ``(..., N, 4)`` as ``(dx, dy, log w, log h)``.
        priors (Tensor): ``(N, 4)`` as ``(x, y, stride_x, stride_y)``.

    Returns:
        Tensor: boxes ``(..., N, 4)`` in xyxy.
    """
    strides = priors[..., 2:]
    centers = pred[..., :2] * strides + priors[..., :2]
    sizes = pred[..., 2:].exp() * strides
    return torch.cat([centers - sizes / 2, centers + sizes / 2], dim=-1)


def encode_bboxes(bboxes: Tensor, priors: Tensor, eps: float = 1e-8) -> Tensor:
    """Inverse of :func:`decode_bboxes` (regression targets of the auxiliary L1 box loss).

    Args:
        bboxes (Tensor): boxes ``(N, 4)`` in xyxy.
        priors (Tensor): ``(N, 4)`` as ``(x, y, stride_x, stride_y)``.
        eps (float): added inside the log so zero-size boxes stay finite. Defaults to 1e-8.

    Returns:
        Tensor: ``(N, 4)`` as ``((cx - x) / s, (cy - y) / s, log(w / s + eps), log(h / s + eps))``.
    """
    strides = priors[:, 2:]
    centers = (bboxes[:, :2] + bboxes[:, 2:]) / 2
    sizes = bboxes[:, 2:] - bboxes[:, :2]
    return torch.cat([(centers - priors[:, :2]) / strides, torch.log(sizes / strides + eps)], dim=-1)


def decode_keypoints(offsets: Tensor, priors: Tensor) -> Tensor:
    """Decode proxy keypoint regressions ``offset * stride + prior_xy``.

    Args:
        offsets (Tensor): ``(..., N, K, 2)`` offsets in units of the stride.
        priors (Tensor): ``(N, 4)`` as ``(x, y, stride_x, stride_y)``.

    Returns:
        Tensor: keypoints ``(..., N, K, 2)`` in input pixels.
    """
    return offsets * priors[:, None, 2:] + priors[:, None, :2]


def bbox_xyxy_to_cs(bboxes: Tensor, padding: float = 1.0) -> Tuple[Tensor, Tensor]:
    """Box corners to centre and (padded) size.

    Args:
        bboxes (Tensor): ``(N, 4)`` in xyxy.
        padding (float): factor applied to width and height (RTMO enlarges boxes by 1.25). Defaults to 1.0.

    Returns:
        tuple: ``center (N, 2)``, ``scale (N, 2)`` = ``(w, h) * padding``.
    """
    center = (bboxes[..., :2] + bboxes[..., 2:]) * 0.5
    scale = (bboxes[..., 2:] - bboxes[..., :2]) * padding
    return center, scale


def pairwise_iou(boxes1: Tensor, boxes2: Tensor, eps: float = 1e-6) -> Tensor:
    """IoU of every box in ``boxes1`` with every box in ``boxes2``.

    Args:
        boxes1 (Tensor): ``(N, 4)`` xyxy.
        boxes2 (Tensor): ``(M, 4)`` xyxy.
        eps (float): lower clamp of the union. Defaults to 1e-6.

    Returns:
        Tensor: ``(N, M)``.
    """
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    top_left = torch.max(boxes1[:, None, :2], boxes2[None, :, :2])
    bottom_right = torch.min(boxes1[:, None, 2:], boxes2[None, :, 2:])
    wh = (bottom_right - top_left).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    union = (area1[:, None] + area2[None, :] - inter).clamp(min=eps)
    return inter / union


def greedy_nms(bboxes: Tensor, scores: Tensor, iou_thr: float) -> Tensor:
    """Greedy non-maximum suppression.

    Boxes are visited by decreasing score; a box is dropped when its IoU with an already kept box is ``> iou_thr``.

    Args:
        bboxes (Tensor): ``(N, 4)`` xyxy.
        scores (Tensor): ``(N,)``.
        iou_thr (float): suppression threshold (RTMO: 0.65).

    Returns:
        Tensor: indices of kept boxes ``(M,)`` (long), highest score first.
    """
    order = scores.argsort(descending=True)
    if order.numel() == 0:
        return order
    ious = pairwise_iou(bboxes[order], bboxes[order])
    suppressed = torch.zeros(order.numel(), dtype=torch.bool, device=bboxes.device)
    keep = []
    for i in range(order.numel()):
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= ious[i] > iou_thr
    return order[torch.as_tensor(keep, dtype=torch.long, device=bboxes.device)]


def filter_by_score(scores: Tensor, score_thr: float, max_keep: int) -> Tuple[Tensor, Tensor]:
    """Keep scores above a threshold, at most ``max_keep`` of them, sorted by decreasing score.

    Args:
        scores (Tensor): ``(N,)`` probabilities (one class).
        score_thr (float): strict lower bound.
        max_keep (int): maximum number kept (``nms_pre``).

    Returns:
        tuple: kept scores ``(M,)`` and their indices into ``scores`` ``(M,)``.
    """
    idxs = torch.nonzero(scores > score_thr, as_tuple=False).flatten()
    kept = scores[idxs]
    num = min(max_keep, kept.numel())
    kept, order = kept.sort(descending=True)
    return kept[:num], idxs[order[:num]]
