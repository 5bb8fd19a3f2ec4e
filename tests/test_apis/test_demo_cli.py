"""Smoke tests of tools/demo.py on an image folder and on a video (few frames, RTMO-t)."""
import json
import runpy
import sys

import cv2
import pytest

from rtmo_plugin.testing.reference import plugin_config_path, repo_root
from rtmo_plugin.testing.video import count_video_frames


def _run_demo(monkeypatch, *args: str) -> None:
    monkeypatch.setattr(sys, "argv", ["demo.py", str(plugin_config_path("t")), *args])
    runpy.run_path(str(repo_root() / "tools" / "demo.py"), run_name="__main__")


def test_demo_on_image_folder(monkeypatch, shared_data, detecting_checkpoint, tmp_path) -> None:
    out = tmp_path / "folder"
    _run_demo(monkeypatch, "--checkpoint", str(detecting_checkpoint), "--input", str(shared_data / "coco_mini"),
              "--out-dir", str(out), "--batch-size", "2", "--mode", "eval", "--no-progress")
    drawn = sorted(p.name for p in out.glob("*.jpg"))
    assert drawn == sorted(p.name for p in (shared_data / "coco_mini").glob("*.jpg"))
    entries = json.loads((out / "coco_mini_predictions.json").read_text())
    assert entries, "the detecting checkpoint should find people"
    first = entries[0]
    assert set(first) >= {"image_id", "category_id", "keypoints", "score", "bbox", "file_name"}
    assert len(first["keypoints"]) == 17 * 3 and isinstance(first["image_id"], int)


def test_demo_on_video(monkeypatch, shared_data, detecting_checkpoint, tmp_path) -> None:
    video = shared_data / "video" / "street.mp4"
    if not video.is_file():
        pytest.skip("street.mp4 not in the shared data")
    out = tmp_path / "video"
    _run_demo(monkeypatch, "--checkpoint", str(detecting_checkpoint), "--input", str(video), "--out-dir", str(out),
              "--max-frames", "2", "--batch-size", "2", "--no-progress")
    assert count_video_frames(out / "street.mp4") == 2
    entries = json.loads((out / "street_predictions.json").read_text())
    assert {e["image_id"] for e in entries} <= {0, 1}


def test_demo_rejects_missing_input(monkeypatch, tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="input not found"):
        _run_demo(monkeypatch, "--input", str(tmp_path / "missing.jpg"), "--out-dir", str(tmp_path))


class _FakeCamera:
    """Stands in for ``cv2.VideoCapture(<int>)``: serves street.mp4's frames as if a camera delivered them."""

    opened_with: list = []

    def __init__(self, target, real_capture, video, is_open=True):
        _FakeCamera.opened_with.append(target)
        self._cap = real_capture(str(video)) if is_open else None

    def isOpened(self) -> bool:  # noqa: N802 (OpenCV's name)
        return self._cap is not None

    def read(self):
        return self._cap.read()

    def get(self, prop):
        return 0.0

    def release(self) -> None:
        if self._cap is not None:
            self._cap.release()


def _patch_camera(monkeypatch, video, is_open=True) -> None:
    real = cv2.VideoCapture
    _FakeCamera.opened_with = []

    def capture(target, *args):
        if isinstance(target, int):
            return _FakeCamera(target, real, video, is_open)
        return real(target, *args)

    monkeypatch.setattr(cv2, "VideoCapture", capture)


def test_demo_on_webcam_index(monkeypatch, shared_data, detecting_checkpoint, tmp_path) -> None:
    video = shared_data / "video" / "street.mp4"
    if not video.is_file():
        pytest.skip("street.mp4 not in the shared data")
    _patch_camera(monkeypatch, video)
    out = tmp_path / "cam"
    _run_demo(monkeypatch, "--checkpoint", str(detecting_checkpoint), "--input", "0", "--out-dir", str(out),
              "--max-frames", "3", "--batch-size", "2", "--no-progress")
    assert _FakeCamera.opened_with == [0], "a digit input must open camera index 0, not a file named '0'"
    assert count_video_frames(out / "webcam0.mp4") == 3
    entries = json.loads((out / "webcam0_predictions.json").read_text())
    assert entries and {e["image_id"] for e in entries} <= {0, 1, 2}


def test_demo_reports_a_camera_that_does_not_open(monkeypatch, tmp_path) -> None:
    _patch_camera(monkeypatch, video=None, is_open=False)
    with pytest.raises(RuntimeError, match="cannot open webcam 3"):
        _run_demo(monkeypatch, "--input", "3", "--out-dir", str(tmp_path), "--max-frames", "1")
