"""Training targets of the RTMO head: SimOTA assignment per image and the per-positive regression targets.

The assigner is MMPose's generic ``SimOTAAssigner`` (built by registry name with a ``PoseOKS`` calculator); this
file turns its per-prior assignment into dense tensors for the losses.
"""
from dataclasses import dataclass
from typing import List, Optional, Sequence

import torch
import torch.distributed as dist
import torch.nn.functional as F
from mmengine.structures import InstanceData
from torch import Tensor

# logit used for the (absent) objectness branch: sigmoid(1e4) == 1, so assignment scores are sqrt(cls prob)
_OBJECTNESS_LOGIT = 1e4


@dataclass
class RTMOTargets:
    """Targets of a batch, positives concatenated in image order.

    Attributes:
        pos_mask (Tensor): ``(B * P,)`` bool, which priors are positives (P = priors per image).
        cls_targets (Tensor): ``(Npos,)`` assigned quality (OKS of the proxy keypoints with their GT).
        bbox_targets (Tensor): ``(Npos, 4)`` GT boxes xyxy.
        kpt_targets (Tensor): ``(Npos, K, 2)`` GT keypoints.
        vis_targets (Tensor): ``(Npos, K)`` GT visibility in {0, 1}.
        vis_weights (Tensor): ``(Npos, K)`` per-keypoint weights (``keypoints_visible_weights`` or ones).
        areas (Tensor): ``(Npos,)`` GT areas.
        pos_priors (Tensor): ``(Npos, 4)`` priors ``(x, y, stride_x, stride_y)`` of the positives.
        obj_weights (Tensor): ``(B * P,)`` classification-loss weights (1, or 1 - invalid-region mask in stage 2).
        num_pos (int): number of positives in the batch.
    """

    pos_mask: Tensor
    cls_targets: Tensor
    bbox_targets: Tensor
    kpt_targets: Tensor
    vis_targets: Tensor
    vis_weights: Tensor
    areas: Tensor
    pos_priors: Tensor
    obj_weights: Tensor
    num_pos: int


def reduce_mean(x: Tensor) -> Tensor:
    """Mean of ``x`` over distributed ranks (identity when not distributed)."""
    if not (dist.is_available() and dist.is_initialized()):
        return x
    x = x.clone()
    dist.all_reduce(x.div_(dist.get_world_size()), op=dist.ReduceOp.SUM)
    return x


def invalid_region_weights(mask: Tensor, keypoints: Tensor, kpt_vis_probs: Tensor, vis_thr: float = 0.3) -> Tensor:
    """Stage-2 weights ``1 - mask(mean predicted keypoint)`` that silence priors pointing at invalid regions.

    The mask marks crowd / unannotated people; a prior whose confidently visible proxy keypoints centre inside it
    should not be pushed towards background.

    Args:
        mask (Tensor): ``(H, W)`` or ``(1, H, W)`` in [0, 1] (input resolution; sampled as if square, with
            coordinates normalised by ``W - 1``).
        keypoints (Tensor): ``(P, K, 2)`` predicted proxy keypoints (pixels).
        kpt_vis_probs (Tensor): ``(P, K)`` predicted visibility probabilities.
        vis_thr (float): keypoints with probability above this are averaged. Defaults to 0.3.

    Returns:
        Tensor: ``(P,)`` weights.
    """
    mask = mask.reshape(1, 1, *mask.shape[-2:]).to(keypoints)
    vis = (kpt_vis_probs > vis_thr).to(keypoints).unsqueeze(-1)
    centers = (keypoints * vis).sum(dim=1) / vis.sum(dim=1).clamp(min=1e-8)
    grid = (centers / (mask.shape[-1] - 1) * 2 - 1).reshape(1, 1, -1, 2)
    sampled = F.grid_sample(mask, grid, mode="bilinear", align_corners=False).flatten()
    return 1 - sampled


def _as_tensor(x, like: Tensor, dtype: Optional[torch.dtype] = None) -> Tensor:
    return torch.as_tensor(x, device=like.device, dtype=dtype if dtype is not None else like.dtype)


