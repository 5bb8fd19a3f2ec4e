"""Checks for COCO-style keypoint annotation files and the images they name.

Every check returns :class:`DataProblem` records instead of raising, so a dataset can either raise one
:class:`BadDataError` listing all problems (``on_bad_data='raise'``) or drop the affected images/annotations and
warn (``on_bad_data='skip'``). A problem always names the annotation file, the image id (and file name) and the
annotation id it belongs to, plus what is wrong.

Problem kinds (``DataProblem.kind``):

* file level: ``malformed_json`` (truncated or invalid JSON, wrong top-level structure);
* image level: ``bad_image_entry`` (no id/file_name, non-positive width/height), ``duplicate_id``,
  ``missing_image`` (file not found), ``unreadable_image`` (no read permission, unknown format, cannot decode),
  ``image_size_mismatch`` (decoded size differs from the entry; only with ``image_check='decode'``);
* annotation level: ``unknown_image``, ``keypoint_count`` (number of keypoints differs from the metainfo),
  ``malformed_keypoints`` (non-numeric values), ``non_finite_keypoint`` (NaN/inf), ``negative_keypoint``
  (a labelled keypoint with a negative coordinate), ``bad_visibility`` (flag outside {0, 1, 2}),
  ``missing_bbox``, ``malformed_bbox``, ``non_finite_bbox``, ``degenerate_bbox`` (zero-area or inverted),
  ``bbox_outside_image``, ``bad_area`` (NaN/inf/negative ``area``).
"""
import json
import os
import os.path as osp
from dataclasses import dataclass
from numbers import Real
from typing import Any, Dict, List, Mapping, Optional, Sequence

import cv2
import numpy as np

#: Visibility flags of the COCO keypoint format: 0 not labelled, 1 labelled but occluded, 2 labelled and visible.
VALID_VISIBILITY = (0, 1, 2)
#: Image checks done while loading (``image_check`` argument of the checked datasets).
IMAGE_CHECKS = ("none", "exists", "header", "decode")


@dataclass(frozen=True)
class DataProblem:
    """One problem found in an annotation file or an image it names.

    Attributes:
        source: the annotation file.
        kind: short machine-readable code (see the module docstring).
        message: what is wrong, for a person.
        img_id: COCO image id, when the problem belongs to an image.
        ann_id: COCO annotation id, when it belongs to an annotation.
        file_name: the image's file name, when known.
    """

    source: str
    kind: str
    message: str
    img_id: Optional[Any] = None
    ann_id: Optional[Any] = None
    file_name: Optional[str] = None

    def __str__(self) -> str:
        where = [self.source]
        if self.img_id is not None:
            where.append(f"image id {self.img_id}" + (f" ({self.file_name})" if self.file_name else ""))
        if self.ann_id is not None:
            where.append(f"annotation id {self.ann_id}")
        return f"{', '.join(where)}: [{self.kind}] {self.message}"


class BadDataError(ValueError):
    """Raised when a dataset finds bad data and ``on_bad_data='raise'``.

    Args:
        problems: every problem found (the message lists the first ``max_listed``).
        max_listed: how many problems the message spells out. Defaults to 20.
    """

    def __init__(self, problems: Sequence[DataProblem], max_listed: int = 20) -> None:
        self.problems = list(problems)
        lines = [str(p) for p in self.problems[:max_listed]]
        more = len(self.problems) - len(lines)
        if more > 0:
            lines.append(f"... and {more} more")
        hint = ("fix the data, or pass on_bad_data='skip' to drop the affected images/annotations with a warning"
                if any(p.kind != "malformed_json" for p in self.problems) else "fix or re-download the file")
        super().__init__(f"{len(self.problems)} bad-data problem(s) found ({hint}):\n  " + "\n  ".join(lines))


