"""Pose-guided proposal generator (PGPG, RMPE §3.4): fitting and sampling of box offsets.

Model: P(δB | atom(P)). Poses are normalised (centred on the torso, divided by the torso
length), clustered into atomic poses by k-means, and for every atom a diagonal Gaussian
mixture is fitted to the offsets between detected boxes and their ground-truth box,
``δ = ((x1_d − x1_g)/w_g, (y1_d − y1_g)/h_g, (x2_d − x2_g)/w_g, (y2_d − y2_g)/h_g)``.
"""
import json
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np

#: COCO-17 torso joints: (left/right shoulder), (left/right hip)
COCO_TORSO = ((5, 6), (11, 12))
#: AlphaPose's single-Gaussian DPG jitter: (mean, std) of δx1, δy1, δx2, δy2
ALPHAPOSE_DPG = ((-0.0142, 0.1158), (0.0043, 0.068), (0.0154, 0.1337), (-0.0013, 0.0711))


def normalise_pose(keypoints: np.ndarray, visible: np.ndarray, bbox_xyxy: np.ndarray,
                   torso: Sequence[Sequence[int]] = COCO_TORSO) -> Tuple[np.ndarray, np.ndarray]:
    """Torso-aligned pose: centred on the torso centre, divided by the torso length.

    Falls back to the visible-keypoint centroid and ``max(w, h) / 3`` of the box when the
    shoulders or hips are missing.

    Args:
        keypoints (np.ndarray): ``(K, 2)`` pixels.
        visible (np.ndarray): ``(K,)`` visibility (> 0 = labelled).
        bbox_xyxy (np.ndarray): ``(4,)`` ground-truth box.
        torso (Sequence): two groups of joint indices (shoulders, hips).

    Returns:
        tuple[np.ndarray, np.ndarray]: ``(K, 2)`` normalised pose (0 where invisible) and the
        ``(K,)`` bool mask.
    """
    vis = np.asarray(visible).reshape(-1) > 0
    kpts = np.asarray(keypoints, dtype=np.float64).reshape(-1, 2)
    if not vis.any():
        return np.zeros_like(kpts), vis
    mids = [kpts[list(g)][vis[list(g)]].mean(axis=0) for g in torso if vis[list(g)].any()]
    if len(mids) == 2 and np.linalg.norm(mids[0] - mids[1]) > 1e-3:
        centre, scale = (mids[0] + mids[1]) / 2, np.linalg.norm(mids[0] - mids[1])
    else:
        w, h = bbox_xyxy[2] - bbox_xyxy[0], bbox_xyxy[3] - bbox_xyxy[1]
        centre, scale = kpts[vis].mean(axis=0), max(w, h, 1e-3) / 3
    return np.where(vis[:, None], (kpts - centre) / scale, 0.0), vis


def masked_sq_dist(poses: np.ndarray, masks: np.ndarray, centres: np.ndarray,
                   centre_masks: np.ndarray) -> np.ndarray:
    """Mean squared joint distance over jointly labelled joints; inf when none are shared.

    Args:
        poses (np.ndarray): ``(N, K, 2)``; masks ``(N, K)`` bool.
        centres (np.ndarray): ``(A, K, 2)``; centre_masks ``(A, K)`` bool.

    Returns:
        np.ndarray: ``(N, A)``.
    """
    both = masks[:, None] & centre_masks[None]  # (N, A, K)
    sq = ((poses[:, None] - centres[None])**2).sum(-1) * both
    n = both.sum(-1)
    return np.where(n > 0, sq.sum(-1) / np.maximum(n, 1), np.inf)


