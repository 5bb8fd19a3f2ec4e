"""Demo inputs: one image, a folder of images, a video file or a webcam index, read as BGR frames."""
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional, Union

import cv2
import numpy as np

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")


@dataclass
class Frame:
    """One input frame: ``name`` (file name or ``frame_000123``), ``index`` (0-based), BGR ``image``."""

    name: str
    index: int
    image: np.ndarray


class FrameSource:
    """Iterate the frames of a demo input.

    Args:
        source (str | int | Path): image file, folder, video file, or webcam index (int or digit string).
        max_frames (int | None): stop after this many frames (videos/webcams; None = all).
    """

    def __init__(self, source: Union[str, int, Path], max_frames: Optional[int] = None) -> None:
        self.max_frames = max_frames
        self.fps = 25.0
        self._files: List[Path] = []
        self._capture_target: Optional[Union[int, str]] = None
        text = str(source)
        path = Path(text)
        if isinstance(source, int) or text.isdigit():
            self.kind = "webcam"
            self._capture_target = int(text)
        elif path.is_dir():
            self.kind = "folder"
            self._files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
            if not self._files:
                raise ValueError(f"input folder {path} contains no images ({', '.join(IMAGE_EXTENSIONS)})")
        elif path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS:
            self.kind = "image"
            self._files = [path]
        elif path.is_file() and path.suffix.lower() in VIDEO_EXTENSIONS:
            self.kind = "video"
            self._capture_target = str(path)
        elif not path.exists():
            raise FileNotFoundError(f"input not found: {path}")
        else:
            raise ValueError(f"input {path}: unsupported file type {path.suffix!r} "
                             f"(images {IMAGE_EXTENSIONS}, videos {VIDEO_EXTENSIONS})")
        self.stem = path.stem if self.kind in ("image", "video") else (path.name if self.kind == "folder"
                                                                       else f"webcam{text}")
        self.total = self._count()

    @property
    def is_stream(self) -> bool:
        """Video or webcam (output is a video), as opposed to image files."""
        return self.kind in ("video", "webcam")

    def _count(self) -> Optional[int]:
        if self._files:
            n = len(self._files)
        elif self.kind == "video":
            cap = cv2.VideoCapture(self._capture_target)
            n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or None
            self.fps = float(cap.get(cv2.CAP_PROP_FPS) or 25.0)
            cap.release()
        else:
            n = None
        if self.max_frames is not None:
            n = self.max_frames if n is None else min(n, self.max_frames)
        return n

    def __iter__(self) -> Iterator[Frame]:
        if self._files:
            for index, file in enumerate(self._files):
                image = cv2.imread(str(file), cv2.IMREAD_UNCHANGED)
                if image is None:
                    raise ValueError(f"cannot decode image file {file}")
                yield Frame(file.name, index, image)
            return
        cap = cv2.VideoCapture(self._capture_target)
        if not cap.isOpened():
            raise RuntimeError(f"cannot open {self.kind} {self._capture_target!r}")
        try:
            index = 0
            while self.max_frames is None or index < self.max_frames:
                ok, image = cap.read()
                if not ok:
                    break
                yield Frame(f"frame_{index:06d}", index, image)
                index += 1
        finally:
            cap.release()
