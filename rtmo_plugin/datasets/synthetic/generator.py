"""Deterministic synthetic multi-person keypoint dataset in COCO format.

Each image gets a textured background, 1..``max_people`` figures (depth-sorted: smaller = farther = drawn first),
optional occluders in front, and people partly outside the frame. Figures overlap and hide each other, but two
pelvises keep ``min_spacing`` x the taller figure's height apart, so that people do not stand inside each other.
Image ``i`` of a split is drawn from ``numpy.random.default_rng([seed, split_id, i])``, so any image can be
regenerated alone and the output does not depend on the number of images generated before it.

Annotations follow COCO keypoints: ``keypoints`` = 17 x (x, y, v) with v = 2 visible, 1 labelled but hidden by a nearer
person or an occluder painted over it, 0 outside the image (then x = y = 0); ``bbox`` (xywh) and ``area`` from the
person's visible pixels; ``segmentation`` = polygons of the visible mask; ``num_keypoints`` = #(v > 0). Persons with
no visible pixel are dropped.

``keypoint_set='halpe26'`` draws the same figures with the Halpe-26 keypoints (:mod:`.halpe26`): 26 x (x, y, v), the
first 17 at the COCO-17 generator's coordinates, and shoes painted under the ankles.
"""
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from .figure import COCO_SKELETON_1BASED, KEYPOINT_NAMES, sample_figure
from .halpe26 import HALPE26_KEYPOINT_NAMES, HALPE26_SKELETON_1BASED, halpe_extra_keypoints
from .render import OCCLUDER_LABEL, draw_figure, draw_occluder, textured_background

SPLIT_IDS = {"train": 0, "val": 1, "test": 2}
#: bumped whenever the same seed would draw different images or labels (cached demo data is then regenerated)
GENERATOR_VERSION = 3
#: keypoint set name -> (keypoint names, 1-based skeleton)
KEYPOINT_SETS = {"coco17": (KEYPOINT_NAMES, COCO_SKELETON_1BASED),
                 "halpe26": (HALPE26_KEYPOINT_NAMES, HALPE26_SKELETON_1BASED)}


def _check_keypoint_set(keypoint_set: str) -> None:
    if keypoint_set not in KEYPOINT_SETS:
        raise ValueError(f"keypoint_set must be one of {sorted(KEYPOINT_SETS)}, got {keypoint_set!r}")


@dataclass
class SyntheticConfig:
    """Knobs of the generator.

    Attributes:
        image_size (tuple[int, int]): (width, height) of every image.
        max_people (int): at most this many people per image (at least 1).
        height_range (tuple[float, float]): figure height H as a fraction of the image height.
        occluder_prob (float): probability of 1-2 occluders in an image.
        min_visible_pixels (int): people with fewer visible pixels are not annotated.
        background_contrast (float): contrast of the background texture (1 = full; the figures keep theirs).
        min_spacing (float): two figures' pelvis centres are at least this many times the taller one's height
            apart (redrawn up to ``spacing_tries`` times, then placed anyway); 0 places every figure
            independently.
        spacing_tries (int): attempts per figure to meet ``min_spacing``.
    """

    image_size: Tuple[int, int] = (256, 256)
    max_people: int = 4
    height_range: Tuple[float, float] = (0.45, 0.95)
    occluder_prob: float = 0.3
    min_visible_pixels: int = 30
    background_contrast: float = 0.4
    min_spacing: float = 0.3
    spacing_tries: int = 20


def _draw_pelvis(rng: np.random.Generator, fh: float, size: Tuple[int, int]) -> Tuple[float, float]:
    """A pelvis position: 55% of the figure height from its top, up to ~25% of the figure outside the frame."""
    w, h = size
    px = rng.uniform(-0.1 * fh, w + 0.1 * fh)
    py = rng.uniform(0.45 * fh, h - 0.35 * fh) if h > 0.8 * fh else rng.uniform(0.3 * h, 0.7 * h)
    return float(px), float(py)


