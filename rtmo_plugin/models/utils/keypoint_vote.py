"""Test-time keypoint vote over the grid cells that predict the same person (an option of ``RTMODCCHead``).

Several grid cells predict each person. Their boxes overlap almost exactly and, trained with RTMO's stage-1 class
target (the OKS of the proxy keypoints), their scores can all be ~1, so the box NMS keeps one of them arbitrarily
while their DCC poses may differ (docs/demo_recipe.md, point 23). The vote replaces each kept detection's keypoints
with the per-coordinate median (or the score-weighted mean) of the keypoints of the cells whose boxes overlap its
box at IoU > ``iou_thr``. Boxes, scores and keypoint scores stay as they are.
"""
from typing import Tuple

import torch
from torch import Tensor

from .box_ops import pairwise_iou

VOTE_METHODS: Tuple[str, ...] = ("median", "mean")


def check_vote_cfg(vote_cfg: dict) -> Tuple[float, str]:
    """Validate ``test_cfg.keypoint_vote``; return ``(iou_thr, method)``.

    Raises:
        ValueError: on an unknown key, an ``iou_thr`` outside [0, 1) or an unknown ``method``, naming the field.
    """
    unknown = set(vote_cfg) - {"iou_thr", "method"}
    if unknown:
        raise ValueError(f"test_cfg.keypoint_vote: unknown keys {sorted(unknown)} (allowed: iou_thr, method)")
    iou_thr = float(vote_cfg.get("iou_thr", 0.9))
    method = vote_cfg.get("method", "median")
    if not 0.0 <= iou_thr < 1.0:
        raise ValueError(f"test_cfg.keypoint_vote.iou_thr must be in [0, 1), got {iou_thr}")
    if method not in VOTE_METHODS:
        raise ValueError(f"test_cfg.keypoint_vote.method must be one of {VOTE_METHODS}, got {method!r}")
    return iou_thr, method


def overlap_members(kept_bboxes: Tensor, cell_bboxes: Tensor, iou_thr: float) -> Tensor:
    """Which cells vote for which kept detection.

    Args:
        kept_bboxes (Tensor): ``(M, 4)`` xyxy, the detections the box NMS kept.
        cell_bboxes (Tensor): ``(N, 4)`` xyxy, every cell above the score threshold (the kept ones among them).
        iou_thr (float): a cell votes if its box overlaps the kept box at IoU > ``iou_thr``.

    Returns:
        Tensor: ``(M, N)`` bool.
    """
    return pairwise_iou(kept_bboxes, cell_bboxes) > iou_thr


def vote_keypoints(kept_keypoints: Tensor, members: Tensor, cell_keypoints: Tensor, cell_scores: Tensor,
                   method: str = "median") -> Tensor:
    """Keypoints of each kept detection voted over its member cells.

    Args:
        kept_keypoints (Tensor): ``(M, K, 2)``, kept where a detection has no member cell.
        members (Tensor): ``(M, N)`` bool from :func:`overlap_members`.
        cell_keypoints (Tensor): ``(N, K, 2)``.
        cell_scores (Tensor): ``(N,)``, the weights of ``'mean'``.
        method (str): ``'median'`` (per coordinate; the mean of the two middle values for an even count, as
            ``numpy.median``) or ``'mean'`` (weighted by ``cell_scores``).

    Returns:
        Tensor: ``(M, K, 2)``.
    """
    voted = kept_keypoints.clone()
    for i in range(members.shape[0]):
        poses = cell_keypoints[members[i]]
        if poses.shape[0] == 0:
            continue
        if method == "median":
            voted[i] = torch.quantile(poses.double(), 0.5, dim=0).to(voted.dtype)
        else:
            weights = cell_scores[members[i]].double()
            voted[i] = ((poses.double() * weights[:, None, None]).sum(0) / weights.sum()).to(voted.dtype)
    return voted
