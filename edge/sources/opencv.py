"""OpenCV VideoCapture source (FFmpeg / V4L2 backends): the fallback when GStreamer is absent.

Of a camera's `stream` settings it honours the credentials and the stall timeout (FFmpeg's
open and read timeouts); transport and jitter buffer are FFmpeg's own.
"""

from __future__ import annotations

import os

import cv2
import numpy as np
from numpy.typing import NDArray

from edge.sources.base import FrameSource, SourceError, SourceKind, SourceSpec, resolve_fps


class OpenCVSource(FrameSource):
    def __init__(self, spec: SourceSpec) -> None:
        super().__init__(spec)
        if spec.kind is SourceKind.FILE and not os.path.isfile(spec.path):
            raise SourceError(f"camera {spec.camera_id}: video file {spec.path} does not exist")
        target: str | int = spec.path if spec.kind is SourceKind.FILE else spec.uri_with_credentials
        if spec.kind is SourceKind.V4L2:
            dev = spec.uri.removeprefix("v4l2://").removeprefix("/dev/video")
            target = int(dev) if dev.isdigit() else spec.uri.removeprefix("v4l2://")
        if spec.kind is SourceKind.RTSP:
            # Without these FFmpeg waits on a stalled server for as long as the TCP connection lives.
            timeout_ms = round(spec.stream.stall_timeout_s * 1000)
            params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms]
            self._cap = cv2.VideoCapture(target, cv2.CAP_FFMPEG, params)
        else:
            self._cap = cv2.VideoCapture(target)
        if not self._cap.isOpened():
            raise SourceError(
                f"camera {spec.camera_id}: cannot open {spec.display_uri} (unreadable, corrupt or unreachable)"
            )
        ok, first = self._cap.read()
        if not ok or first is None:
            self._cap.release()
            raise SourceError(f"camera {spec.camera_id}: {spec.display_uri} opened but yields no decodable frame")
        self._pending: NDArray[np.uint8] | None = np.asarray(first, dtype=np.uint8)
        try:
            self.fps = resolve_fps(spec, float(self._cap.get(cv2.CAP_PROP_FPS) or 0.0))
        except SourceError:
            self._cap.release()
            raise

    def _read(self) -> tuple[NDArray[np.uint8], int | None] | None:
        if self._pending is not None:
            frame, self._pending = self._pending, None
            return frame, None
        ok, raw = self._cap.read()
        if not ok or raw is None:
            if self.spec.is_live:
                raise SourceError(
                    f"camera {self.spec.camera_id}: stream {self.spec.display_uri} stopped delivering frames"
                )
            return None
        # File timestamps follow the fps hint: containers often lie (vtest.avi says 10, it is 7).
        return np.asarray(raw, dtype=np.uint8), None

    def close(self) -> None:
        self._cap.release()
