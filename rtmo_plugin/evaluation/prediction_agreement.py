"""Agreement of two sets of pose predictions on the same images (e.g. an INT8 model against its float32 source).

Per instance of the reference predictions: the best object keypoint similarity (OKS, COCO's formula) to any
instance the other model predicted on the same image, 0 when it predicted none; the scale is the reference box
area. This measures how far a lower-precision model moves the poses, independently of ground truth.
"""
from typing import Any, Dict, Optional, Sequence

import numpy as np

#: COCO's 17 per-keypoint OKS constants (sigmas)
COCO_SIGMAS = np.array([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89]) / 10


def pairwise_oks(ref_keypoints: np.ndarray, ref_boxes: np.ndarray, other_keypoints: np.ndarray,
                 sigmas: Optional[np.ndarray] = None) -> np.ndarray:
    """OKS of every reference instance against every other instance (all keypoints counted).

    Args:
        ref_keypoints (np.ndarray): ``(N, K, 2)``.
        ref_boxes (np.ndarray): ``(N, 4)`` xyxy, their area is the OKS scale.
        other_keypoints (np.ndarray): ``(M, K, 2)``.
        sigmas (np.ndarray | None): ``(K,)``; COCO's when K == 17 and None, else 0.1 for every keypoint.

    Returns:
        np.ndarray: ``(N, M)`` OKS in [0, 1].
    """
    num_keypoints = ref_keypoints.shape[1]
    if sigmas is None:
        sigmas = COCO_SIGMAS if num_keypoints == 17 else np.full(num_keypoints, 0.1)
    area = np.clip((ref_boxes[:, 2] - ref_boxes[:, 0]) * (ref_boxes[:, 3] - ref_boxes[:, 1]), 1e-6, None)  # (N,)
    dist2 = ((ref_keypoints[:, None] - other_keypoints[None]) ** 2).sum(-1)  # (N, M, K)
    var = (2 * sigmas) ** 2  # (K,)
    return np.exp(-dist2 / (2 * area[:, None, None] * var)).mean(-1)


def instance_agreement(reference: Sequence[Any], other: Sequence[Any],
                       sigmas: Optional[np.ndarray] = None) -> Dict[str, float]:
    """How closely ``other`` reproduces ``reference``, image by image.

    Args:
        reference (Sequence): per image, predictions with ``keypoints (N, K, 2)``, ``bboxes (N, 4)``,
            ``bbox_scores (N,)`` (:class:`~rtmo_plugin.apis.PosePrediction`).
        other (Sequence): the same images, the other model.
        sigmas (np.ndarray | None): ``(K,)`` OKS constants (see :func:`pairwise_oks`).

    Returns:
        dict[str, float]: ``instances`` (reference count), ``other_instances``, ``oks_median``, ``oks_p5``,
        ``oks_mean`` (best-match OKS per reference instance) and ``score_abs_diff_median`` (instance score
        difference of each reference instance and its best match; unmatched ones count their full score).
    """
    if len(reference) != len(other):
        raise ValueError(f"reference has {len(reference)} images, other {len(other)}")
    best, score_diff = [], []
    other_count = 0
    for ref, oth in zip(reference, other):
        other_count += len(oth.bbox_scores)
        if len(ref.bbox_scores) == 0:
            continue
        if len(oth.bbox_scores) == 0:
            best.extend([0.0] * len(ref.bbox_scores))
            score_diff.extend(np.abs(ref.bbox_scores).tolist())
            continue
        oks = pairwise_oks(np.asarray(ref.keypoints, np.float64), np.asarray(ref.bboxes, np.float64),
                           np.asarray(oth.keypoints, np.float64), sigmas)
        match = oks.argmax(1)
        best.extend(oks.max(1).tolist())
        score_diff.extend(np.abs(np.asarray(ref.bbox_scores) - np.asarray(oth.bbox_scores)[match]).tolist())
    values = np.asarray(best, np.float64)
    if values.size == 0:
        return dict(instances=0.0, other_instances=float(other_count), oks_median=float("nan"),
                    oks_p5=float("nan"), oks_mean=float("nan"), score_abs_diff_median=float("nan"))
    return dict(instances=float(values.size), other_instances=float(other_count),
                oks_median=float(np.median(values)), oks_p5=float(np.percentile(values, 5)),
                oks_mean=float(values.mean()), score_abs_diff_median=float(np.median(score_diff)))
