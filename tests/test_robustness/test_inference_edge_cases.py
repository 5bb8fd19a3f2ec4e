"""Inference and demo on hostile inputs : odd images are handled or give a clear error.

Covers: unreadable / empty image files, 0x0 and 1x1 images, a huge 8000x6000 image, grayscale, RGBA, 16-bit and
float images (each must predict exactly like its 8-bit BGR equivalent), an image without people, and truncated
videos (frames that decode are processed; an unopenable file is a clear error). The API under test is
rtmo_plugin.apis (RTMOInferencer, FrameSource) and tools/demo.py.
"""
import json
import runpy
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from rtmo_plugin.apis import RTMOInferencer
from rtmo_plugin.testing.video import count_video_frames

INPUT_SIZE = (160, 160)


@pytest.fixture(scope="module")
def model():
    """RTMO-t with random weights rescaled to produce detections (the deploy helper's calibration)."""
    from rtmo_plugin.deploy import make_detecting
    from rtmo_plugin.testing.reference import build_plugin_model

    torch.manual_seed(0)
    net = make_detecting(build_plugin_model("t"), INPUT_SIZE, seed=1, positive_fraction=0.03)
    net.test_cfg = dict(net.test_cfg, input_size=INPUT_SIZE)
    return net.eval()


@pytest.fixture(scope="module")
def infer(model):
    return RTMOInferencer(model, mode="fast", batch_size=4)


@pytest.fixture(scope="module")
def photo(shared_data) -> np.ndarray:
    img = cv2.imread(str(shared_data / "coco_mini" / "000000196141.jpg"))
    return cv2.resize(img, (240, 160), interpolation=cv2.INTER_AREA)


def _assert_valid(pred, num_keypoints: int = 17) -> None:
    n = len(pred)
    assert pred.keypoints.shape == (n, num_keypoints, 2) and pred.keypoint_scores.shape == (n, num_keypoints)
    assert pred.bboxes.shape == (n, 4) and pred.bbox_scores.shape == (n,)
    for name in ("keypoints", "keypoint_scores", "bboxes", "bbox_scores"):
        assert np.isfinite(getattr(pred, name)).all(), f"non-finite {name}"


def _assert_same(a, b) -> None:
    assert len(a) == len(b)
    np.testing.assert_allclose(a.keypoints, b.keypoints, rtol=1e-4, atol=2e-2)  # fast mode: batch-position noise
    np.testing.assert_allclose(a.bbox_scores, b.bbox_scores, atol=1e-5)


def test_converted_images_predict_like_their_bgr_equivalent(infer, photo):
    gray = cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY)
    bgra = cv2.cvtColor(photo, cv2.COLOR_BGR2BGRA)
    bgra[..., 3] = 7  # alpha must not matter
    cases = {
        "gray (H, W)": (gray, cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)),
        "gray (H, W, 1)": (gray[..., None], cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)),
        "BGRA": (bgra, photo),
        "16-bit BGR": (photo.astype(np.uint16) * 257, photo),
        "16-bit gray": (gray.astype(np.uint16) * 257, cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)),
        "float 0-255": (photo.astype(np.float32), photo),
    }
    preds = infer([c[0] for c in cases.values()] + [c[1] for c in cases.values()])
    half = len(cases)
    assert len(preds[half]) > 0, "the calibrated model should detect something on the photo"
    for i, name in enumerate(cases):
        _assert_valid(preds[i])
        _assert_same(preds[i], preds[half + i])


@pytest.mark.parametrize("shape", [(1, 1, 3), (1, 1), (1, 500, 3), (500, 1, 3), (2, 3, 4)])
def test_tiny_and_degenerate_aspect_images(infer, shape):
    rng = np.random.default_rng(0)
    (pred,) = infer([rng.integers(0, 256, shape, dtype=np.uint8)])
    _assert_valid(pred)


def test_huge_image(infer):
    img = np.full((6000, 8000, 3), 90, np.uint8)
    img[1000:5000:7, 2000:6000:5] = 200  # some structure
    (pred,) = infer([img])
    _assert_valid(pred)


@pytest.mark.parametrize("shape", [(0, 0, 3), (0, 0), (0, 10, 3), (10, 0)])
def test_empty_images_are_clear_errors(infer, shape):
    with pytest.raises(ValueError, match=r"images\[1\]: empty image"):
        infer([np.zeros((4, 4, 3), np.uint8), np.zeros(shape, np.uint8)])


@pytest.mark.parametrize("img,exc,msg", [
    (np.full((8, 8, 3), np.nan, np.float32), ValueError, "NaN"),
    (np.zeros((8, 8, 3), bool), TypeError, "dtype"),
    (np.zeros((8, 8, 2), np.uint8), ValueError, "shape"),
])
def test_invalid_images_are_clear_errors(infer, img, exc, msg):
    with pytest.raises(exc, match=msg):
        infer([img])


