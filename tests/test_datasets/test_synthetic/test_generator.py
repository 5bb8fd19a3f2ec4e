"""Synthetic figure dataset: determinism, COCO validity, variety (people count, occlusion, truncation)."""
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from rtmo_plugin.datasets.synthetic import SyntheticConfig, dataset_summary, generate_split, render_image, sample_figure


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(folder.rglob("*")):
        if f.is_file():
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def test_same_seed_same_bytes_different_seed_different(tmp_path: Path) -> None:
    a = generate_split(tmp_path / "a", "train", 6, seed=3, progress=False)
    b = generate_split(tmp_path / "b", "train", 6, seed=3, progress=False)
    c = generate_split(tmp_path / "c", "train", 6, seed=4, progress=False)
    assert a.read_text() == b.read_text()
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert a.read_text() != c.read_text()


def test_image_does_not_depend_on_split_length(tmp_path: Path) -> None:
    short = json.loads(generate_split(tmp_path / "s", "val", 2, seed=1, progress=False).read_text())
    long = json.loads(generate_split(tmp_path / "l", "val", 5, seed=1, progress=False).read_text())
    assert (tmp_path / "s" / "val" / short["images"][1]["file_name"]).read_bytes() == \
        (tmp_path / "l" / "val" / long["images"][1]["file_name"]).read_bytes()


def test_coco_fields_and_loads_in_mmpose_dataset(tmp_path: Path) -> None:
    from mmpose.datasets import CocoDataset

    ann_file = generate_split(tmp_path, "train", 8, seed=0, progress=False)
    data = json.loads(ann_file.read_text())
    assert data["categories"][0]["keypoints"][0] == "nose" and len(data["categories"][0]["keypoints"]) == 17
    for ann in data["annotations"]:
        kps = np.array(ann["keypoints"]).reshape(17, 3)
        assert ann["num_keypoints"] == int((kps[:, 2] > 0).sum())
        x, y, w, h = ann["bbox"]
        assert w > 0 and h > 0 and ann["area"] > 0
        assert set(np.unique(kps[:, 2])) <= {0, 1, 2}
        assert np.all(kps[kps[:, 2] == 0, :2] == 0)
    ds = CocoDataset(data_root=str(tmp_path), ann_file="annotations/train.json", data_prefix=dict(img="train/"),
                     data_mode="bottomup", test_mode=False)
    assert len(ds) >= 1 and ds[0]["keypoints"].shape[1:] == (17, 2)


def test_variety_over_a_few_dozen_images() -> None:
    cfg = SyntheticConfig()
    counts, hidden, truncated = [], 0, 0
    for i in range(40):
        img, anns = render_image(np.random.default_rng([7, 0, i]), cfg)
        assert img.shape == (256, 256, 3) and img.dtype == np.uint8
        counts.append(len(anns))
        for ann in anns:
            v = np.array(ann["keypoints"]).reshape(17, 3)[:, 2]
            hidden += int((v == 1).sum())
            truncated += int((v == 0).sum())
    assert min(counts) >= 1 and max(counts) >= 3  # several people per image
    assert hidden > 0 and truncated > 0  # occlusion and border truncation happen


def test_figure_left_side_on_image_right() -> None:
    fig = sample_figure(np.random.default_rng(0), (100.0, 100.0), 120.0)
    k = fig.keypoints
    assert k[5, 0] > k[6, 0] and k[11, 0] > k[12, 0]  # facing the camera
    assert k[0, 1] < k[5, 1] < k[11, 1]  # head above shoulders above hips (upright lean)


def test_summary_and_bad_arguments(tmp_path: Path) -> None:
    f = generate_split(tmp_path, "val", 3, seed=0, progress=False)
    s = dataset_summary(f)
    assert s["images"] == 3 and s["people"] >= 3 and 0 < s["visible_per_person"] <= s["labelled_per_person"] <= 17
    with pytest.raises(ValueError, match="split"):
        generate_split(tmp_path, "training", 3)
    with pytest.raises(ValueError, match="num_images"):
        generate_split(tmp_path, "train", 0)


def test_a_lone_unoccluded_figure_has_every_framed_keypoint_visible() -> None:
    # only something painted in front hides a keypoint: ears and shoulders on the rim of the figure's own
    # silhouette used to be flagged hidden when their pixel fell just outside it
    cfg = SyntheticConfig(max_people=1, occluder_prob=0.0)
    flags = []
    for i in range(30):
        _, anns = render_image(np.random.default_rng([5, 0, i]), cfg)
        for ann in anns:
            flags += np.array(ann["keypoints"]).reshape(17, 3)[:, 2].tolist()
    assert flags and set(flags) <= {0, 2}
    assert flags.count(2) > 0.8 * len(flags)


def test_cached_data_is_regenerated_when_the_generator_changes(tmp_path: Path, capsys) -> None:
    from rtmo_plugin.demo.run_demo import prepare_data

    prepare_data(tmp_path, num_train=2, num_val=1, seed=0)
    prepare_data(tmp_path, num_train=2, num_val=1, seed=0)
    assert "already" in capsys.readouterr().out
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["settings"]["generator_version"] -= 1  # data written by an older generator
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    prepare_data(tmp_path, num_train=2, num_val=1, seed=0)
    assert "already" not in capsys.readouterr().out
    assert json.loads((tmp_path / "manifest.json").read_text())["settings"]["generator_version"] >= 2


def test_min_spacing_keeps_pelvises_apart_and_gives_up_gracefully() -> None:
    from rtmo_plugin.datasets.synthetic.generator import _place_pelvis

    cfg = SyntheticConfig(min_spacing=0.3)
    rng = np.random.default_rng(0)
    placed = [(np.array([128.0, 140.0]), 200.0)]
    for _ in range(50):
        x, y = _place_pelvis(rng, 150.0, (256, 256), placed, cfg)
        assert np.hypot(x - 128.0, y - 140.0) >= 0.3 * 200.0
    # no room left: after spacing_tries draws the last one is used, so an image never stalls
    crowd = [(np.array([float(x), float(y)]), 250.0) for x in range(-40, 300, 20) for y in range(0, 260, 20)]
    x, y = _place_pelvis(rng, 150.0, (256, 256), crowd, SyntheticConfig(min_spacing=0.3, spacing_tries=3))
    assert np.isfinite([x, y]).all()


def test_spacing_reduces_stacking_against_independent_placement() -> None:
    def closest_pelvis_gaps(spacing: float) -> list:
        gaps = []
        cfg = SyntheticConfig(min_spacing=spacing, max_people=4, occluder_prob=0.0)
        for i in range(40):
            _, anns = render_image(np.random.default_rng([9, 0, i]), cfg)
            hips = [np.array(a["keypoints"]).reshape(17, 3)[11:13] for a in anns]
            centres = [h[:, :2].mean(0) for h in hips if (h[:, 2] > 0).all()]
            gaps += [np.hypot(*(a - b)) for j, a in enumerate(centres) for b in centres[j + 1:]]
        return gaps

    independent, spaced = closest_pelvis_gaps(0.0), closest_pelvis_gaps(0.3)
    # 0.3 x the taller figure (>= 0.45 x 256 px) is at least 34 px
    assert min(independent) < 34 <= np.percentile(spaced, 5)
