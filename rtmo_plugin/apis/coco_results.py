"""Predictions as COCO keypoint results (the format ``COCO.loadRes`` and COCO evaluation read)."""
import json
from pathlib import Path
from typing import Dict, List, Union

import numpy as np

from .inferencer import PosePrediction


def to_coco_results(pred: PosePrediction, image_id: Union[int, str], category_id: int = 1,
                    extra: Dict = None) -> List[Dict]:
    """One COCO result dict per instance.

    Fields: ``image_id``, ``category_id``, ``keypoints`` (flat ``[x1, y1, s1, ...]`` with the keypoint score as
    the third value), ``score`` (the RTMO instance score), ``bbox`` (``[x, y, w, h]``), plus ``extra``.

    Args:
        pred (PosePrediction): predictions of one image (image pixels).
        image_id (int | str): COCO image id (or a frame index / file stem).
        category_id (int): person category. Defaults to 1.
        extra (dict | None): fields copied into every entry (e.g. ``file_name``).

    Returns:
        list[dict]: JSON-serialisable entries.
    """
    entries = []
    for i in range(len(pred)):
        kpts = np.concatenate([pred.keypoints[i], pred.keypoint_scores[i][:, None]], axis=1)
        x1, y1, x2, y2 = (float(v) for v in pred.bboxes[i])
        entry = dict(image_id=image_id, category_id=category_id,
                     keypoints=[round(float(v), 3) for v in kpts.reshape(-1)],
                     score=round(float(pred.bbox_scores[i]), 5),
                     bbox=[round(x1, 2), round(y1, 2), round(x2 - x1, 2), round(y2 - y1, 2)])
        entry.update(extra or {})
        entries.append(entry)
    return entries


def write_json(entries: List[Dict], path: Union[str, Path]) -> Path:
    """Write result entries as a JSON list (parent folders created)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(entries))
    return path
