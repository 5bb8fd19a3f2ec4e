"""Vectorised operations on the per-instance arrays of a bottom-up sample.

A bottom-up ``results`` dict (``CocoDataset(data_mode='bottomup')``) holds all people of one image in parallel arrays:

* ``bbox`` (N, 4) xyxy, ``bbox_score`` (N,), ``category_id`` (N,), ``area`` (N,);
* ``keypoints`` (N, K, 2) and ``keypoints_visible`` (N, K) -- or (N, K, 2) where the second channel holds the
  per-keypoint visibility weights; the flag is always channel 0.

The helpers below never loop over instances or keypoints in Python.
"""
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

#: Keys whose first axis runs over the instances of the image; the pipeline keeps them aligned.
INSTANCE_KEYS: Tuple[str, ...] = ("bbox", "bbox_score", "category_id", "keypoints", "keypoints_visible", "area")


def visibility_flags(keypoints_visible: np.ndarray) -> np.ndarray:
    """The (N, K) visibility flags of ``keypoints_visible`` (a view, writes go through).

    Args:
        keypoints_visible (np.ndarray): (N, K) flags or (N, K, 2) flags + weights.

    Returns:
        np.ndarray: (N, K) view on the flags.
    """
    return keypoints_visible[..., 0] if keypoints_visible.ndim == 3 else keypoints_visible


