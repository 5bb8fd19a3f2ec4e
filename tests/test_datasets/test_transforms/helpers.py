"""Shared builders for the transform tests: real coco_mini samples and synthetic marker images."""
import copy
from pathlib import Path
from typing import Any, Dict, Optional

import numpy as np

COCO_FLIP_INDICES = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]


def coco_mini_dataset(root: Path, pipeline: Optional[list] = None, test_mode: bool = False) -> Any:
    """``CocoDataset(data_mode='bottomup')`` over the shared coco_mini sample."""
    from mmpose.datasets import CocoDataset

    return CocoDataset(data_root=str(root / "coco_mini"), ann_file="test_coco.json", data_prefix=dict(img=""),
                       data_mode="bottomup", pipeline=pipeline or [], test_mode=test_mode)


def loaded_sample(dataset: Any, index: int) -> Dict[str, Any]:
    """Data info of ``index`` with the image loaded and the dataset attached (as ``prepare_data`` does)."""
    from mmpose.datasets.transforms import LoadImage

    data = LoadImage()(dataset.get_data_info(index))
    data["dataset"] = dataset
    return data


def twin(sample: Dict[str, Any]) -> Dict[str, Any]:
    """A deep copy that shares the dataset object."""
    dataset = sample.pop("dataset", None)
    out = copy.deepcopy(sample)
    if dataset is not None:
        sample["dataset"] = dataset
        out["dataset"] = dataset
    return out


def synthetic_sample(keypoints: np.ndarray, visible: np.ndarray, size=(160, 120), bbox=None) -> Dict[str, Any]:
    """A gray (H, W, 3) image of ``size`` (W, H) with one uniquely coloured 3x3 marker per visible keypoint.

    Marker colour of instance n, keypoint k: (40 + 10 k, 40 + 60 n, 250) in BGR -- unique for n < 4, k < 17.
    """
    w, h = size
    img = np.full((h, w, 3), 128, dtype=np.uint8)
    n = keypoints.shape[0]
    for i in range(n):
        for k in range(keypoints.shape[1]):
            if visible[i, k]:
                x, y = int(round(keypoints[i, k, 0])), int(round(keypoints[i, k, 1]))
                img[max(y - 1, 0):y + 2, max(x - 1, 0):x + 2] = marker_colour(i, k)
    if bbox is None:
        bbox = np.concatenate([keypoints.min(1) - 2, keypoints.max(1) + 2], axis=1) if n else np.zeros((0, 4))
    return dict(img=img, img_shape=(h, w), ori_shape=(h, w), keypoints=keypoints.astype(np.float32),
                keypoints_visible=visible.astype(np.float32), bbox=np.asarray(bbox, dtype=np.float32),
                bbox_score=np.ones(n, np.float32), category_id=np.ones(n, np.int64),
                area=np.full(n, 100.0, np.float32), flip_indices=list(range(keypoints.shape[1])))


def marker_colour(instance: int, keypoint: int) -> tuple:
    return (40 + 10 * keypoint, 40 + 60 * instance, 250)


def find_marker(img: np.ndarray, colour: tuple, tol: int = 3) -> Optional[np.ndarray]:
    """Centroid (x, y) of the pixels within ``tol`` of ``colour``, or None."""
    diff = np.abs(img.astype(np.int16) - np.asarray(colour, np.int16)).max(axis=-1)
    ys, xs = np.nonzero(diff <= tol)
    if len(xs) == 0:
        return None
    return np.array([xs.mean(), ys.mean()])