def masked_kmeans(poses: np.ndarray, masks: np.ndarray, k: int, rng: np.random.Generator,
                  iters: int = 50) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """k-means (k-means++ start) of poses with missing joints.

    Returns:
        tuple: centres ``(k, K, 2)``, centre masks ``(k, K)``, labels ``(N,)``.
    """
    n = len(poses)
    k = min(k, n)
    idx = [int(rng.integers(n))]
    for _ in range(1, k):
        d = masked_sq_dist(poses, masks, poses[idx], masks[idx]).min(axis=1)
        d = np.where(np.isfinite(d), d, d[np.isfinite(d)].max(initial=1.0))
        p = d / d.sum() if d.sum() > 0 else np.full(n, 1.0 / n)
        idx.append(int(rng.choice(n, p=p)))
    centres, cmasks = poses[idx].copy(), masks[idx].copy()
    labels = np.full(n, -1)
    for _ in range(iters):
        new = masked_sq_dist(poses, masks, centres, cmasks).argmin(axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        for a in range(k):
            member = labels == a
            if not member.any():
                continue
            cnt = masks[member].sum(axis=0)
            cmasks[a] = cnt > 0
            total = (poses[member] * masks[member][..., None]).sum(0)
            centres[a] = total / np.maximum(cnt, 1)[:, None]
    return centres, cmasks, labels


def fit_diag_gmm(x: np.ndarray, n_components: int, rng: np.random.Generator, iters: int = 100,
                 min_var: float = 1e-4) -> Dict[str, list]:
    """EM for a Gaussian mixture with diagonal covariances.

    Args:
        x (np.ndarray): ``(N, D)`` samples, N ≥ 1.
        n_components (int): upper bound on the components (at most N // 2, at least 1).

    Returns:
        dict: ``weights (M,)``, ``means (M, D)``, ``vars (M, D)`` as lists.
    """
    n, d = x.shape
    m = max(1, min(n_components, n // 2))
    means = x[rng.choice(n, size=m, replace=False)].copy()
    var = np.tile(np.maximum(x.var(axis=0), min_var), (m, 1))
    weights = np.full(m, 1.0 / m)
    for _ in range(iters):
        log_p = (-0.5 * (((x[:, None] - means[None])**2) / var[None]
                         + np.log(2 * np.pi * var[None])).sum(-1) + np.log(weights[None]))
        log_p -= log_p.max(axis=1, keepdims=True)
        resp = np.exp(log_p)
        resp /= resp.sum(axis=1, keepdims=True)
        nk = resp.sum(axis=0) + 1e-10
        weights = nk / n
        means = resp.T @ x / nk[:, None]
        var = np.maximum(resp.T @ x**2 / nk[:, None] - means**2, min_var)
    return dict(weights=weights.tolist(), means=means.tolist(), vars=var.tolist())


def sample_gmm(gmm: Dict[str, list], rng: np.random.Generator, size: int = 1) -> np.ndarray:
    """Draw ``(size, D)`` samples from a :func:`fit_diag_gmm` mixture."""
    w = np.asarray(gmm['weights'], dtype=np.float64)
    comp = rng.choice(len(w), size=size, p=w / w.sum())
    mean, std = np.asarray(gmm['means'])[comp], np.sqrt(np.asarray(gmm['vars']))[comp]
    return mean + std * rng.standard_normal(mean.shape)


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of ``(4,)`` box ``a`` with ``(M, 4)`` boxes ``b`` (xyxy)."""
    lt, rb = np.maximum(a[:2], b[:, :2]), np.minimum(a[2:], b[:, 2:])
    inter = np.clip(rb - lt, 0, None).prod(axis=1)
    area_a = np.clip(a[2:] - a[:2], 0, None).prod()
    area_b = np.clip(b[:, 2:] - b[:, :2], 0, None).prod(axis=1)
    return inter / np.maximum(area_a + area_b - inter, 1e-9)


def fit_pgpg(ann_file: Union[str, Path], det_file: Union[str, Path], num_atoms: int = 4,
             num_components: int = 3, iou_thr: float = 0.5, min_visible: int = 4,
             torso: Sequence[Sequence[int]] = COCO_TORSO, seed: int = 0) -> dict:
    """Fit the PGPG model from COCO keypoint annotations and detections on the same images.

    Args:
        ann_file (str | Path): COCO keypoint annotation json (``bbox`` xywh, ``keypoints``).
        det_file (str | Path): COCO detection results json (``image_id``, ``bbox`` xywh).
        num_atoms (int): k of the k-means over normalised poses (atomic poses).
        num_components (int): Gaussian components per atom (capped by the atom's samples).
        iou_thr (float): a detection is an offset sample of a GT box when IoU ≥ this.
        min_visible (int): GT poses with fewer labelled keypoints are not used.
        torso (Sequence): shoulder and hip joint indices for the normalisation.
        seed (int): seed of the k-means++ start and the EM initialisation.

    Returns:
        dict: the JSON-serialisable model (see :func:`save_pgpg`).
    """
    with open(ann_file) as f:
        coco = json.load(f)
    with open(det_file) as f:
        dets = json.load(f)
    if 'annotations' not in coco:
        raise ValueError(f'{ann_file}: no "annotations" field (not a COCO annotation file)')
    if not isinstance(dets, list) or (dets and 'bbox' not in dets[0]):
        raise ValueError(f'{det_file}: expected a COCO detection results list with "bbox"')
    det_by_img: Dict[int, list] = {}
    for d in dets:
        x, y, w, h = d['bbox']
        det_by_img.setdefault(d['image_id'], []).append([x, y, x + w, y + h])
    poses, masks, offsets = [], [], []
    for ann in coco['annotations']:
        if ann.get('iscrowd', 0) or 'keypoints' not in ann:
            continue
        kp = np.asarray(ann['keypoints'], dtype=np.float64).reshape(-1, 3)
        if (kp[:, 2] > 0).sum() < min_visible:
            continue
        x, y, w, h = ann['bbox']
        gt = np.array([x, y, x + w, y + h])
        boxes = np.asarray(det_by_img.get(ann['image_id'], np.zeros((0, 4))), dtype=np.float64)
        matched = boxes[_iou(gt, boxes) >= iou_thr] if len(boxes) else boxes
        if not len(matched) or w <= 0 or h <= 0:
            continue
        pose, mask = normalise_pose(kp[:, :2], kp[:, 2], gt, torso)
        poses.append(pose)
        masks.append(mask)
        offsets.append((matched - gt) / np.array([w, h, w, h]))
    if not poses:
        raise ValueError(f'{ann_file} / {det_file}: no ground-truth pose with ≥ {min_visible} '
                         f'keypoints has a detection with IoU ≥ {iou_thr}')
    rng = np.random.default_rng(seed)
    poses_a, masks_a = np.stack(poses), np.stack(masks)
    centres, cmasks, labels = masked_kmeans(poses_a, masks_a, num_atoms, rng)
    all_offsets = np.concatenate(offsets)
    gmms = []
    for a in range(len(centres)):
        own = [o for o, lab in zip(offsets, labels) if lab == a]
        x = np.concatenate(own) if own else all_offsets
        gmms.append(fit_diag_gmm(x, num_components, rng))
    return dict(version=1, num_keypoints=int(poses_a.shape[1]),
                torso=[list(map(int, g)) for g in torso],
                atoms=centres.tolist(), atom_masks=cmasks.astype(int).tolist(),
                atom_gmms=gmms, global_gmm=fit_diag_gmm(all_offsets, num_components, rng),
                num_poses=len(poses), num_offsets=int(len(all_offsets)),
                atom_sizes=np.bincount(labels, minlength=len(centres)).tolist(),
                sources=dict(ann_file=str(ann_file), det_file=str(det_file), seed=seed))


def save_pgpg(model: dict, path: Union[str, Path]) -> None:
    """Write a fitted PGPG model as JSON."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, 'w') as f:
        json.dump(model, f)


def load_pgpg(path: Union[str, Path]) -> dict:
    """Read and validate a PGPG model written by :func:`save_pgpg`."""
    with open(path) as f:
        model = json.load(f)
    for key in ('num_keypoints', 'torso', 'atoms', 'atom_masks', 'atom_gmms', 'global_gmm'):
        if key not in model:
            raise ValueError(f'{path}: PGPG model has no field {key!r} (fit it with '
                             'tools/fit_pgpg.py)')
    if len(model['atoms']) != len(model['atom_gmms']):
        raise ValueError(f'{path}: {len(model["atoms"])} atoms but '
                         f'{len(model["atom_gmms"])} mixtures')
    return model


def assign_atom(model: dict, keypoints: np.ndarray, visible: np.ndarray,
                bbox_xyxy: np.ndarray, min_visible: int = 4) -> Optional[int]:
    """Index of the nearest atomic pose, or None (too few labelled joints / no overlap)."""
    if (np.asarray(visible) > 0).sum() < min_visible:
        return None
    pose, mask = normalise_pose(keypoints, visible, bbox_xyxy, model['torso'])
    d = masked_sq_dist(pose[None], mask[None], np.asarray(model['atoms']),
                       np.asarray(model['atom_masks'], dtype=bool))[0]
    return int(d.argmin()) if np.isfinite(d).any() else None
