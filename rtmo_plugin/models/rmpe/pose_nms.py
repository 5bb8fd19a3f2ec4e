"""Parametric pose NMS of RMPE (Fang et al., ICCV 2017, §3.3) as used by AlphaPose.

Greedy elimination: the highest-ranked remaining pose P_i is the reference; every remaining
pose P_j with

    d(P_i, P_j) = K_sim(P_i, P_j | σ1) + λ · H_sim(P_i, P_j | σ2) > η

or (AlphaPose's extra criterion) with at least ``match_thr`` keypoints closer than
``min(α · max(w_i, h_i), 7)`` pixels is eliminated and merged into P_i (score-weighted mean of
the cluster's keypoints lying within ``min(α · max(w_i, h_i), 15)`` px of P_i's keypoint).

    K_sim = Σ_n tanh(c_i^n / σ1) · tanh(c_j^n / σ1) · 1[dist_n ≤ 1]
    H_sim = Σ_n exp(-dist_n / σ2)

``dist_n`` is ``‖k_i^n − k_j^n‖ / (α · max(w_i, h_i))`` in the ``'box'`` normalisation (the
paper's box B(k_i^n) and the original RMPE code) and the raw pixel distance in the ``'pixel'``
normalisation (current AlphaPose).
"""
from typing import NamedTuple, Optional, Tuple, Union

import numpy as np
import torch
from mmengine.structures import InstanceData
from torch import Tensor

from mmpose.registry import TASK_UTILS

ArrayLike = Union[Tensor, np.ndarray]

#: constants of the RMPE / AlphaPose COCO model (all verified in AlphaPose's code)
COCO_PARAMS = dict(sigma1=1.0, lambda_=1.7, sigma2=2.65, eta=22.48, match_thr=5, alpha=0.1,
                   score_thr=0.3, merge_score='weighted')
#: the MPII variant of the original code: no PCK criterion, merged keypoint score = max
MPII_PARAMS = dict(sigma1=0.01, lambda_=2.08, sigma2=2.08, eta=22.48, match_thr=None, alpha=0.1,
                   score_thr=0.3, merge_score='max')


class PoseNMSResult(NamedTuple):
    """Output of :class:`ParametricPoseNMS`.

    Attributes:
        keep (Tensor): indices of the kept (reference) poses into the input, ``(M,)`` long,
            in the order they were picked (best first).
        keypoints (Tensor): merged keypoints of each kept pose, ``(M, K, 2)``.
        keypoint_scores (Tensor): merged keypoint scores, ``(M, K)``.
        scores (Tensor): the input ``scores`` of the kept poses, ``(M,)``.
    """

    keep: Tensor
    keypoints: Tensor
    keypoint_scores: Tensor
    scores: Tensor