@pytest.mark.parametrize("mode", ["eval", "fast"])
def test_image_without_people(model, mode):
    # a threshold no score reaches: the result is empty with the documented shapes, in both modes
    (pred,) = RTMOInferencer(model, mode=mode, score_thr=1.01)([np.full((120, 200, 3), 127, np.uint8)])
    assert len(pred) == 0
    _assert_valid(pred)


# ---------------------------------------------------------------------------- files and the demo tool
@pytest.fixture(scope="module")
def checkpoint(model, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ckpt") / "rtmo_t_detecting.pth"
    torch.save(dict(state_dict=model.state_dict(), meta=dict(dataset_meta=dict(dataset_name="coco"))), path)
    return path


def _demo(monkeypatch, checkpoint: Path, source: Path, out: Path, *extra: str) -> None:
    from rtmo_plugin.testing.reference import plugin_config_path, repo_root

    monkeypatch.setattr(sys, "argv", ["demo.py", str(plugin_config_path("t")), "--checkpoint", str(checkpoint),
                                      "--input", str(source), "--out-dir", str(out), "--no-progress", *extra])
    runpy.run_path(str(repo_root() / "tools" / "demo.py"), run_name="__main__")


def test_demo_on_folder_of_odd_image_files(monkeypatch, checkpoint, tmp_path, photo, capsys):
    folder = tmp_path / "odd"
    folder.mkdir()
    cv2.imwrite(str(folder / "a_16bit.png"), photo.astype(np.uint16) * 257)
    cv2.imwrite(str(folder / "b_rgba.png"), cv2.cvtColor(photo, cv2.COLOR_BGR2BGRA))
    cv2.imwrite(str(folder / "c_gray.png"), cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY))
    cv2.imwrite(str(folder / "d_1x1.png"), photo[:1, :1])
    out = tmp_path / "out"
    _demo(monkeypatch, checkpoint, folder, out, "--no-vis")
    assert capsys.readouterr().out.strip().startswith("4 frames,")
    entries = json.loads((out / "odd_predictions.json").read_text())
    assert all(np.isfinite(e["keypoints"]).all() for e in entries)


def test_demo_on_unreadable_image_file(monkeypatch, checkpoint, tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)  # a JPEG signature and nothing decodable
    with pytest.raises(ValueError, match=r"cannot decode image file .*broken\.jpg"):
        _demo(monkeypatch, checkpoint, bad, tmp_path / "out")


@pytest.mark.parametrize("content", [b"", b"definitely not an image" * 20], ids=["empty", "text"])
def test_unreadable_image_files_in_a_folder(tmp_path, content):
    """The demo's input reader (FrameSource, used before any model work) names the file."""
    from rtmo_plugin.apis import FrameSource

    cv2.imwrite(str(tmp_path / "a_good.png"), np.zeros((4, 4, 3), np.uint8))
    (tmp_path / "b_bad.png").write_bytes(content)
    frames = iter(FrameSource(tmp_path))
    assert next(frames).name == "a_good.png"
    with pytest.raises(ValueError, match=r"cannot decode image file .*b_bad\.png"):
        next(frames)


@pytest.fixture(scope="module")
def truncated_avi(shared_data, tmp_path_factory) -> Path:
    """10 frames of street.mp4 re-encoded as MJPG AVI (320x180), cut after 55% of its bytes."""
    src = shared_data / "video" / "street.mp4"
    if not src.is_file():
        pytest.skip("street.mp4 not in the shared data")
    cap = cv2.VideoCapture(str(src))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(cv2.resize(frame, (320, 180)))
    folder = tmp_path_factory.mktemp("video")
    full = folder / "full.avi"
    writer = cv2.VideoWriter(str(full), cv2.VideoWriter_fourcc(*"MJPG"), 5, (320, 180))
    for frame in frames * 2:
        writer.write(frame)
    writer.release()
    data = full.read_bytes()
    cut = folder / "cut.avi"
    cut.write_bytes(data[: int(len(data) * 0.55)])
    return cut


def test_demo_survives_truncated_video(monkeypatch, checkpoint, tmp_path, truncated_avi):
    decodable = count_video_frames(truncated_avi)
    assert 1 <= decodable < 10  # the container still claims 10 frames
    out = tmp_path / "out"
    _demo(monkeypatch, checkpoint, truncated_avi, out, "--batch-size", "4")
    assert count_video_frames(out / "cut.mp4") == decodable
    entries = json.loads((out / "cut_predictions.json").read_text())
    assert {e["image_id"] for e in entries} <= set(range(decodable))


def test_video_cut_before_its_index(tmp_path, shared_data):
    """street.mp4 keeps its index ('moov') at the end: any cut makes it unopenable -> a clear error from the
    demo's reader (FrameSource), which tools/demo.py iterates."""
    from rtmo_plugin.apis import FrameSource

    src = shared_data / "video" / "street.mp4"
    if not src.is_file():
        pytest.skip("street.mp4 not in the shared data")
    cut = tmp_path / "street_cut.mp4"
    cut.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    with pytest.raises(RuntimeError, match=r"cannot open video .*street_cut\.mp4"):
        list(FrameSource(cut))