def _place_pelvis(rng: np.random.Generator, fh: float, size: Tuple[int, int],
                  placed: List[Tuple[np.ndarray, float]], cfg: SyntheticConfig) -> Tuple[float, float]:
    """A pelvis position at least ``cfg.min_spacing`` x the taller figure's height from every placed pelvis.

    Args:
        rng: random generator of the image.
        fh: height of the new figure in pixels.
        size: (width, height) of the image.
        placed: (pelvis (2,), height) of the figures already drawn.
        cfg: generator settings.

    Returns:
        tuple: (x, y) in pixels; the last draw when no attempt keeps the spacing.
    """
    pos = _draw_pelvis(rng, fh, size)
    if cfg.min_spacing <= 0:
        return pos
    for _ in range(cfg.spacing_tries - 1):
        if all(np.hypot(pos[0] - p[0], pos[1] - p[1]) >= cfg.min_spacing * max(fh, ph) for p, ph in placed):
            break
        pos = _draw_pelvis(rng, fh, size)
    return pos


def render_image(rng: np.random.Generator, cfg: SyntheticConfig,
                 keypoint_set: str = "coco17") -> Tuple[np.ndarray, List[dict]]:
    """Draw one image and its person annotations (without ids).

    Args:
        rng: random generator for this image.
        cfg: generator settings.
        keypoint_set: 'coco17' (default) or 'halpe26' (same figures, 9 more points, shoes painted).

    Returns:
        tuple: (H, W, 3) uint8 BGR image, list of annotation dicts (keypoints, bbox, area, segmentation, ...).
    """
    _check_keypoint_set(keypoint_set)
    num_keypoints = len(KEYPOINT_SETS[keypoint_set][0])
    w, h = cfg.image_size
    img = textured_background(rng, (w, h), cfg.background_contrast)
    label = np.zeros((h, w), dtype=np.uint8)
    n = int(rng.integers(1, cfg.max_people + 1))
    heights = np.sort(rng.uniform(*cfg.height_range, size=n) * h)  # far (small) first
    figures = []
    for i, fh in enumerate(heights):
        px, py = _place_pelvis(rng, fh, (w, h), [(f.keypoints[11:13].mean(0), f.height) for f in figures], cfg)
        fig = sample_figure(rng, (px, py), fh)
        extra = halpe_extra_keypoints(fig) if keypoint_set == "halpe26" else None
        draw_figure(img, label, fig, i + 1, rng, extra)
        if extra is not None:
            fig.keypoints = np.concatenate([fig.keypoints, extra])
        figures.append(fig)
    if rng.random() < cfg.occluder_prob:
        for _ in range(int(rng.integers(1, 3))):
            draw_occluder(img, label, rng)
    img = cv2.GaussianBlur(img, (3, 3), 0) if rng.random() < 0.3 else img

    anns = []
    for i, fig in enumerate(figures):
        mask = (label == i + 1).astype(np.uint8)
        area = int(mask.sum())
        if area < cfg.min_visible_pixels:
            continue
        ys, xs = np.nonzero(mask)
        x0, y0, x1, y1 = int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
        kps = np.zeros((num_keypoints, 3), dtype=np.float64)
        for k, (x, y) in enumerate(fig.keypoints):
            if not (0 <= x < w and 0 <= y < h):
                continue  # truncated: not labelled
            owner = int(label[min(int(round(y)), h - 1), min(int(round(x)), w - 1)])
            # hidden only under something painted later (a nearer person or an occluder); a keypoint on the rim
            # of its own silhouette can fall on background or a farther person's pixel and is still visible
            hidden = owner == OCCLUDER_LABEL or owner > i + 1
            kps[k] = (round(float(x), 2), round(float(y), 2), 1 if hidden else 2)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        segmentation = [c.reshape(-1).astype(float).tolist() for c in contours if len(c) >= 3]
        if not segmentation:
            segmentation = [[x0, y0, x1, y0, x1, y1, x0, y1]]
        anns.append(dict(keypoints=kps.reshape(-1).tolist(), num_keypoints=int((kps[:, 2] > 0).sum()),
                         bbox=[x0, y0, x1 - x0, y1 - y0], area=area, segmentation=segmentation, iscrowd=0,
                         category_id=1))
    return img, anns


