"""What a camera's video says of its frames, read without decoding one (OpenCV; a folder of images: its first)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from shared.image_sequences import ImageFolder

if TYPE_CHECKING:
    from shared.config.site import Camera


def frame_size(path: str) -> tuple[int, int] | None:
    """(width, height) of the frames of the video (or folder of images) at `path`; None if it cannot tell."""
    import cv2

    if os.path.isdir(path):
        try:
            first = cv2.imread(str(ImageFolder.open(path).files[0]), cv2.IMREAD_COLOR)
        except (OSError, ValueError):
            return None
        return None if first is None else (first.shape[1], first.shape[0])
    capture = cv2.VideoCapture(path)
    try:
        size = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    finally:
        capture.release()
    return size if min(size) > 0 else None


def stated_frame_count(path: str) -> int | None:
    """How many frames the video file (or folder of images) at `path` holds by its own account; None if unknown.

    Containers that store a duration rather than an index (Matroska, WebM) give an estimate.
    """
    import cv2

    if os.path.isdir(path):
        try:
            return len(ImageFolder.open(path).files)
        except (OSError, ValueError):
            return None
    capture = cv2.VideoCapture(path)
    try:
        count = capture.get(cv2.CAP_PROP_FRAME_COUNT) if capture.isOpened() else 0.0
    finally:
        capture.release()
    return int(count) if count > 0 else None


def camera_frame_size(camera: Camera, source: str | None = None) -> tuple[tuple[int, int] | None, str]:
    """(width, height) of the camera's frames, or None and why it is unknown.

    A crop says it; a video file's header does (`source` stands in for the camera's own, as a
    recording of it does in an evaluation). A live camera is not opened for it: this runs
    anywhere, without its network or credentials, and before the camera is up.
    """
    if camera.crop is not None:
        x0, y0, x1, y1 = camera.crop
        return (x1 - x0, y1 - y0), ""
    path = (source or camera.source).removeprefix("file://")
    if "://" in path or path.isdigit() or path.startswith("/dev/"):
        return None, f"a live source; `mallflow calibrate --camera {camera.id}` checks it on a frame"
    if not os.path.exists(path):
        return None, f"video file {path} not found"
    size = frame_size(path)
    if size is None:
        return None, f"cannot read the frame size of {path}"
    return size, ""
