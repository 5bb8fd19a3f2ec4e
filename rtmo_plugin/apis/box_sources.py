"""Person-box sources for RMPE's top-down stage: detection files, ground truth (optionally jittered), RTMO.

A box source is called like the inferencers, on a batch of BGR images and their names, and returns one
:class:`PersonBoxes` per image::

    source = DetectionFileBoxes('dets.json', ann_file='test_coco.json')
    boxes = source(images, names=['000000000785.jpg', ...])
    boxes[0].bboxes   # (N, 4) float32 x1 y1 x2 y2, image pixels
    boxes[0].scores   # (N,) float32

File-based sources find an image by its file name: through the ``images`` list of a COCO annotation file
(``file_name`` compared by its base name), or, without one, by the numeric file stem as the COCO image id
(``000000000785.jpg`` -> 785, as ``tools/demo.py`` numbers its JSON).
"""
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np

from ..datasets.transforms.pose_guided_proposals import PoseGuidedProposals

#: the ``spec`` forms of :func:`box_source_from_spec`
BOX_SOURCE_SPECS = "DETECTIONS.json | gt | rtmo:CONFIG[:CHECKPOINT]"


@dataclass
class PersonBoxes:
    """The person proposals of one image.

    Attributes:
        bboxes (np.ndarray): ``(N, 4)`` float32 x1 y1 x2 y2 in image pixels.
        scores (np.ndarray): ``(N,)`` float32 detection scores.
    """

    bboxes: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return int(self.scores.shape[0])

    @classmethod
    def empty(cls) -> "PersonBoxes":
        return cls(np.zeros((0, 4), np.float32), np.zeros((0,), np.float32))


