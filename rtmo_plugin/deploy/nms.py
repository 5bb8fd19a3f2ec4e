"""Batched greedy NMS with score threshold that runs eagerly and exports as one ONNX ``NonMaxSuppression`` node.

Both paths return the ONNX layout: selected indices ``(M, 3)`` as ``[batch_index, class_index(=0), box_index]``,
sorted by batch index, then by descending score inside each image (what onnxruntime produces, and the order in
which RTMO's reference ``nms_torch`` keeps boxes). A box survives when ``score > score_thr`` and no higher-scoring
kept box of the same image overlaps it with ``IoU > iou_thr``.
"""
import torch
from torch import Tensor
from torchvision.ops import batched_nms as _tv_batched_nms  # compiled greedy NMS (torchvision is in the stack)


def batched_nms_indices(boxes: Tensor, scores: Tensor, max_per_image: int, iou_thr: float,
                        score_thr: float) -> Tensor:
    """Eager reference of :class:`BatchedNMS` (no autograd, no export).

    Args:
        boxes (Tensor): ``(B, N, 4)`` xyxy boxes.
        scores (Tensor): ``(B, 1, N)`` scores in [0, 1].
        max_per_image (int): keep at most this many boxes per image.
        iou_thr (float): suppression threshold on IoU (strictly greater suppresses).
        score_thr (float): boxes need ``score > score_thr``.

    Returns:
        Tensor: ``(M, 3)`` int64 ``[batch, 0, box]`` rows.
    """
    scores = scores[:, 0]
    batch_idx, box_idx = torch.nonzero(scores > score_thr, as_tuple=True)
    if batch_idx.numel() == 0:
        return torch.zeros((0, 3), dtype=torch.long, device=boxes.device)
    cand_boxes = boxes[batch_idx, box_idx].float()
    cand_scores = scores[batch_idx, box_idx].float()
    keep = _tv_batched_nms(cand_boxes, cand_scores, batch_idx, iou_thr)
    # keep is sorted by descending score over all images; a stable sort by image keeps that order inside each
    keep = keep[torch.sort(batch_idx[keep], stable=True).indices]
    kept_batch = batch_idx[keep]
    if max_per_image < scores.shape[1]:
        first = torch.searchsorted(kept_batch, kept_batch, right=False)
        rank = torch.arange(len(keep), device=keep.device) - first
        keep, kept_batch = keep[rank < max_per_image], kept_batch[rank < max_per_image]
    return torch.stack((kept_batch, torch.zeros_like(kept_batch), box_idx[keep]), dim=1)


class BatchedNMS(torch.autograd.Function):
    """Greedy per-image NMS; eager via :func:`batched_nms_indices`, ONNX via ``NonMaxSuppression`` (opset >= 11)."""

    @staticmethod
    def forward(ctx, boxes: Tensor, scores: Tensor, max_per_image: int, iou_thr: float,  # type: ignore[override]
                score_thr: float) -> Tensor:
        """See :func:`batched_nms_indices`."""
        return batched_nms_indices(boxes, scores, max_per_image, iou_thr, score_thr)

    @staticmethod
    def symbolic(g, boxes, scores, max_per_image: int, iou_thr: float, score_thr: float):  # noqa: D401
        """Emit ONNX ``NonMaxSuppression(boxes, scores, max_out, iou_thr, score_thr)``."""
        max_out = g.op("Constant", value_t=torch.tensor([max_per_image], dtype=torch.long))
        iou = g.op("Constant", value_t=torch.tensor([iou_thr], dtype=torch.float32))
        thr = g.op("Constant", value_t=torch.tensor([score_thr], dtype=torch.float32))
        return g.op("NonMaxSuppression", boxes, scores, max_out, iou, thr, center_point_box_i=0)


def batched_nms(boxes: Tensor, scores: Tensor, max_per_image: int, iou_thr: float, score_thr: float) -> Tensor:
    """Greedy NMS per image with a score threshold; exportable to ONNX.

    Args:
        boxes (Tensor): ``(B, N, 4)`` xyxy boxes.
        scores (Tensor): ``(B, 1, N)`` scores.
        max_per_image (int): cap of kept boxes per image.
        iou_thr (float): IoU above which a lower-scored box is suppressed.
        score_thr (float): minimum score (exclusive).

    Returns:
        Tensor: ``(M, 3)`` int64 ``[batch, 0, box]``, ordered by batch then descending score.
    """
    return BatchedNMS.apply(boxes, scores, int(max_per_image), float(iou_thr), float(score_thr))
