"""Keypoint AP on subsets of a keypoint set (e.g. the 17 COCO points and the 9 added ones of Halpe-26).

OKS averages over the labelled keypoints of a person with per-keypoint sigmas, so the AP of a subset is the AP of
the same predictions and ground truth with the other keypoints removed and the subset's sigmas: the subset's
annotation dict is built once (``num_keypoints`` recounted, so people with no labelled point of the subset are
ignored by COCOeval as usual), and every prediction keeps its box score.
"""
import contextlib
import io
import json
from pathlib import Path
from typing import Dict, List, Mapping, Sequence

import numpy as np


def subset_annotations(data: Mapping, indices: Sequence[int]) -> Dict:
    """A COCO keypoint annotation dict restricted to the keypoints ``indices`` (skeleton dropped).

    Args:
        data: COCO keypoint annotations with K keypoints per person.
        indices: the kept keypoint indices, in their new order.

    Returns:
        dict: the same images and people with ``len(indices)`` keypoints each.
    """
    idx = list(indices)
    cats = [dict(c, keypoints=[c["keypoints"][i] for i in idx], skeleton=[]) for c in data["categories"]]
    anns = []
    for ann in data["annotations"]:
        kpts = np.asarray(ann["keypoints"], dtype=np.float64).reshape(-1, 3)[idx]
        anns.append(dict(ann, keypoints=kpts.reshape(-1).tolist(), num_keypoints=int((kpts[:, 2] > 0).sum())))
    return dict(data, annotations=anns, categories=cats)


def subset_results(results: List[dict], indices: Sequence[int]) -> List[dict]:
    """COCO results (``keypoints`` = K x (x, y, score)) restricted to ``indices``."""
    idx = list(indices)
    return [dict(r, keypoints=np.asarray(r["keypoints"], dtype=np.float64).reshape(-1, 3)[idx].reshape(-1).tolist())
            for r in results]


def oks_ap(gt: Mapping, results: List[dict], sigmas: Sequence[float]) -> float:
    """COCO keypoint AP (OKS with ``sigmas``, area-normalised) of ``results`` against the annotation dict ``gt``."""
    from xtcocotools.coco import COCO
    from xtcocotools.cocoeval import COCOeval

    if not results:
        return 0.0
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = json.loads(json.dumps(gt))
        coco.createIndex()
        dt = coco.loadRes(json.loads(json.dumps(results)))
        ev = COCOeval(coco, dt, "keypoints", np.asarray(sigmas, dtype=np.float64), use_area=True)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return float(max(ev.stats[0], 0.0))


class SubsetKeypointScore:
    """``results -> {'kpt AP <name>': AP}`` for named keypoint subsets of one annotation file (picklable).

    Args:
        ann_file: COCO keypoint annotations with all K keypoints.
        sigmas: (K,) OKS sigmas of the full set (the metric's, not the training loss').
        subsets: name -> keypoint indices. Results with fewer keypoints than K (a 17-keypoint model scored on the
            first 17 of 26) are scored on the subsets they cover only.
    """

    def __init__(self, ann_file: Path, sigmas: Sequence[float], subsets: Mapping[str, Sequence[int]],
                 with_box: bool = True) -> None:
        self.ann_file, self.sigmas, self.subsets = Path(ann_file), [float(s) for s in sigmas], dict(subsets)
        self.with_box = with_box
        self._gt: Dict[str, Dict] = {}

    def _subset_gt(self, name: str) -> Dict:
        if name not in self._gt:
            data = json.loads(self.ann_file.read_text())
            self._gt[name] = subset_annotations(data, self.subsets[name])
        return self._gt[name]

    def __call__(self, results: List[dict]) -> Dict[str, float]:
        k = len(results[0]["keypoints"]) // 3 if results else len(self.sigmas)
        out = {}
        for name, idx in self.subsets.items():
            if max(idx) >= k:
                continue
            out[f"kpt AP {name}"] = oks_ap(self._subset_gt(name), subset_results(results, idx),
                                           [self.sigmas[i] for i in idx])
        if self.with_box:
            from rtmo_plugin.evaluation.box_keypoint_ap import coco_ap

            out["box AP"] = coco_ap(self.ann_file, results, "bbox")["AP"]
        return out

    def __getstate__(self) -> Dict:
        return dict(self.__dict__, _gt={})


__all__ = ["SubsetKeypointScore", "oks_ap", "subset_annotations", "subset_results"]
