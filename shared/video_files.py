"""What a video file's header says, read without decoding it (OpenCV)."""

from __future__ import annotations


def frame_size(path: str) -> tuple[int, int] | None:
    """(width, height) of the frames of the video (or image pattern) at `path`; None if it cannot tell."""
    import cv2

    capture = cv2.VideoCapture(path)
    try:
        size = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    finally:
        capture.release()
    return size if min(size) > 0 else None