def warp_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Map points with a 2x3 affine or 3x3 projective matrix.

    Args:
        points (np.ndarray): (..., 2) coordinates.
        matrix (np.ndarray): (2, 3) or (3, 3) matrix acting on column vectors ``(x, y, 1)``.

    Returns:
        np.ndarray: (..., 2) float32 mapped coordinates (computed in float64).
    """
    pts = np.asarray(points, dtype=np.float64)
    mat = np.asarray(matrix, dtype=np.float64)
    out = pts @ mat[:2, :2].T + mat[:2, 2]
    if mat.shape[0] == 3 and not np.array_equal(mat[2], (0.0, 0.0, 1.0)):
        denom = pts @ mat[2, :2] + mat[2, 2]
        out = out / denom[..., None]
    return out.astype(np.float32)


def is_affine(matrix: np.ndarray) -> bool:
    """Whether a 2x3 / 3x3 matrix is affine (a 3x3 one with last row ``(0, 0, 1)``)."""
    return matrix.shape[0] == 2 or bool(np.allclose(matrix[2], (0.0, 0.0, 1.0), rtol=0.0, atol=1e-12))


def box_corners(bbox: np.ndarray) -> np.ndarray:
    """The four corners of xyxy boxes: (N, 4) -> (N, 4, 2) in order TL, TR, BR, BL."""
    x1, y1, x2, y2 = (bbox[..., i] for i in range(4))
    return np.stack([np.stack([x1, y1], -1), np.stack([x2, y1], -1), np.stack([x2, y2], -1),
                     np.stack([x1, y2], -1)], axis=-2)


def enclosing_boxes(points: np.ndarray) -> np.ndarray:
    """Axis-aligned xyxy boxes enclosing point sets: (N, P, 2) -> (N, 4)."""
    if points.shape[0] == 0:
        return np.zeros((0, 4), dtype=points.dtype)
    return np.concatenate([points.min(axis=-2), points.max(axis=-2)], axis=-1)


def clip_boxes_(bbox: np.ndarray, width: float, height: float) -> np.ndarray:
    """Clip xyxy boxes (N, 4), or corner sets (N, P, 2), to ``[0, width] x [0, height]`` in place."""
    if bbox.shape[-1] == 2:
        np.clip(bbox[..., 0], 0, width, out=bbox[..., 0])
        np.clip(bbox[..., 1], 0, height, out=bbox[..., 1])
    else:
        np.clip(bbox[..., 0::2], 0, width, out=bbox[..., 0::2])
        np.clip(bbox[..., 1::2], 0, height, out=bbox[..., 1::2])
    return bbox


def hide_outside_(keypoints: np.ndarray, keypoints_visible: np.ndarray, width: float, height: float) -> np.ndarray:
    """Mark keypoints outside ``[0, width] x [0, height]`` invisible (in place; coordinates are left as they are).

    Args:
        keypoints (np.ndarray): (N, K, 2) coordinates.
        keypoints_visible (np.ndarray): (N, K) or (N, K, 2) visibility, modified in place.
        width (float): canvas width; x == width still counts as inside.
        height (float): canvas height.

    Returns:
        np.ndarray: ``keypoints_visible``.
    """
    x, y = keypoints[..., 0], keypoints[..., 1]
    outside = (x < 0) | (x > width) | (y < 0) | (y > height)
    visibility_flags(keypoints_visible)[outside] = 0
    return keypoints_visible


def concat_instances(parts: Sequence[Dict[str, np.ndarray]]) -> Dict[str, np.ndarray]:
    """Concatenate the instance arrays of several samples along the instance axis.

    Only keys present in every part are kept.
    """
    keys = [k for k in INSTANCE_KEYS if all(k in p and p[k] is not None for p in parts)]
    return {k: np.concatenate([np.asarray(p[k]) for p in parts], axis=0) for k in keys}


def take_instances(results: Dict[str, Any], keep: np.ndarray, keys: Sequence[str] = INSTANCE_KEYS) -> None:
    """Keep the instances selected by the boolean mask ``keep`` (N,) in every instance array of ``results``."""
    for key in keys:
        value = results.get(key)
        if value is not None:
            results[key] = np.asarray(value)[keep]


def fetch_aux_samples(results: Dict[str, Any], num: int, pre_transform: Optional[Callable],
                      owner: str) -> Tuple[Any, List[Dict[str, Any]]]:
    """Draw ``num`` random samples of the dataset stored in ``results['dataset']`` and load them.

    The indices are drawn first, all of them, with ``np.random.randint(0, len(dataset))`` (the same draws as the
    MMPose mixed-image transforms). ``dataset.get_data_info`` already returns a fresh copy, so nothing is deep-copied.

    Args:
        results (dict): the sample being transformed; must hold ``'dataset'`` (set by the dataset's ``prepare_data``).
        num (int): number of auxiliary samples.
        pre_transform (callable, optional): e.g. ``Compose([LoadImage])`` run on each auxiliary sample.
        owner (str): transform name for error messages.

    Returns:
        tuple: the dataset, and the list of loaded auxiliary sample dicts.
    """
    dataset = results.get("dataset")
    if dataset is None:
        raise KeyError(f"{owner}: results['dataset'] is missing; the transform needs the dataset to draw extra "
                       "images (use it inside an MMPose dataset pipeline, whose prepare_data sets 'dataset')")
    if len(dataset) == 0:
        raise ValueError(f"{owner}: results['dataset'] is empty, no auxiliary image can be drawn")
    indices = [np.random.randint(0, len(dataset)) for _ in range(num)]
    samples = []
    for index in indices:
        data = _sample_info(dataset, index)
        if pre_transform is not None:
            data["dataset"] = dataset
            data = pre_transform(data)
            if data is None:
                raise ValueError(f"{owner}: the pre_transform returned None for dataset index {index}")
            data.pop("dataset", None)
        if "img" not in data:
            raise KeyError(f"{owner}: auxiliary sample {index} has no 'img'; add LoadImage to pre_transform")
        samples.append(data)
    return dataset, samples


def scaled_instances(data: Dict[str, Any], ratio: float, offset: Tuple[float, float] = (0.0, 0.0)
                     ) -> Dict[str, np.ndarray]:
    """New instance arrays of ``data`` under ``p -> ratio * p + offset`` (the input arrays are not modified).

    Args:
        data (dict): a sample with some of :data:`INSTANCE_KEYS`.
        ratio (float): isotropic scale; areas are multiplied by ``ratio ** 2``.
        offset (tuple): (dx, dy) added after scaling.

    Returns:
        dict: the transformed instance arrays (float32 geometry; visibility copied).
    """
    dx, dy = offset
    out: Dict[str, np.ndarray] = {}
    if data.get("bbox") is not None:
        bbox = np.asarray(data["bbox"], dtype=np.float32) * np.float32(ratio)
        bbox[..., 0::2] += dx
        bbox[..., 1::2] += dy
        out["bbox"] = bbox
    if data.get("keypoints") is not None:
        kpts = np.asarray(data["keypoints"], dtype=np.float32) * np.float32(ratio)
        kpts[..., 0] += dx
        kpts[..., 1] += dy
        out["keypoints"] = kpts
        out["keypoints_visible"] = np.array(data["keypoints_visible"], copy=True)
    if data.get("area") is not None:
        out["area"] = np.asarray(data["area"]) * ratio**2
    for key in ("bbox_score", "category_id"):
        if data.get(key) is not None:
            out[key] = np.asarray(data[key])
    return out


def _sample_info(dataset: Any, index: int) -> Dict[str, Any]:
    """``dataset.get_data_info(index)`` without deep-copying the dataset metainfo for every auxiliary image.

    MMPose's ``BaseCocoStyleDataset.get_data_info`` deep-copies seven metainfo entries (flip pairs, skeleton, ...)
    per call; an auxiliary sample only lends its image and instance arrays to the mix and is then discarded, so the
    read-only metainfo is attached by reference. Datasets that override ``get_data_info`` (wrappers, validating
    subclasses) go through their own method.
    """
    from mmengine.dataset import BaseDataset
    from mmpose.datasets.datasets.base import BaseCocoStyleDataset

    if type(dataset).get_data_info is not BaseCocoStyleDataset.get_data_info:
        return dataset.get_data_info(index)
    data = BaseDataset.get_data_info(dataset, index)  # a fresh copy of the sample's own annotations
    for key in _COCO_STYLE_META_KEYS:
        if key in data:
            raise KeyError(f"dataset sample {index}: '{key}' is a reserved metainfo key but is present in the sample")
        data[key] = dataset._metainfo[key]
    return data


#: metainfo entries MMPose's BaseCocoStyleDataset.get_data_info adds to every sample
_COCO_STYLE_META_KEYS = ("dataset_name", "upper_body_ids", "lower_body_ids", "flip_pairs", "dataset_keypoint_weights",
                         "flip_indices", "skeleton_links")
