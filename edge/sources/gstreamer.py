"""GStreamer source: uridecodebin → videoconvert → appsink (BGR), for files, RTSP and V4L2.

`gi` is imported only when this source is chosen, so machines without GStreamer
still import `edge`.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edge.sources.base import FrameSource, SourceError, SourceKind, SourceSpec

_PULL_TIMEOUT_NS = 5 * 1_000_000_000


def gstreamer_available() -> bool:
    try:
        _gst()
    except (ImportError, ValueError):
        return False
    return True


_INIT_LOCK = threading.Lock()


def _gst() -> Any:
    import gi

    gi.require_version("Gst", "1.0")
    from gi.repository import Gst

    # Each camera opens its source on its own reader thread: two racing Gst.init calls
    # can leave one with a half-loaded plugin registry ("missing a plug-in").
    with _INIT_LOCK:
        if not Gst.is_initialized():
            Gst.init(None)
    return Gst


def pipeline_description(spec: SourceSpec, uri: str) -> str:
    """The launch line for a source; live sources drop stale frames instead of queueing them."""
    if spec.kind is SourceKind.V4L2:
        dev = spec.uri.removeprefix("v4l2://")
        dev = f"/dev/video{dev}" if dev.isdigit() else dev
        head = f"v4l2src device={dev}"
    else:
        head = f'uridecodebin uri="{uri}"'
    drop = "true" if spec.is_live else "false"
    return (
        f"{head} ! videoconvert ! video/x-raw,format=BGR ! "
        f"appsink name=sink emit-signals=false sync=false max-buffers=4 drop={drop}"
    )


class GStreamerSource(FrameSource):
    def __init__(self, spec: SourceSpec) -> None:
        super().__init__(spec)
        Gst = _gst()
        self._Gst = Gst
        if spec.kind is SourceKind.FILE:
            if not os.path.isfile(spec.path):
                raise SourceError(f"camera {spec.camera_id}: video file {spec.path} does not exist")
            uri = Gst.filename_to_uri(os.path.abspath(spec.path))
        else:
            uri = spec.uri
        self._pipeline = Gst.parse_launch(pipeline_description(spec, uri))
        self._sink = self._pipeline.get_by_name("sink")
        self._bus = self._pipeline.get_bus()
        if self._pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            self._raise_bus_error(f"cannot start pipeline for {spec.uri}")
        self._first_pts: int | None = None

    def _raise_bus_error(self, fallback: str) -> None:
        Gst = self._Gst
        msg = self._bus.pop_filtered(Gst.MessageType.ERROR)
        detail = fallback
        if msg is not None:
            err, _debug = msg.parse_error()
            detail = f"{err.message}"
        self.close()
        raise SourceError(f"camera {self.spec.camera_id}: {detail} ({self.spec.uri})")

    def _read(self) -> tuple[NDArray[np.uint8], int | None] | None:
        Gst = self._Gst
        sample = self._sink.emit("try-pull-sample", _PULL_TIMEOUT_NS)
        if sample is None:
            err = self._bus.pop_filtered(Gst.MessageType.ERROR)
            if err is not None:
                e, _ = err.parse_error()
                self.close()
                raise SourceError(f"camera {self.spec.camera_id}: {e.message} ({self.spec.uri})")
            if self._sink.get_property("eos") and not self.spec.is_live:
                return None
            if self.spec.is_live or self._index == 0:
                self._raise_bus_error("no frame within 5 s")
            return None
        caps = sample.get_caps().get_structure(0)
        width, height = caps.get_value("width"), caps.get_value("height")
        buf = sample.get_buffer()
        ok, info = buf.map(Gst.MapFlags.READ)
        if not ok:
            raise SourceError(f"camera {self.spec.camera_id}: cannot map a decoded buffer")
        try:
            stride = len(info.data) // height
            frame = np.frombuffer(info.data, dtype=np.uint8).reshape(height, stride)[:, : width * 3]
            image = frame.reshape(height, width, 3).copy()
        finally:
            buf.unmap(info)
        pts = buf.pts if buf.pts != Gst.CLOCK_TIME_NONE else None
        if pts is not None:
            if self._first_pts is None:
                self._first_pts = pts
            pts -= self._first_pts
        if self.spec.fps_hint and not self.spec.is_live:
            # Trust the installer's fps over the container's (vtest.avi claims 10, it is 7).
            pts = None
        return image, pts

    def close(self) -> None:
        pipeline = getattr(self, "_pipeline", None)
        if pipeline is not None:
            pipeline.set_state(self._Gst.State.NULL)
            self._pipeline = None