def _read_json(path: Union[str, Path], what: str) -> Any:
    """Parse a JSON file; a missing or unreadable file raises an error naming it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: {path}")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{what} {path}: not valid JSON ({err})") from err


def _xywh_box(entry: Dict, path: Path, index: int, field: str) -> np.ndarray:
    """``entry[field]`` (COCO ``[x, y, w, h]``) as a ``(4,)`` xyxy box; errors name the file, entry and field."""
    box = entry.get(field) if isinstance(entry, dict) else None
    try:
        x, y, w, h = (float(v) for v in box)
    except (TypeError, ValueError):
        raise ValueError(f"{path}: entry {index} has no valid '{field}' [x, y, w, h], got {box!r}") from None
    if not (np.isfinite([x, y, w, h]).all() and w > 0 and h > 0):
        raise ValueError(f"{path}: entry {index} '{field}' {box!r} must be finite with w > 0 and h > 0")
    return np.array([x, y, x + w, y + h], dtype=np.float32)


def _image_id_field(entry: Any, path: Path, index: int) -> int:
    if not isinstance(entry, dict) or not isinstance(entry.get("image_id"), int):
        raise ValueError(f"{path}: entry {index} has no integer 'image_id'")
    return int(entry["image_id"])


class _ImageIndex:
    """File name -> COCO image id, from an annotation file's ``images`` list or from numeric file stems.

    Args:
        ann_file (str | Path, optional): COCO annotation file; None matches by numeric file stem.
    """

    def __init__(self, ann_file: Optional[Union[str, Path]] = None) -> None:
        self.ann_file = None if ann_file is None else Path(ann_file)
        self.ids: Dict[str, int] = {}
        self.sizes: Dict[int, tuple] = {}  # image id -> (h, w)
        self.annotations: List[Dict] = []
        if self.ann_file is None:
            return
        data = _read_json(self.ann_file, "annotation file")
        if not isinstance(data, dict) or not isinstance(data.get("images"), list):
            raise ValueError(f"annotation file {self.ann_file}: no 'images' list (not a COCO annotation file)")
        for index, image in enumerate(data["images"]):
            if not isinstance(image, dict) or not isinstance(image.get("id"), int) or \
                    not isinstance(image.get("file_name"), str):
                raise ValueError(f"annotation file {self.ann_file}: images[{index}] needs an integer 'id' and a "
                                 "'file_name'")
            self.ids[Path(image["file_name"]).name] = image["id"]
            if isinstance(image.get("height"), int) and isinstance(image.get("width"), int):
                self.sizes[image["id"]] = (image["height"], image["width"])
        annotations = data.get("annotations", [])
        if not isinstance(annotations, list):
            raise ValueError(f"annotation file {self.ann_file}: 'annotations' is not a list")
        self.annotations = annotations

    def lookup(self, name: Optional[str], source: Path) -> int:
        """The image id of the file ``name``; an unknown image raises a ``KeyError`` naming ``source``."""
        if name is None:
            raise ValueError(f"boxes from {source} are looked up by image file name: call the inferencer with "
                             "names=[...] (tools/demo.py passes the file names)")
        base = Path(name).name
        if self.ann_file is not None:
            if base not in self.ids:
                raise KeyError(f"image {base!r} is not in the images of {self.ann_file} (boxes from {source})")
            return self.ids[base]
        stem = Path(base).stem
        if not stem.isdigit():
            raise KeyError(f"image {base!r}: without an annotation file, boxes from {source} are matched by a "
                           "numeric file stem (the COCO image id); pass the annotation file")
        return int(stem)


class _FileBoxes:
    """Boxes read from a file and looked up per image by its file name (subclasses fill ``boxes_of``)."""

    index: "_ImageIndex"
    source: Path

    def boxes_of(self, image_id: int) -> PersonBoxes:
        raise NotImplementedError

    def __call__(self, images: Sequence[np.ndarray], names: Optional[Sequence[Optional[str]]] = None
                 ) -> List[PersonBoxes]:
        """The boxes of each image.

        Args:
            images (Sequence[np.ndarray]): the images (only their number is used).
            names (Sequence[str], optional): their file names, which select the boxes.

        Returns:
            list[PersonBoxes]: one per image.
        """
        return [self.boxes_of(self.index.lookup(name, self.source))
                for name in (names if names is not None else [None] * len(images))]


class DetectionFileBoxes(_FileBoxes):
    """Boxes from a COCO-style detection results file (e.g. ``test_coco_det_AP_H_56.json``).

    The file is a JSON list of ``{"image_id": int, "bbox": [x, y, w, h], "score": float, "category_id": 1}``;
    entries of other categories are skipped. An image that is known (listed in ``ann_file``) but has no
    detection gets no boxes.

    Args:
        det_file (str | Path): the detection results.
        ann_file (str | Path, optional): COCO annotation file whose ``images`` map file names to ids; None
            matches numeric file stems as ids.
        category_id (int): the person category. Defaults to 1.
    """

    def __init__(self, det_file: Union[str, Path], ann_file: Optional[Union[str, Path]] = None,
                 category_id: int = 1) -> None:
        self.det_file = self.source = Path(det_file)
        entries = _read_json(self.det_file, "detection file")
        if not isinstance(entries, list):
            raise ValueError(f"detection file {self.det_file}: expected a JSON list of detections, got "
                             f"{type(entries).__name__}")
        self.index = _ImageIndex(ann_file)
        self.boxes: Dict[int, List[np.ndarray]] = {}
        self.scores: Dict[int, List[float]] = {}
        for i, entry in enumerate(entries):
            image_id = _image_id_field(entry, self.det_file, i)
            if entry.get("category_id", category_id) != category_id:
                continue
            score = entry.get("score")
            if not isinstance(score, (int, float)) or not np.isfinite(score):
                raise ValueError(f"{self.det_file}: entry {i} has no finite 'score', got {score!r}")
            self.boxes.setdefault(image_id, []).append(_xywh_box(entry, self.det_file, i, "bbox"))
            self.scores.setdefault(image_id, []).append(float(score))

    def boxes_of(self, image_id: int) -> PersonBoxes:
        """The detections of one image, in file order."""
        if image_id not in self.boxes:
            return PersonBoxes.empty()
        return PersonBoxes(np.stack(self.boxes[image_id]), np.asarray(self.scores[image_id], np.float32))


class GroundTruthBoxes(_FileBoxes):
    """Ground-truth person boxes of a COCO annotation file, optionally jittered like a detector.

    Every non-crowd person annotation with a box of positive size gives a box with score 1. With ``jitter``,
    each box is moved by offsets drawn as in AlphaPose's ``addDPG`` without its sub-patch branch (the single
    Gaussian of RMPE's PGPG in AlphaPose's code), in fractions of the box's
    width w and height h: x1 += N(−0.0142, 0.1158)·w, y1 += N(0.0043, 0.068)·h, x2 += N(0.0154, 0.1337)·w,
    y2 += N(−0.0013, 0.0711)·h; PGPG models these as the offsets between detected and ground-truth boxes.
    Boxes are then clipped to the image (when the annotation file gives its size) and kept at least 2 px wide
    and high. The draw of an image depends only on ``(seed, image id)``, not on the call order.

    Args:
        ann_file (str | Path): COCO annotation file.
        jitter (bool): jitter the boxes. Defaults to False.
        seed (int): seed of the jitter. Defaults to 0.
        subpatch_prob (float): probability of ``addDPG``'s random sub-patch (relative size U(0.85, 1)) instead
            of the Gaussian; 0 by default, since that branch is a training augmentation, not a detector error.
        proposals_per_person (int): boxes per person, each with its own jitter draw: a detector run at a low
            confidence threshold proposes each person several times, and RMPE's pose NMS removes the redundant
            poses. Without ``jitter`` the copies are identical. Defaults to 1.
    """

    def __init__(self, ann_file: Union[str, Path], jitter: bool = False, seed: int = 0,
                 subpatch_prob: float = 0.0, proposals_per_person: int = 1) -> None:
        if int(proposals_per_person) < 1:
            raise ValueError(f"proposals_per_person must be >= 1, got {proposals_per_person}")
        self.index = _ImageIndex(ann_file)
        self.proposals_per_person = int(proposals_per_person)
        self.source = self.index.ann_file
        self.jitter = bool(jitter)
        self.seed = int(seed)
        self.subpatch_prob = float(subpatch_prob)
        self.boxes: Dict[int, List[np.ndarray]] = {}
        for i, ann in enumerate(self.index.annotations):
            image_id = _image_id_field(ann, self.index.ann_file, i)
            if ann.get("category_id", 1) != 1 or ann.get("iscrowd", 0):
                continue
            bbox = ann.get("bbox")
            if isinstance(bbox, list) and len(bbox) == 4 and all(isinstance(v, (int, float)) for v in bbox) \
                    and (bbox[2] <= 0 or bbox[3] <= 0):
                continue  # an empty box marks an unboxed person
            self.boxes.setdefault(image_id, []).append(_xywh_box(ann, self.index.ann_file, i, "bbox"))

    def _jittered(self, boxes: np.ndarray, image_id: int) -> np.ndarray:
        seed = int(np.random.SeedSequence([self.seed, image_id]).generate_state(1)[0])
        results = dict(bbox=boxes.copy())
        if image_id in self.index.sizes:
            results["img_shape"] = self.index.sizes[image_id]
        pgpg = PoseGuidedProposals(mode="simple", patch_prob=self.subpatch_prob, seed=seed)
        return pgpg.transform(results)["bbox"].astype(np.float32)

    def boxes_of(self, image_id: int) -> PersonBoxes:
        """The (jittered) ground-truth boxes of one image, score 1 (``proposals_per_person`` per person, in a row)."""
        if image_id not in self.boxes:
            return PersonBoxes.empty()
        boxes = np.repeat(np.stack(self.boxes[image_id]), self.proposals_per_person, axis=0)
        if self.jitter:
            boxes = self._jittered(boxes, image_id)
        return PersonBoxes(boxes, np.ones(len(boxes), np.float32))


class RTMOBoxes:
    """The person boxes and scores of an RTMO model: the one-stage model as RMPE's person detector.

    Args:
        inferencer: an :class:`~rtmo_plugin.apis.RTMOInferencer` (its ``score_thr`` and NMS apply).
    """

    def __init__(self, inferencer: Any) -> None:
        self.inferencer = inferencer

    def __call__(self, images: Sequence[np.ndarray], names: Optional[Sequence[Optional[str]]] = None
                 ) -> List[PersonBoxes]:
        """RTMO's ``bboxes`` and ``bbox_scores`` of each image; boxes without area are left out.

        Args:
            images (Sequence[np.ndarray]): BGR images.
            names (Sequence[str], optional): their names (used in error messages).

        Returns:
            list[PersonBoxes]: one per image.
        """
        out = []
        for pred in self.inferencer(images, names=names):
            boxes = np.asarray(pred.bboxes, np.float32).reshape(-1, 4)
            scores = np.asarray(pred.bbox_scores, np.float32).reshape(-1)
            ok = np.isfinite(boxes).all(1) & np.isfinite(scores) & (boxes[:, 2] > boxes[:, 0]) & \
                (boxes[:, 3] > boxes[:, 1])
            out.append(PersonBoxes(boxes[ok], scores[ok]))
        return out


def box_source_from_spec(spec: str, ann_file: Optional[Union[str, Path]] = None, jitter: bool = False,
                         seed: int = 0, device: str = "cpu", mode: str = "fast", batch_size: int = 4,
                         score_thr: Optional[float] = None, proposals_per_person: int = 1) -> Any:
    """Build a box source from a command-line spec (``tools/demo.py --rmpe-boxes``).

    Args:
        spec (str): ``'gt'`` (ground truth of ``ann_file``), ``'rtmo:CONFIG[:CHECKPOINT]'`` (an RTMO model; random
            weights without a checkpoint) or the path of a detection file.
        ann_file (str | Path, optional): COCO annotation file (required by ``'gt'``; maps file names to image ids
            for a detection file).
        jitter (bool): jitter ground-truth boxes (``'gt'`` only).
        seed (int): seed of the jitter.
        device (str): device of the RTMO model.
        mode (str): RTMO inference mode ('eval', 'fast', 'onnx').
        batch_size (int): images per RTMO forward pass.
        score_thr (float, optional): RTMO's instance score threshold (default: its config).
        proposals_per_person (int): jittered boxes per ground-truth person (``'gt'`` with ``jitter`` only).

    Returns:
        DetectionFileBoxes | GroundTruthBoxes | RTMOBoxes: the source.
    """
    if jitter and spec != "gt":
        raise ValueError(f"box jitter applies to ground-truth boxes ('gt'), not to {spec!r}")
    if proposals_per_person != 1 and not (jitter and spec == "gt"):
        raise ValueError("several proposals per person apply to jittered ground-truth boxes ('gt' with jitter)")
    if spec == "gt":
        if ann_file is None:
            raise ValueError("ground-truth boxes ('gt') need an annotation file")
        return GroundTruthBoxes(ann_file, jitter=jitter, seed=seed, proposals_per_person=proposals_per_person)
    if spec.startswith("rtmo:"):
        from .inferencer import RTMOInferencer

        config, _, checkpoint = spec[len("rtmo:"):].partition(":")
        if not config:
            raise ValueError(f"box source {spec!r}: expected rtmo:CONFIG[:CHECKPOINT]")
        return RTMOBoxes(RTMOInferencer(config=config, checkpoint=checkpoint or None, device=device, mode=mode,
                                        batch_size=batch_size, score_thr=score_thr))
    return DetectionFileBoxes(spec, ann_file=ann_file)
