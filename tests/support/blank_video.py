"""A tiny video of black frames at a given size, for code that reads a file's header."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def blank_video(path: Path, height: int, width: int, frames: int = 2) -> Path:
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (width, height))
    for _ in range(frames):
        writer.write(np.zeros((height, width, 3), np.uint8))
    writer.release()
    return path