@torch.no_grad()
def assign_image(assigner, priors: Tensor, cls_logits: Tensor, bboxes: Tensor, keypoints: Tensor,
                 kpt_vis_logits: Tensor, gt: InstanceData, heatmap_mask: Optional[Tensor] = None) -> dict:
    """SimOTA assignment for one image.

    Args:
        assigner: a ``SimOTAAssigner`` (``assign(pred_instances, gt_instances) -> dict``).
        priors (Tensor): ``(P, 4)`` priors with strides.
        cls_logits (Tensor): ``(P, C)`` class logits.
        bboxes (Tensor): ``(P, 4)`` decoded boxes.
        keypoints (Tensor): ``(P, K, 2)`` decoded proxy keypoints.
        kpt_vis_logits (Tensor): ``(P, K)`` visibility logits.
        gt (InstanceData): ``bboxes (G, 4)``, ``labels (G,)``, ``keypoints (G, K, 2)``, ``keypoints_visible (G, K)``,
            ``areas (G,)`` and optionally ``keypoints_visible_weights (G, K)``.
        heatmap_mask (Tensor, optional): stage-2 invalid-region mask.

    Returns:
        dict with the per-image pieces of :class:`RTMOTargets`.
    """
    num_priors, num_kpts = keypoints.shape[:2]
    kpt_vis_probs = kpt_vis_logits.sigmoid()
    obj_weights = cls_logits.new_ones(num_priors)
    if heatmap_mask is not None:
        obj_weights = invalid_region_weights(_as_tensor(heatmap_mask, cls_logits), keypoints, kpt_vis_probs)

    for field in ("bboxes", "labels", "keypoints", "keypoints_visible", "areas"):
        if field not in gt:
            raise KeyError(f"RTMO targets: gt_instance_labels lacks '{field}' (produced by the bbox-free codec)")
    gt_bboxes = _as_tensor(gt.bboxes, cls_logits).reshape(-1, 4)
    num_gt = gt_bboxes.shape[0]
    empty = dict(pos_inds=priors.new_zeros(0, dtype=torch.long), cls_targets=cls_logits.new_zeros(0),
                 bbox_targets=cls_logits.new_zeros(0, 4), kpt_targets=cls_logits.new_zeros(0, num_kpts, 2),
                 vis_targets=cls_logits.new_zeros(0, num_kpts), vis_weights=cls_logits.new_zeros(0, num_kpts),
                 areas=cls_logits.new_zeros(0), obj_weights=obj_weights)
    if num_gt == 0:
        return empty

    gt_kpts = _as_tensor(gt.keypoints, cls_logits).reshape(num_gt, num_kpts, 2)
    gt_vis = _as_tensor(gt.keypoints_visible, cls_logits).reshape(num_gt, num_kpts)
    gt_vis_w = (_as_tensor(gt.keypoints_visible_weights, cls_logits).reshape(num_gt, num_kpts)
                if "keypoints_visible_weights" in gt else torch.ones_like(gt_vis))
    gt_areas = _as_tensor(gt.areas, cls_logits).reshape(num_gt)
    gt_instances = InstanceData(bboxes=gt_bboxes, labels=_as_tensor(gt.labels, cls_logits, torch.long).reshape(-1),
                                keypoints=gt_kpts, keypoints_visible=gt_vis, areas=gt_areas)
    objectness = cls_logits.new_full((num_priors, 1), _OBJECTNESS_LOGIT).sigmoid()
    pred_instances = InstanceData(priors=priors, bboxes=bboxes, keypoints=keypoints,
                                  scores=(cls_logits.sigmoid() * objectness).sqrt(),
                                  keypoints_visible=kpt_vis_probs)
    result = assigner.assign(pred_instances=pred_instances, gt_instances=gt_instances)

    pos_inds = torch.nonzero(result["gt_inds"] > 0, as_tuple=False).flatten()
    if pos_inds.numel() == 0:
        return empty
    matched = result["gt_inds"][pos_inds] - 1
    return dict(pos_inds=pos_inds, cls_targets=result["max_overlaps"][pos_inds].to(cls_logits),
                bbox_targets=gt_bboxes[matched], kpt_targets=gt_kpts[matched], vis_targets=gt_vis[matched],
                vis_weights=gt_vis_w[matched], areas=gt_areas[matched], obj_weights=obj_weights)


@torch.no_grad()
def build_targets(assigner, priors: Tensor, cls_logits: Tensor, bboxes: Tensor, keypoints: Tensor,
                  kpt_vis_logits: Tensor, batch_gt: Sequence[InstanceData],
                  batch_masks: Sequence[Optional[Tensor]]) -> RTMOTargets:
    """Assign every image of a batch and concatenate the targets.

    Args:
        assigner: ``SimOTAAssigner``.
        priors (Tensor): ``(P, 4)``.
        cls_logits (Tensor): ``(B, P, C)``.
        bboxes (Tensor): ``(B, P, 4)`` decoded boxes.
        keypoints (Tensor): ``(B, P, K, 2)`` decoded proxy keypoints.
        kpt_vis_logits (Tensor): ``(B, P, K)``.
        batch_gt (Sequence[InstanceData]): per image ``gt_instance_labels``.
        batch_masks (Sequence[Tensor | None]): per image stage-2 invalid-region mask or None.

    Returns:
        RTMOTargets: see its attributes.
    """
    num_imgs, num_priors = cls_logits.shape[:2]
    if len(batch_gt) != num_imgs:
        raise ValueError(f"RTMO targets: {len(batch_gt)} data samples for a batch of {num_imgs} images")
    parts: List[dict] = [
        assign_image(assigner, priors, cls_logits[i], bboxes[i], keypoints[i], kpt_vis_logits[i], batch_gt[i],
                     batch_masks[i]) for i in range(num_imgs)
    ]
    pos_mask = torch.zeros(num_imgs, num_priors, dtype=torch.bool, device=cls_logits.device)
    for i, part in enumerate(parts):
        pos_mask[i, part["pos_inds"]] = True
    pos_priors = torch.cat([priors[p["pos_inds"]] for p in parts])

    def cat(key: str) -> Tensor:
        return torch.cat([p[key] for p in parts])

    return RTMOTargets(pos_mask=pos_mask.flatten(), cls_targets=cat("cls_targets"), bbox_targets=cat("bbox_targets"),
                       kpt_targets=cat("kpt_targets"), vis_targets=cat("vis_targets"), vis_weights=cat("vis_weights"),
                       areas=cat("areas"), pos_priors=pos_priors, obj_weights=cat("obj_weights"),
                       num_pos=int(pos_mask.sum()))
