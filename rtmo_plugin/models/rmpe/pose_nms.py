"""Parametric pose NMS of RMPE (Fang et al., ICCV 2017, §3.3) as used by AlphaPose.

Greedy elimination: the highest-ranked remaining pose P_i is the reference; every remaining
pose P_j with

    d(P_i, P_j) = K_sim(P_i, P_j | σ1) + λ · H_sim(P_i, P_j | σ2) > η

or (AlphaPose's extra criterion) with at least ``match_thr`` keypoints closer than
``min(α · max(w_i, h_i), 7)`` pixels is eliminated and merged into P_i (score-weighted mean of
the cluster's keypoints lying within ``α · max(w_i, h_i)`` px of P_i's keypoint, capped at
15 px in the COCO procedures and uncapped in the MPII one).

    K_sim = Σ_n tanh(c_i^n / σ1) · tanh(c_j^n / σ1) · 1[dist_n ≤ 1]
    H_sim = Σ_n exp(-dist_n / σ2)

``dist_n`` is ``‖k_i^n − k_j^n‖ / (α · max(w_i, h_i))`` in the ``'box'`` normalisation (the
paper's box B(k_i^n) and the original RMPE code) and the raw pixel distance in the ``'pixel'``
normalisation (current AlphaPose).

Which original procedure each preset and normalisation follows: see :class:`ParametricPoseNMS`.
"""
from typing import NamedTuple, Optional, Tuple, Union

import numpy as np
import torch
from mmengine.structures import InstanceData
from mmpose.registry import TASK_UTILS
from torch import Tensor

ArrayLike = Union[Tensor, np.ndarray]

#: constants of the RMPE / AlphaPose COCO procedures (all verified in AlphaPose's code): merge
#: radius capped at 15 px; output if the max keypoint score is >= 0.3 before and after merging
COCO_PARAMS = dict(sigma1=1.0, lambda_=1.7, sigma2=2.65, eta=22.48, match_thr=5, alpha=0.1,
                   score_thr=0.3, merge_score='weighted', merge_max_px=15.0,
                   output_filter='max', min_joints=3)
#: the original MPII procedure: no PCK criterion, merged keypoint score = max, no cap on the
#: merge radius α·max(w, h), output if >= 3 joints have a pre-merge score > 0.3
MPII_PARAMS = dict(sigma1=0.01, lambda_=2.08, sigma2=2.08, eta=22.48, match_thr=None, alpha=0.1,
                   score_thr=0.3, merge_score='max', merge_max_px=None,
                   output_filter='count', min_joints=3)