def coco_categories(keypoint_set: str = "coco17") -> List[dict]:
    """The COCO 'person' category with the keypoint names and the skeleton of ``keypoint_set``."""
    _check_keypoint_set(keypoint_set)
    names, skeleton = KEYPOINT_SETS[keypoint_set]
    return [dict(id=1, name="person", supercategory="person", keypoints=list(names),
                 skeleton=[list(p) for p in skeleton])]


def generate_split(out_dir: Path, split: str, num_images: int, seed: int = 0,
                   cfg: Optional[SyntheticConfig] = None, progress: bool = True, keypoint_set: str = "coco17") -> Path:
    """Write ``out_dir/<split>/*.jpg`` and ``out_dir/annotations/<split>.json``.

    Args:
        out_dir: dataset root.
        split: 'train', 'val' or 'test'.
        num_images: number of images.
        seed: dataset seed.
        cfg: generator settings (defaults: :class:`SyntheticConfig`).
        progress: show a tqdm progress bar.
        keypoint_set: 'coco17' (default) or 'halpe26'.

    Returns:
        Path: the annotation file.

    Raises:
        ValueError: on an unknown split or a non-positive image count.
    """
    if split not in SPLIT_IDS:
        raise ValueError(f"split must be one of {sorted(SPLIT_IDS)}, got {split!r}")
    if num_images <= 0:
        raise ValueError(f"num_images must be > 0, got {num_images}")
    cfg = cfg or SyntheticConfig()
    img_dir = Path(out_dir) / split
    img_dir.mkdir(parents=True, exist_ok=True)
    (Path(out_dir) / "annotations").mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    indices = range(num_images)
    if progress:
        from tqdm import tqdm
        indices = tqdm(indices, desc=f"synthetic {split}", unit="img")
    for i in indices:
        rng = np.random.default_rng([seed, SPLIT_IDS[split], i])
        img, anns = render_image(rng, cfg, keypoint_set)
        image_id = SPLIT_IDS[split] * 1_000_000 + i + 1
        name = f"{image_id:012d}.jpg"
        cv2.imwrite(str(img_dir / name), img, [cv2.IMWRITE_JPEG_QUALITY, 92])
        images.append(dict(id=image_id, file_name=name, width=img.shape[1], height=img.shape[0]))
        for ann in anns:
            ann.update(id=len(annotations) + 1 + SPLIT_IDS[split] * 10_000_000, image_id=image_id)
            annotations.append(ann)
    ann_file = Path(out_dir) / "annotations" / f"{split}.json"
    ann_file.write_text(json.dumps(dict(info=dict(description=f"rtmo-plugin synthetic figures, seed {seed}"),
                                        images=images, annotations=annotations,
                                        categories=coco_categories(keypoint_set))))
    return ann_file


def dataset_summary(ann_file: Path) -> Dict[str, float]:
    """Counts for a generated annotation file: images, people, labelled/visible keypoints per person."""
    data = json.loads(Path(ann_file).read_text())
    num_keypoints = len(data["categories"][0]["keypoints"])
    kps = np.array([a["keypoints"] for a in data["annotations"]]).reshape(-1, num_keypoints, 3)
    return dict(images=len(data["images"]), people=len(data["annotations"]),
                labelled_per_person=float((kps[..., 2] > 0).sum(1).mean()) if len(kps) else 0.0,
                visible_per_person=float((kps[..., 2] == 2).sum(1).mean()) if len(kps) else 0.0)