def load_annotation_json(path: str, display_name: Optional[str] = None) -> Dict[str, Any]:
    """Read a COCO-style annotation file and check its top-level structure.

    Args:
        path: local path of the JSON file.
        display_name: the name used in error messages (e.g. the original remote path). Defaults to ``path``.

    Returns:
        dict: the parsed file, with ``images`` and ``annotations`` lists of dicts.

    Raises:
        FileNotFoundError: the file does not exist.
        BadDataError: the file is truncated, not valid JSON/UTF-8, or lacks the COCO structure.
    """
    name = display_name or path
    if not osp.isfile(path):
        raise FileNotFoundError(f"annotation file not found: {name}")
    size = osp.getsize(path)
    try:
        with open(path, "r", encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        truncated = " (the error is at the end of the file: it looks truncated)" if e.pos >= size - 2 else ""
        raise BadDataError([DataProblem(name, "malformed_json", f"invalid JSON: {e.msg} at line {e.lineno} "
                                        f"column {e.colno} (byte {e.pos} of {size}){truncated}")]) from e
    except UnicodeDecodeError as e:
        raise BadDataError([DataProblem(name, "malformed_json", f"not UTF-8 text: {e}")]) from e
    problems = []
    if not isinstance(data, dict):
        problems.append(f"top level is a {type(data).__name__}, expected an object with 'images' and 'annotations'")
    else:
        for key in ("images", "annotations"):
            if not isinstance(data.get(key), list):
                problems.append(f"'{key}' is missing or not a list")
            elif not all(isinstance(x, dict) for x in data[key]):
                problems.append(f"'{key}' has entries that are not objects")
    if problems:
        raise BadDataError([DataProblem(name, "malformed_json", m) for m in problems])
    return data


def check_image_entry(img: Mapping[str, Any], source: str) -> List[DataProblem]:
    """Check one entry of ``images``: an id, a file name and a positive size.

    Args:
        img: the raw image entry.
        source: the annotation file (for messages).

    Returns:
        list[DataProblem]: empty when the entry is fine.
    """
    img_id, file_name = img.get("id"), img.get("file_name")
    found = []
    if img_id is None:
        found.append("has no 'id'")
    if not isinstance(file_name, str) or not file_name:
        found.append(f"has no usable 'file_name' (got {file_name!r})")
    for key in ("width", "height"):
        value = img.get(key)
        if not _is_number(value) or not np.isfinite(value) or value <= 0:
            found.append(f"'{key}' must be a positive number, got {value!r}")
    return [DataProblem(source, "bad_image_entry", f"image entry {m}", img_id=img_id,
                        file_name=file_name if isinstance(file_name, str) else None) for m in found]


def check_image_file(path: str, mode: str, expected_wh: Optional[Sequence[float]] = None) -> Optional[tuple]:
    """Check that an image file exists and can be read.

    Args:
        path: local image path.
        mode: ``'none'`` (no check), ``'exists'`` (a non-empty file), ``'header'`` (also readable, with a format
            OpenCV recognises; cheap: reads the signature only) or ``'decode'`` (fully decodes it and compares its
            size with ``expected_wh``).
        expected_wh: ``(width, height)`` from the annotation, used by ``'decode'``.

    Returns:
        tuple | None: ``(kind, message)`` of the problem, or None when the file is fine.
    """
    if mode == "none":
        return None
    if not osp.isfile(path):
        return "missing_image", f"image file not found: {path}"
    if osp.getsize(path) == 0:
        return "unreadable_image", f"image file is empty (0 bytes): {path}"
    if mode == "exists":
        return None
    if not os.access(path, os.R_OK):
        return "unreadable_image", f"no permission to read the image file: {path}"
    if not cv2.haveImageReader(path):
        return "unreadable_image", f"not an image format OpenCV can decode (unknown file signature): {path}"
    if mode == "decode":
        img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if img is None:
            return "unreadable_image", f"image cannot be decoded (corrupt or truncated?): {path}"
        if _is_truncated_jpeg(path):  # OpenCV decodes those partially (grey bottom) with only a stderr warning
            return "unreadable_image", f"JPEG file has no end-of-image marker (truncated?): {path}"
        if expected_wh is not None and (img.shape[1], img.shape[0]) != tuple(int(v) for v in expected_wh):
            return ("image_size_mismatch", f"decoded image is {img.shape[1]}x{img.shape[0]} but the annotation "
                    f"says {int(expected_wh[0])}x{int(expected_wh[1])}: {path}")
    return None


def check_annotation(ann: Mapping[str, Any], num_keypoints: int, keypoint_names: Mapping[int, str],
                     dataset_name: str, img_wh: Optional[Sequence[float]] = None) -> List[tuple]:
    """Check one keypoint annotation (the checks that need no other annotation).

    Annotations without ``keypoints`` are not pose annotations (e.g. other categories) and are only checked for
    a sane box; MMPose ignores them.

    Args:
        ann: the raw annotation.
        num_keypoints: K of the dataset metainfo.
        keypoint_names: keypoint index -> name, for messages.
        dataset_name: the metainfo's dataset name, for messages.
        img_wh: ``(width, height)`` of the image, to find boxes entirely outside it.

    Returns:
        list[tuple]: ``(kind, message)`` per problem; empty when the annotation is fine.
    """
    found: List[tuple] = []
    kpts = ann.get("keypoints")
    if kpts is not None:
        found += _check_keypoints(kpts, num_keypoints, keypoint_names, dataset_name)
        if "bbox" not in ann:
            found.append(("missing_bbox", "has keypoints but no 'bbox' (MMPose would drop this person silently)"))
    if "bbox" in ann:
        found += _check_bbox(ann["bbox"], img_wh)
    if "area" in ann:
        area = ann["area"]
        if not _is_number(area) or not np.isfinite(area) or area < 0:
            found.append(("bad_area", f"'area' must be a finite number >= 0, got {area!r} (it scales OKS)"))
    return found


def _check_keypoints(kpts: Any, num_keypoints: int, names: Mapping[int, str], dataset_name: str) -> List[tuple]:
    """Check a flat ``[x1, y1, v1, ...]`` keypoint list; see :func:`check_annotation`."""
    if not isinstance(kpts, (list, tuple)) or not all(_is_number(v) for v in kpts):
        bad = kpts if not isinstance(kpts, (list, tuple)) else [v for v in kpts if not _is_number(v)][:3]
        return [("malformed_keypoints", f"'keypoints' must be a flat list of numbers, found {bad!r}")]
    if len(kpts) % 3 != 0 or len(kpts) // 3 != num_keypoints:
        return [("keypoint_count", f"has {len(kpts)} keypoint values ({len(kpts) / 3:g} keypoints), but the "
                 f"dataset metainfo '{dataset_name}' defines {num_keypoints} keypoints ({3 * num_keypoints} values)"
                 " — annotations of another keypoint layout?")]
    arr = np.asarray(kpts, dtype=np.float64).reshape(-1, 3)
    found = []

    def label(k: int) -> str:
        return f"keypoint {k} ({names.get(k, '?')})"

    for k in np.flatnonzero(~np.isfinite(arr).all(axis=1)):
        found.append(("non_finite_keypoint", f"{label(k)} has non-finite values (x, y, v) = {tuple(arr[k])}"))
    finite = np.isfinite(arr).all(axis=1)
    vis = arr[:, 2]
    for k in np.flatnonzero(finite & ~np.isin(vis, VALID_VISIBILITY)):
        found.append(("bad_visibility", f"{label(k)} has visibility flag {vis[k]:g}; expected 0 (not labelled), "
                      "1 (labelled, occluded) or 2 (labelled, visible)"))
    for k in np.flatnonzero(finite & (vis > 0) & (arr[:, :2] < 0).any(axis=1)):
        found.append(("negative_keypoint", f"{label(k)} is labelled (v={vis[k]:g}) at a negative position "
                      f"({arr[k, 0]:g}, {arr[k, 1]:g})"))
    return found


def _check_bbox(bbox: Any, img_wh: Optional[Sequence[float]]) -> List[tuple]:
    """Check an ``[x, y, w, h]`` box; see :func:`check_annotation`."""
    if not isinstance(bbox, (list, tuple)) or len(bbox) != 4 or not all(_is_number(v) for v in bbox):
        return [("malformed_bbox", f"'bbox' must be 4 numbers [x, y, w, h], got {bbox!r}")]
    x, y, w, h = (float(v) for v in bbox)
    if not np.isfinite([x, y, w, h]).all():
        return [("non_finite_bbox", f"'bbox' has non-finite values {list(bbox)}")]
    if w <= 0 or h <= 0:
        what = "zero-area" if min(w, h) == 0 else "inverted (negative width or height)"
        return [("degenerate_bbox", f"'bbox' {list(bbox)} is {what}")]
    if img_wh is not None and (x >= img_wh[0] or y >= img_wh[1] or x + w <= 0 or y + h <= 0):
        return [("bbox_outside_image", f"'bbox' {list(bbox)} lies entirely outside the "
                 f"{img_wh[0]:g}x{img_wh[1]:g} image")]
    return []


def _is_truncated_jpeg(path: str) -> bool:
    """True for a JPEG file whose last bytes hold no end-of-image marker (0xFFD9)."""
    with open(path, "rb") as f:
        if f.read(3) != b"\xff\xd8\xff":
            return False
        f.seek(max(0, osp.getsize(path) - 64))
        return b"\xff\xd9" not in f.read()


def _is_number(value: Any) -> bool:
    """True for real numbers (int/float/numpy), False for bool, None, strings, containers."""
    return isinstance(value, Real) and not isinstance(value, bool)
