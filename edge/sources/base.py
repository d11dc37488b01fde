"""The source contract: an iterator of cropped BGR frames with capture timestamps."""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import quote, urlsplit, urlunsplit

import numpy as np
from numpy.typing import NDArray

from edge.frames import Frame
from shared.config.stream import StreamSettings, redact_uri

# rtspt:// forces TCP and rtspu:// UDP in GStreamer's rtspsrc, whatever `stream.transport` says.
_NETWORK_SCHEMES = ("rtsp://", "rtsps://", "rtspt://", "rtspu://", "http://", "https://")


class SourceError(RuntimeError):
    """The source cannot deliver frames; the message names the camera and the cause."""


class SourceKind(StrEnum):
    FILE = "file"
    RTSP = "rtsp"
    V4L2 = "v4l2"


@dataclass(frozen=True)
class SourceSpec:
    camera_id: str
    uri: str
    crop: tuple[int, int, int, int] | None = None
    # Frame rate to assume when the container's is missing or wrong.
    fps_hint: float | None = None
    # Files only: the wall-clock time of the first frame, to back-fill recorded footage at
    # the hour it was shot (default: when the file is opened, as if it were live).
    replay_start_ns: int | None = None
    stream: StreamSettings = field(default_factory=StreamSettings)

    @property
    def display_uri(self) -> str:
        """The URI as logs, errors and status messages may show it: credentials masked."""
        return redact_uri(self.uri)

    @property
    def uri_with_credentials(self) -> str:
        """The URI with the stream's username/password as user:password@, for backends that only take URLs."""
        stream = self.stream
        if stream.username is None or "://" not in self.uri:
            return self.uri
        parts = urlsplit(self.uri)
        userinfo = quote(stream.username, safe="")
        if stream.password is not None:
            userinfo += ":" + quote(stream.password.get_secret_value(), safe="")
        return urlunsplit(parts._replace(netloc=f"{userinfo}@{parts.netloc.rpartition('@')[2]}"))

    @property
    def secrets(self) -> tuple[str, ...]:
        """What must never appear in a message: the password, as given and as it is quoted in URLs."""
        if self.stream.password is None:
            return ()
        password = self.stream.password.get_secret_value()
        return tuple(dict.fromkeys(p for p in (password, quote(password, safe="")) if p))

    @property
    def kind(self) -> SourceKind:
        if self.uri.startswith(_NETWORK_SCHEMES):
            return SourceKind.RTSP
        if self.uri.startswith("v4l2://") or self.uri.isdigit() or self.uri.startswith("/dev/video"):
            return SourceKind.V4L2
        return SourceKind.FILE

    @property
    def path(self) -> str:
        return self.uri.removeprefix("file://")

    @property
    def is_live(self) -> bool:
        return self.kind is not SourceKind.FILE


def resolve_fps(spec: SourceSpec, *stated: float | None) -> float:
    """The frame rate to run at: the hint, else the first positive rate the stream states.

    `stated` lists what the backend found, most trusted first. Nothing usable is an error,
    not a guess: the tracker's track lifetimes and every dwell time scale with the rate.
    """
    if spec.fps_hint is not None and spec.fps_hint > 0:
        return float(spec.fps_hint)
    for fps in stated:
        if fps is not None and math.isfinite(fps) and fps > 0:
            return float(fps)
    raise SourceError(
        f"camera {spec.camera_id}: {spec.display_uri} states no frame rate; pass --fps (mallflow track/analyze)"
        " or set the camera's fps_hint in the site YAML"
    )


class FrameSource(ABC):
    """Yields frames until the stream ends (files) or fails (raises SourceError)."""

    def __init__(self, spec: SourceSpec) -> None:
        self.spec = spec
        self.fps = spec.fps_hint or 0.0
        self._index = 0
        self._start_ns = spec.replay_start_ns if spec.replay_start_ns is not None else time.time_ns()

    @abstractmethod
    def _read(self) -> tuple[NDArray[np.uint8], int | None] | None:
        """Next full frame and its stream timestamp (ns since stream start) or None at the end."""

    @abstractmethod
    def close(self) -> None: ...

    def _live_capture_ns(self) -> int:
        """Wall-clock capture time of the live frame `_read` just returned.

        The read time is all a backend without a pipeline clock knows; sources that know
        when the frame arrived override this, so a reader that falls behind for a moment
        does not squeeze the frames' spacing (dwell and zone grace are timed by it).
        """
        return time.time_ns()

    def _crop(self, image: NDArray[np.uint8]) -> NDArray[np.uint8]:
        if self.spec.crop is None:
            return image
        x0, y0, x1, y1 = self.spec.crop
        h, w = image.shape[:2]
        if x1 > w or y1 > h:
            raise SourceError(f"camera {self.spec.camera_id}: crop {self.spec.crop} exceeds the {w}x{h} frame")
        return image[y0:y1, x0:x1]

    def __iter__(self) -> Iterator[Frame]:
        while True:
            item = self._read()
            if item is None:
                return
            image, pts_ns = item
            if self.spec.is_live:
                capture_ns = self._live_capture_ns()
            elif pts_ns is None:
                # Files without timestamps: the nominal rate.
                capture_ns = self._start_ns + int(self._index * 1e9 / (self.fps or 25.0))
            else:
                capture_ns = self._start_ns + pts_ns
            yield Frame(self.spec.camera_id, self._index, capture_ns, np.ascontiguousarray(self._crop(image)))
            self._index += 1

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