#: accepted values of ``rank_dtype``
_RANK_DTYPES = {'float32': torch.float32, 'float64': torch.float64}


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

    Which original procedure a configuration follows, with ``rank_by='keypoint_mean'``,
    ``merge=True``, ``min_area=0`` and ``pck_max_px=7`` (the defaults):

    - ``preset='coco'`` (the constructor defaults) with ``normalisation='box'``: the original
      RMPE COCO procedure, ``predict/json/parametric-pose-nms-COCO.py`` of AlphaPose's old
      Lua/Torch master. Its output steps are not reproduced: it shifts the written keypoints by
      −0.25 px and writes its own proposal score.
    - ``preset='coco'`` with ``normalisation='pixel'``: current AlphaPose's COCO-17 body pose
      NMS (``pose_nms`` in ``alphapose/utils/pPose_nms.py``), not its whole-body 133/136
      keypoint path.
    - ``preset='mpii'`` with ``normalisation='box'``: the original RMPE MPII procedure,
      ``predict/json/parametric-pose-nms-MPII.py`` of the same old master. It has no PCK
      criterion, an uncapped merge radius α·max(w, h), the max as merged score, and outputs a
      pose when at least 3 of its joints have a pre-merge score above 0.3. Not reproduced: it
      writes integer-truncated coordinates. ``'pixel'`` with ``preset='mpii'`` has no original.
    - Ranking precision: both original RMPE scripts rank by numpy's float64 mean keypoint score
      (given float64 data), current AlphaPose by torch's float32 mean (the default here). The
      float32 key can order means closer than about 1e-7 differently from the originals;
      ``rank_dtype='float64'`` computes their key. The pairwise terms, thresholds and merge
      stay float32 in every mode.

    Args:
        sigma1 (float): σ1, tanh temperature of the soft keypoint matching K_sim.
        lambda_ (float): λ, weight of the spatial term H_sim.
        sigma2 (float): σ2, length scale of the spatial term.
        eta (float): η, similarity above which a pose is eliminated.
        match_thr (int, optional): AlphaPose's matchThreds; a pose with at least this many
            keypoints within ``min(α·max(w, h), pck_max_px)`` px of the reference is also
            eliminated. ``None`` disables the criterion (MPII procedure).
        alpha (float): α, reference distance ``α · max(w, h)`` of the reference pose's box.
        score_thr (float): scoreThreds, the keypoint score of the output filter.
        normalisation (str): ``'box'`` (paper / original RMPE code, distances divided by
            ``α·max(w, h)``) or ``'pixel'`` (current AlphaPose, raw pixel distances).
        rank_by (str): order of the greedy picks: ``'keypoint_mean'`` (AlphaPose: mean keypoint
            score) or ``'score'`` (the ``scores`` argument, e.g. a detector/head score).
        merge (bool): merge each eliminated cluster into its reference pose; if False the
            kept poses are returned unchanged.
        merge_score (str): merged keypoint score, ``'weighted'`` (Σ s·w with w = s/Σs, AlphaPose
            COCO) or ``'max'`` (original MPII code).
        pck_max_px (float): cap in pixels of the PCK radius (7 in AlphaPose).
        merge_max_px (float, optional): cap in pixels of the merge radius α·max(w, h) (15 in
            the COCO procedures); ``None`` means no cap (original MPII procedure).
        output_filter (str): which kept poses are output. ``'max'``: the max keypoint score is
            at least ``score_thr`` both before and after merging (COCO procedures).
            ``'count'``: at least ``min_joints`` keypoints have a pre-merge score strictly
            above ``score_thr`` (original MPII procedure). A reference that fails the filter
            still removes its cluster.
        min_joints (int): the joint count of ``output_filter='count'`` (3 in the MPII code).
        min_area (float): drop a merged pose if ``1.5² ·`` (area of its keypoint extent) is
            below this (AlphaPose ``--min_box_area``, default 0 = off).
        rank_dtype (str | torch.dtype): dtype of the ranking key (the mean keypoint score or
            ``scores``): ``'float32'`` (default, as current AlphaPose) or ``'float64'`` (as the
            original RMPE code: computed from the inputs as given, the mean with numpy on the
            CPU). The pairwise terms and the merge stay float32.
        chunk_size (int): references per vectorised block of the pairwise terms (memory
            ``chunk_size · N · K``); does not change the result.
        preset (str, optional): ``'coco'`` or ``'mpii'`` loads that constant set (σ1, λ, σ2,
            η, match_thr, α, score_thr, merge_score, merge_max_px, output_filter,
            min_joints; :data:`COCO_PARAMS`, :data:`MPII_PARAMS`), overriding those arguments.
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
                 merge_max_px: Optional[float] = 15.0,
                 output_filter: str = 'max',
                 min_joints: int = 3,
                 min_area: float = 0.0,
                 rank_dtype: Union[str, torch.dtype] = 'float32',
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
            merge_score, merge_max_px = p['merge_score'], p['merge_max_px']
            output_filter, min_joints = p['output_filter'], p['min_joints']
        for name, value, choices in (('normalisation', normalisation, ('box', 'pixel')),
                                     ('rank_by', rank_by, ('keypoint_mean', 'score')),
                                     ('merge_score', merge_score, ('weighted', 'max')),
                                     ('output_filter', output_filter, ('max', 'count'))):
            if value not in choices:
                raise ValueError(f'ParametricPoseNMS: {name} must be one of {choices}, got {value!r}')
        if min_joints < 1:
            raise ValueError(f'ParametricPoseNMS: min_joints must be >= 1, got {min_joints}')
        for name, value in (('sigma1', sigma1), ('sigma2', sigma2), ('alpha', alpha)):
            if not value > 0:
                raise ValueError(f'ParametricPoseNMS: {name} must be > 0, got {value}')
        if merge_max_px is not None and not merge_max_px > 0:
            raise ValueError('ParametricPoseNMS: merge_max_px must be > 0 or None, got '
                             f'{merge_max_px}')
        dtypes = {**_RANK_DTYPES, **{v: v for v in _RANK_DTYPES.values()}}
        if rank_dtype not in dtypes:
            raise ValueError("ParametricPoseNMS: rank_dtype must be 'float32' or 'float64', "
                             f'got {rank_dtype!r}')
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
        self.merge_max_px = None if merge_max_px is None else float(merge_max_px)
        self.output_filter = output_filter
        self.min_joints = int(min_joints)
        self.min_area = float(min_area)
        self.rank_dtype = dtypes[rank_dtype]
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

        rank_key = self._rank_key(keypoint_scores, scores, kpt_scores, inst_scores)
        # stable descending sort so equal keys keep the input order (np.argmax in the originals)
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
            if self.output_filter == 'count':
                # MPII: at least min_joints pre-merge keypoint scores strictly above scoreThreds
                if int((kpt_scores[i] > self.score_thr).sum()) < self.min_joints:
                    continue
            elif kpt_scores[i].max() < self.score_thr:
                continue
            if self.merge:
                merged_k, merged_s = self._merge(kpts[i], kpts[cluster], kpt_scores[cluster],
                                                 ref_dist[i])
            else:
                merged_k, merged_s = kpts[i], kpt_scores[i]
            if self.output_filter == 'max' and merged_s.max() < self.score_thr:
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

    def _rank_key(self, keypoint_scores: ArrayLike, scores: Optional[ArrayLike],
                  kpt_scores: Tensor, inst_scores: Tensor) -> Tensor:
        """Key of the greedy order, in ``rank_dtype``.

        Args:
            keypoint_scores (Tensor | np.ndarray): ``(N, K)`` the caller's keypoint scores.
            scores (Tensor | np.ndarray, optional): ``(N,)`` the caller's instance scores.
            kpt_scores (Tensor): ``(N, K)`` float32 keypoint scores, zeros already set to 1e-5.
            inst_scores (Tensor): ``(N,)`` float32 instance scores (see ``_check_inputs``).

        Returns:
            Tensor: ``(N,)`` the mean keypoint score (AlphaPose's human score, zeros counted as
            1e-5) or the instance score. In float64 it is on the CPU, computed from the inputs
            as given (never rounded to float32 first), and the mean is numpy's, as in the
            original code: torch sums in another order, so means that are equal in exact
            arithmetic can come out one ulp apart the other way round.
        """
        if self.rank_dtype == torch.float32:
            return kpt_scores.mean(dim=1) if self.rank_by == 'keypoint_mean' else inst_scores
        if self.rank_by == 'score' and scores is not None:
            return torch.as_tensor(scores).detach().cpu().to(self.rank_dtype).reshape(-1)
        raw = torch.as_tensor(keypoint_scores).detach().cpu().to(torch.float64).numpy()
        if self.rank_by == 'keypoint_mean':  # AlphaPose's zero -> 1e-5 before the mean
            raw = np.where(raw == 0, 1e-5, raw)
        # rank_by='score' with scores=None: the plain mean keypoint score, as inst_scores
        return torch.from_numpy(raw.mean(axis=1))

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

        Per keypoint n, members within ``min(ref_dist, merge_max_px)`` px (``ref_dist`` when
        ``merge_max_px`` is None) of the reference take part with weights ``w = s / Σ s``;
        location ``Σ w·k``; score ``Σ w·s`` (or ``max s``).

        Args:
            ref_pose (Tensor): ``(K, 2)``.
            cluster_kpts (Tensor): ``(C, K, 2)``, includes the reference itself.
            cluster_scores (Tensor): ``(C, K)``.
            ref_dist (Tensor): scalar reference distance of the reference pose.

        Returns:
            tuple[Tensor, Tensor]: merged ``(K, 2)`` keypoints and ``(K,)`` scores.
        """
        # merge radius α·max(w, h), capped at 15 px in the COCO procedures, uncapped in MPII
        radius = ref_dist if self.merge_max_px is None else ref_dist.clamp(max=self.merge_max_px)
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
