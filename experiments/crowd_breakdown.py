"""Box AP and keypoint AP per crowd size: the images of a split grouped by how many people they annotate.

The demo's images hold 1 to ``max_people`` figures. A single keypoint AP hides how much of it the crowded images
cost; this splits the split (``make demo`` reports it as ``ap_by_people`` in ``summary.json``).
"""
import json
import tempfile
from pathlib import Path
from typing import Dict, List

from rtmo_plugin.evaluation import box_and_keypoint_ap


def images_by_people_count(annotations: dict) -> Dict[int, List[int]]:
    """Image ids of a COCO annotation dict grouped by their number of annotated people.

    Args:
        annotations: a loaded COCO keypoint annotation file (``images``, ``annotations``).

    Returns:
        dict: ``{people: [image ids]}``, sorted by the count; images without people are under 0.
    """
    counts = {img["id"]: 0 for img in annotations["images"]}
    for ann in annotations["annotations"]:
        if ann["image_id"] not in counts:
            raise ValueError(f"annotation {ann.get('id')} refers to image_id {ann['image_id']}, which is not in "
                             "'images'")
        counts[ann["image_id"]] += 1
    groups: Dict[int, List[int]] = {}
    for image_id, n in counts.items():
        groups.setdefault(n, []).append(image_id)
    return dict(sorted(groups.items()))


def ap_by_people_count(ann_file: Path, results: List[dict]) -> Dict[str, Dict[str, float]]:
    """COCO box AP and keypoint AP of ``results`` on each group of :func:`images_by_people_count`.

    Args:
        ann_file: COCO keypoint annotation json of the split.
        results: COCO result dicts of the same split (see :func:`~rtmo_plugin.evaluation.to_coco_results`).

    Returns:
        dict: ``{"<people>": {"images", "people", "kpt_AP", "kpt_AP50", "box_AP"}}`` for every count > 0.
    """
    data = json.loads(Path(ann_file).read_text())
    report: Dict[str, Dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n, ids in images_by_people_count(data).items():
            if n == 0:
                continue
            keep = set(ids)
            subset = dict(data, images=[im for im in data["images"] if im["id"] in keep],
                          annotations=[a for a in data["annotations"] if a["image_id"] in keep])
            subset_file = Path(tmp) / f"people_{n}.json"
            subset_file.write_text(json.dumps(subset))
            preds = [r for r in results if r["image_id"] in keep]
            ap = box_and_keypoint_ap(subset_file, preds)
            report[str(n)] = dict(images=float(len(ids)), people=float(n * len(ids)), kpt_AP=ap["kpt_AP"],
                                  kpt_AP50=ap["kpt_AP50"], box_AP=ap["box_AP"])
    return report
