"""Video helpers for tests."""
from pathlib import Path
from typing import Union

import cv2


def count_video_frames(video: Union[str, Path]) -> int:
    """Number of frames OpenCV can decode from ``video`` (0 if it cannot be opened)."""
    cap = cv2.VideoCapture(str(video))
    count = 0
    while cap.read()[0]:
        count += 1
    cap.release()
    return count