@TASK_UTILS.register_module()
class ParametricPoseNMS:
    """Parametric pose NMS with AlphaPose's PCK criterion and pose merging.

    Args:
        sigma1 (float): σ1, tanh temperature of the soft keypoint matching K_sim.
        lambda_ (float): λ, weight of the spatial term H_sim.
        sigma2 (float): σ2, length scale of the spatial term.
        eta (float): η, similarity above which a pose is eliminated.
        match_thr (int, optional): AlphaPose's matchThreds; a pose with at least this many
            keypoints within ``min(α·max(w, h), pck_max_px)`` px of the reference is also
            eliminated. ``None`` disables the criterion (MPII variant).
        alpha (float): α, reference distance ``α · max(w, h)`` of the reference pose's box.
        score_thr (float): a kept pose is output only if its max keypoint score, before and
            after merging, is at least this (scoreThreds).
        normalisation (str): ``'box'`` (paper / original RMPE code, distances divided by
            ``α·max(w, h)``) or ``'pixel'`` (current AlphaPose, raw pixel distances).
        rank_by (str): order of the greedy picks: ``'keypoint_mean'`` (AlphaPose: mean keypoint
            score) or ``'score'`` (the ``scores`` argument, e.g. a detector/head score).
        merge (bool): merge each eliminated cluster into its reference pose; if False the
            kept poses are returned unchanged.
        merge_score (str): merged keypoint score, ``'weighted'`` (Σ s·w with w = s/Σs, AlphaPose
            COCO) or ``'max'`` (original MPII code).
        pck_max_px (float): cap in pixels of the PCK radius (7 in AlphaPose).
        merge_max_px (float): cap in pixels of the merge radius (15 in AlphaPose).
        min_area (float): drop a merged pose if ``1.5² ·`` (area of its keypoint extent) is
            below this (AlphaPose ``--min_box_area``, default 0 = off).
        chunk_size (int): references per vectorised block of the pairwise terms (memory
            ``chunk_size · N · K``); does not change the result.
        preset (str, optional): ``'coco'`` or ``'mpii'`` loads that constant set
            (σ1, λ, σ2, η, match_thr, α, score_thr, merge_score), overriding those arguments.
    """

    def __init__(self,
                 sigma1: float = 1.0,
                 lambda_: float = 1.7,
                 sigma2: float = 2.65,
                 eta: float = 22.48,
                 match_thr: Optional[int] = 5,
                 alpha: float = 0.1,
                 score_thr: float = 0.3,
                 normalisation: str = 'box',
                 rank_by: str = 'keypoint_mean',
                 merge: bool = True,
                 merge_score: str = 'weighted',
                 pck_max_px: float = 7.0,
                 merge_max_px: float = 15.0,
                 min_area: float = 0.0,
                 chunk_size: int = 256,
                 preset: Optional[str] = None) -> None:
        if preset is not None:
            presets = {'coco': COCO_PARAMS, 'mpii': MPII_PARAMS}
            if preset not in presets:
                raise ValueError(f'ParametricPoseNMS: preset must be one of {sorted(presets)}, '
                                 f'got {preset!r}')
            p = presets[preset]
            sigma1, lambda_, sigma2, eta = p['sigma1'], p['lambda_'], p['sigma2'], p['eta']
            match_thr, alpha, score_thr = p['match_thr'], p['alpha'], p['score_thr']
            merge_score = p['merge_score']
        if normalisation not in ('box', 'pixel'):
            raise ValueError("ParametricPoseNMS: normalisation must be 'box' or 'pixel', "
                             f'got {normalisation!r}')
        if rank_by not in ('keypoint_mean', 'score'):
            raise ValueError("ParametricPoseNMS: rank_by must be 'keypoint_mean' or 'score', "
                             f'got {rank_by!r}')
        if merge_score not in ('weighted', 'max'):
            raise ValueError("ParametricPoseNMS: merge_score must be 'weighted' or 'max', "
                             f'got {merge_score!r}')
        for name, value in (('sigma1', sigma1), ('sigma2', sigma2), ('alpha', alpha)):
            if not value > 0:
                raise ValueError(f'ParametricPoseNMS: {name} must be > 0, got {value}')
        self.sigma1 = float(sigma1)
        self.lambda_ = float(lambda_)
        self.sigma2 = float(sigma2)
        self.eta = float(eta)
        self.match_thr = None if match_thr is None else int(match_thr)
        self.alpha = float(alpha)
        self.score_thr = float(score_thr)
        self.normalisation = normalisation
        self.rank_by = rank_by
        self.merge = bool(merge)
        self.merge_score = merge_score
        self.pck_max_px = float(pck_max_px)
        self.merge_max_px = float(merge_max_px)
        self.min_area = float(min_area)
        if chunk_size < 1:
            raise ValueError(f'ParametricPoseNMS: chunk_size must be >= 1, got {chunk_size}')
        self.chunk_size = int(chunk_size)

    # ------------------------------------------------------------------ pairwise terms
    def _pair_terms(self, keypoints: Tensor, keypoint_scores: Tensor, ref_dist: Tensor,
                    rows: slice) -> Tuple[Tensor, Tensor]:
        """Similarity and PCK counts of all poses against the references ``rows``.

        Args:
            keypoints (Tensor): ``(N, K, 2)`` keypoint locations in pixels.
            keypoint_scores (Tensor): ``(N, K)`` keypoint confidences c.
            ref_dist (Tensor): ``(N,)`` reference distances ``α · max(w, h)``.
            rows (slice): the reference poses i of this chunk (C of them).

        Returns:
            tuple[Tensor, Tensor]: ``(C, N)`` d(P_i, P_j) = K_sim + λ·H_sim and ``(C, N)`` the
            number of joints within ``min(ref_dist_i, pck_max_px)`` px.
        """
        dist_px = (keypoints[rows, None] - keypoints[None]).norm(dim=-1)  # (C, N, K)
        ref = ref_dist[rows, None, None]
        dist = dist_px / ref if self.normalisation == 'box' else dist_px
        conf = torch.tanh(keypoint_scores / self.sigma1)  # tanh(c / σ1), (N, K)
        k_sim = (conf[rows, None] * conf[None] * (dist <= 1).to(conf.dtype)).sum(-1)
        h_sim = torch.exp(-dist / self.sigma2).sum(-1)
        pck = (dist_px <= ref.clamp(max=self.pck_max_px)).sum(-1)
        return k_sim + self.lambda_ * h_sim, pck

    def _chunks(self, n: int) -> list:
        """Row slices of at most ``chunk_size`` references covering ``range(n)``."""
        return [slice(i, min(i + self.chunk_size, n)) for i in range(0, n, self.chunk_size)]

    def similarity(self, keypoints: Tensor, keypoint_scores: Tensor,
                   ref_dist: Tensor) -> Tensor:
        """Pairwise pose similarity d(P_i, P_j) with P_i the reference.

        Args:
            keypoints (Tensor): ``(N, K, 2)`` keypoint locations in pixels.
            keypoint_scores (Tensor): ``(N, K)`` keypoint confidences c.
            ref_dist (Tensor): ``(N,)`` reference distances ``α · max(w, h)``.

        Returns:
            Tensor: ``(N, N)``, entry ``[i, j]`` = K_sim + λ·H_sim of pose j against reference i.
        """
        return torch.cat([self._pair_terms(keypoints, keypoint_scores, ref_dist, r)[0]
                          for r in self._chunks(len(keypoints))])

    def pck_matches(self, keypoints: Tensor, ref_dist: Tensor) -> Tensor:
        """Number of keypoints of pose j within ``min(ref_dist_i, pck_max_px)`` px of pose i.

        Args:
            keypoints (Tensor): ``(N, K, 2)`` in pixels.
            ref_dist (Tensor): ``(N,)``.

        Returns:
            Tensor: ``(N, N)`` long counts, reference along dim 0.
        """
        scores = keypoints.new_ones(keypoints.shape[:2])
        return torch.cat([self._pair_terms(keypoints, scores, ref_dist, r)[1]
                          for r in self._chunks(len(keypoints))])

    def elimination_matrix(self, keypoints: Tensor, keypoint_scores: Tensor,
                           ref_dist: Tensor) -> Tensor:
        """``(N, N)`` bool: reference i eliminates pose j (d > η, or ≥ match_thr PCK matches).

        Computed in chunks of ``chunk_size`` references (memory ``chunk_size · N · K``).
        """
        out = []
        for rows in self._chunks(len(keypoints)):
            sim, pck = self._pair_terms(keypoints, keypoint_scores, ref_dist, rows)
            elim = sim > self.eta
            if self.match_thr is not None:
                elim |= pck >= self.match_thr
            out.append(elim)
        eliminate = torch.cat(out)
        eliminate.fill_diagonal_(True)  # a reference always removes itself
        return eliminate

    # ------------------------------------------------------------------ main entry
    def __call__(self,
                 keypoints: ArrayLike,
                 keypoint_scores: ArrayLike,
                 bboxes: Optional[ArrayLike] = None,
                 scores: Optional[ArrayLike] = None) -> PoseNMSResult:
        """Run pose NMS on the poses of ONE image.

        Args:
            keypoints (Tensor | np.ndarray): ``(N, K, 2)`` keypoints in pixels.
            keypoint_scores (Tensor | np.ndarray): ``(N, K)`` keypoint confidences.
            bboxes (Tensor | np.ndarray, optional): ``(N, 4)`` person boxes ``x1, y1, x2, y2``
                giving ``ref_dist = α · max(w, h)``; None uses the keypoint extent.
            scores (Tensor | np.ndarray, optional): ``(N,)`` instance scores; used for the
                order when ``rank_by='score'`` and passed through for the kept poses. None
                means the mean keypoint score.

        Returns:
            PoseNMSResult: ``keep (M,)``, merged ``keypoints (M, K, 2)``,
            ``keypoint_scores (M, K)`` and ``scores (M,)``, on the device of ``keypoints``.
        """
        kpts, kpt_scores, boxes, inst_scores = self._check_inputs(
            keypoints, keypoint_scores, bboxes, scores)
        n, k = kpt_scores.shape
        empty = PoseNMSResult(
            kpts.new_zeros((0, ), dtype=torch.long), kpts.new_zeros((0, k, 2)),
            kpts.new_zeros((0, k)), kpts.new_zeros((0, )))
        if n == 0:
            return empty
        # AlphaPose replaces zero keypoint scores by 1e-5 so that merge weights stay defined
        kpt_scores = torch.where(kpt_scores == 0, torch.full_like(kpt_scores, 1e-5), kpt_scores)
        wh = (boxes[:, 2:] - boxes[:, :2]).clamp(min=1e-6)
        ref_dist = self.alpha * wh.max(dim=1).values  # α · max(w, h), (N,)

        eliminate = self.elimination_matrix(kpts, kpt_scores, ref_dist)

        rank_key = kpt_scores.mean(dim=1) if self.rank_by == 'keypoint_mean' else inst_scores
        # stable descending sort so equal keys keep the input order
        order = torch.sort(rank_key, descending=True, stable=True).indices
        remaining = torch.ones(n, dtype=torch.bool, device=kpts.device)
        picks, clusters = [], []
        for i in order.tolist():
            if not remaining[i]:
                continue
            cluster = remaining & eliminate[i]
            remaining &= ~cluster
            picks.append(i)
            clusters.append(cluster)

        keep, out_kpts, out_scores = [], [], []
        for i, cluster in zip(picks, clusters):
            if kpt_scores[i].max() < self.score_thr:
                continue
            if self.merge:
                merged_k, merged_s = self._merge(kpts[i], kpts[cluster], kpt_scores[cluster],
                                                 ref_dist[i])
            else:
                merged_k, merged_s = kpts[i], kpt_scores[i]
            if merged_s.max() < self.score_thr:
                continue
            extent = merged_k.max(dim=0).values - merged_k.min(dim=0).values
            if self.min_area > 0 and 1.5**2 * float(extent[0] * extent[1]) < self.min_area:
                continue
            keep.append(i)
            out_kpts.append(merged_k)
            out_scores.append(merged_s)
        if not keep:
            return empty
        keep_t = torch.tensor(keep, dtype=torch.long, device=kpts.device)
        return PoseNMSResult(keep_t, torch.stack(out_kpts), torch.stack(out_scores),
                             inst_scores[keep_t])

    def filter_instances(self, instances: InstanceData) -> InstanceData:
        """Pose NMS on an image's ``InstanceData`` (e.g. a bottom-up head's predictions).

        Reads ``keypoints (N, K, 2)``, ``keypoint_scores (N, K)`` and, when present,
        ``bboxes (N, 4)`` and ``scores (N,)``; keeps the selected instances (every field is
        indexed) and writes the merged keypoints / keypoint scores back (also into
        ``keypoints_visible`` when that field exists). Tensors stay tensors, arrays stay arrays.

        Args:
            instances (InstanceData): predictions of ONE image.

        Returns:
            InstanceData: the kept instances, best first.
        """
        if 'keypoints' not in instances or 'keypoint_scores' not in instances:
            raise KeyError('ParametricPoseNMS.filter_instances: instances need "keypoints" and '
                           f'"keypoint_scores", got fields {list(instances.keys())}')
        kpts = instances.keypoints
        res = self(kpts[..., :2], instances.keypoint_scores, instances.get('bboxes'),
                   instances.get('scores'))
        kept = instances[res.keep.cpu()]
        as_input = (lambda t, ref: t.to(ref.device, ref.dtype)) if isinstance(kpts, Tensor) \
            else (lambda t, ref: t.cpu().numpy().astype(ref.dtype))
        new_kpts = as_input(res.keypoints, kpts)
        if kpts.shape[-1] > 2:  # keep extra coordinate columns (e.g. a z) of the kept poses
            new_kpts = torch.cat([new_kpts, kept.keypoints[..., 2:]], -1) \
                if isinstance(kpts, Tensor) else np.concatenate(
                    [new_kpts, kept.keypoints[..., 2:]], -1)
        kept.keypoints = new_kpts
        kept.keypoint_scores = as_input(res.keypoint_scores, instances.keypoint_scores)
        if 'keypoints_visible' in kept:
            kept.keypoints_visible = as_input(res.keypoint_scores, instances.keypoints_visible)
        return kept

    def _merge(self, ref_pose: Tensor, cluster_kpts: Tensor, cluster_scores: Tensor,
               ref_dist: Tensor) -> tuple:
        """Score-weighted merge of a cluster into its reference pose.

        Per keypoint n, members within ``min(ref_dist, merge_max_px)`` px of the reference take
        part with weights ``w = s / Σ s``; location ``Σ w·k``; score ``Σ w·s`` (or ``max s``).

        Args:
            ref_pose (Tensor): ``(K, 2)``.
            cluster_kpts (Tensor): ``(C, K, 2)``, includes the reference itself.
            cluster_scores (Tensor): ``(C, K)``.
            ref_dist (Tensor): scalar reference distance of the reference pose.

        Returns:
            tuple[Tensor, Tensor]: merged ``(K, 2)`` keypoints and ``(K,)`` scores.
        """
        radius = ref_dist.clamp(max=self.merge_max_px)
        inside = (cluster_kpts - ref_pose[None]).norm(dim=-1) <= radius  # (C, K)
        masked = cluster_scores * inside.to(cluster_scores.dtype)
        weights = masked / masked.sum(dim=0, keepdim=True)  # the reference is always inside
        merged_k = (weights[..., None] * cluster_kpts).sum(dim=0)
        if self.merge_score == 'max':
            merged_s = masked.max(dim=0).values
        else:
            merged_s = (weights * masked).sum(dim=0)
        return merged_k, merged_s

    @staticmethod
    def _check_inputs(keypoints: ArrayLike, keypoint_scores: ArrayLike,
                      bboxes: Optional[ArrayLike], scores: Optional[ArrayLike]) -> tuple:
        """Convert to float tensors on one device and validate the shapes."""
        kpts = torch.as_tensor(keypoints)
        device = kpts.device
        kpts = kpts.float()
        kpt_scores = torch.as_tensor(keypoint_scores, device=device).float()
        if kpts.dim() != 3 or kpts.shape[-1] != 2:
            raise ValueError('ParametricPoseNMS: keypoints must have shape (N, K, 2), got '
                             f'{tuple(kpts.shape)}')
        if tuple(kpt_scores.shape) != tuple(kpts.shape[:2]):
            raise ValueError('ParametricPoseNMS: keypoint_scores must have shape (N, K) = '
                             f'{tuple(kpts.shape[:2])}, got {tuple(kpt_scores.shape)}')
        n = kpts.shape[0]
        if bboxes is None:
            boxes = torch.cat([kpts.amin(dim=1), kpts.amax(dim=1)], dim=1) if n else \
                kpts.new_zeros((0, 4))
        else:
            boxes = torch.as_tensor(bboxes, device=device).float()
            if tuple(boxes.shape) != (n, 4):
                raise ValueError(f'ParametricPoseNMS: bboxes must have shape ({n}, 4) '
                                 f'(x1, y1, x2, y2), got {tuple(boxes.shape)}')
        if scores is None:
            inst_scores = kpt_scores.mean(dim=1) if n else kpts.new_zeros((0, ))
        else:
            inst_scores = torch.as_tensor(scores, device=device).float().reshape(-1)
            if inst_scores.numel() != n:
                raise ValueError(f'ParametricPoseNMS: scores must have {n} entries, got '
                                 f'{inst_scores.numel()}')
        if n and not (torch.isfinite(kpts).all() and torch.isfinite(kpt_scores).all()):
            raise ValueError('ParametricPoseNMS: keypoints / keypoint_scores contain NaN or inf')
        return kpts, kpt_scores, boxes, inst_scores
