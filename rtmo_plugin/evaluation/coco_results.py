"""Pose predictions as COCO keypoint results (the format ``COCO.loadRes`` and COCO evaluation read)."""
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np


def _rounded(values: np.ndarray, decimals: Optional[int]) -> List[float]:
    """Plain floats, rounded to ``decimals`` unless it is None."""
    return [float(v) if decimals is None else round(float(v), decimals) for v in values]


def to_coco_results(pred: Any, image_id: Union[int, str], category_id: int = 1, extra: Optional[Dict] = None,
                    decimals: Optional[int] = 3) -> List[Dict]:
    """One COCO result dict per predicted instance.

    Fields: ``image_id``, ``category_id``, ``keypoints`` (flat ``[x1, y1, s1, ...]`` with the keypoint score as
    the third value), ``score`` (the RTMO instance score, i.e. the box score), ``bbox`` (``[x, y, w, h]``), plus
    ``extra``. Instances with a non-finite box, keypoint, keypoint score or score (an untrained model can
    produce them) are left out: COCO evaluation counts a NaN OKS as a match, so a NaN pose would score as a perfect one.

    Args:
        pred: the instances of one image in image pixels, anything with ``keypoints (N, K, 2)``,
            ``keypoint_scores (N, K)``, ``bboxes (N, 4)`` xyxy and ``bbox_scores (N,)``
            (:class:`~rtmo_plugin.apis.PosePrediction`, or the ``pred_instances`` of a ``PoseDataSample``).
        image_id (int | str): COCO image id (or a frame index / file stem).
        category_id (int): person category. Defaults to 1.
        extra (dict, optional): fields copied into every entry (e.g. ``file_name``). Defaults to None.
        decimals (int, optional): round coordinates and scores to this many decimals for a compact file;
            None keeps full precision (evaluation). Defaults to 3.

    Returns:
        list[dict]: JSON-serialisable entries.
    """
    keypoints = np.asarray(pred.keypoints, dtype=np.float64)
    if len(keypoints) == 0:
        return []
    keypoints = keypoints.reshape(len(keypoints), -1, 2)
    keypoint_scores = np.asarray(pred.keypoint_scores, dtype=np.float64).reshape(len(keypoints), -1)
    bboxes = np.asarray(pred.bboxes, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(pred.bbox_scores, dtype=np.float64).reshape(-1)
    entries = []
    for kpts, kscores, box, score in zip(keypoints, keypoint_scores, bboxes, scores):
        if not (np.isfinite(kpts).all() and np.isfinite(kscores).all() and np.isfinite(box).all()
                and np.isfinite(score)):
            continue
        flat = np.concatenate([kpts, kscores[:, None]], axis=1).reshape(-1)
        entry = dict(image_id=image_id, category_id=category_id, keypoints=_rounded(flat, decimals),
                     score=_rounded([score], None if decimals is None else decimals + 2)[0],
                     bbox=_rounded([box[0], box[1], box[2] - box[0], box[3] - box[1]],
                                   None if decimals is None else decimals - 1))
        entry.update(extra or {})
        entries.append(entry)
    return entries


def data_samples_to_coco_results(samples: Sequence[Any]) -> List[Dict]:
    """COCO results at full precision from the ``PoseDataSample`` outputs of ``model.test_step``.

    Args:
        samples: data samples with ``pred_instances`` (see :func:`to_coco_results`) and ``img_id`` metainfo.

    Returns:
        list[dict]: the entries of all samples.
    """
    results: List[Dict] = []
    for sample in samples:
        results += to_coco_results(sample.pred_instances, int(sample.metainfo["img_id"]), decimals=None)
    return results


def write_json(entries: List[Dict], path: Union[str, Path]) -> Path:
    """Write result entries as a JSON list (parent folders created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(entries))
    return path
