"""GStreamer source: uridecodebin → videoconvert → appsink (BGR), for files, RTSP and V4L2.

`gi` is imported only when this source is chosen, so machines without GStreamer
still import `edge`.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import NDArray

from edge.sources.base import FrameSource, SourceError, SourceKind, SourceSpec, resolve_fps
from shared.config.stream import redact_text

_RTSPSRC_SCHEMES = ("rtsp://", "rtsps://", "rtspt://", "rtspu://")
# A dead server must not hold up the reconnect: the TEARDOWN request gets this long.
_TEARDOWN_TIMEOUT_NS = 200_000_000
# Frames decoded at open to measure the rate when the caps state none.
_RATE_PROBE_FRAMES = 3


def gstreamer_available() -> bool:
    try:
        _gst()
    except (ImportError, ValueError):
        return False
    return True


_INIT_LOCK = threading.Lock()


def _gst() -> Any:
    # Each camera opens its source on its own reader thread. Racing first imports hand one
    # thread Gst before PyGObject has loaded its overrides ("Expected Gst.MapInfo, but got
    # gi.repository.Gst.MapInfo" at the first buffer), and racing Gst.init calls can leave
    # one with a half-loaded plugin registry ("missing a plug-in"): both happen under one lock.
    with _INIT_LOCK:
        import gi

        gi.require_version("Gst", "1.0")
        from gi.repository import Gst

        if not Gst.is_initialized():
            Gst.init(None)
        # PyGObject makes a type's Python wrapper on first use, and two threads doing that
        # at once can each make one: objects of one then fail the other's type checks
        # ("Expected Gst.MapInfo, but got gi.repository.Gst.MapInfo", "Must be Gst.Buffer,
        # not Buffer"; 5 of 16 runs of three sources opened at once). Making every wrapper
        # a source touches here, under the lock, leaves nothing for camera threads to race
        # on, also where something else initialised Gst first (cheap once they exist).
        for name in _GST_TYPES:
            getattr(Gst, name)
    return Gst


# Every Gst type a source's pipeline, bus, samples and buffers hand to Python.
_GST_TYPES = (
    "Bin", "Buffer", "Bus", "Caps", "Clock", "Element", "ElementFactory", "FlowReturn", "Format",
    "MapFlags", "MapInfo", "Memory", "Message", "MessageType", "Object", "Pad", "Pipeline", "Sample",
    "Segment", "State", "StateChangeReturn", "Structure", "SystemClock",
)  # fmt: skip


def pipeline_description(spec: SourceSpec, uri: str) -> str:
    """The launch line for a source; live sources drop stale frames instead of queueing them.

    RTSP gets its own rtspsrc (credentials are set as properties, never in this line) so
    the transport, the jitter buffer and the TCP timeout are the camera's, not the defaults
    (a 2 s jitter buffer, 20 s to notice a dead server).
    """
    if spec.kind is SourceKind.V4L2:
        dev = spec.uri.removeprefix("v4l2://")
        dev = f"/dev/video{dev}" if dev.isdigit() else dev
        head = f"v4l2src device={dev}"
    elif spec.uri.startswith(_RTSPSRC_SCHEMES):
        stream = spec.stream
        head = (
            f'rtspsrc name=src location="{uri}" protocols={stream.transport.value} latency={stream.latency_ms} '
            f"tcp-timeout={int(stream.stall_timeout_s * 1e6)} teardown-timeout={_TEARDOWN_TIMEOUT_NS} ! decodebin"
        )
    else:
        head = f'uridecodebin uri="{uri}"'
    drop = "true" if spec.is_live else "false"
    return (
        f"{head} ! videoconvert ! video/x-raw,format=BGR ! "
        f"appsink name=sink emit-signals=false sync=false max-buffers=4 drop={drop}"
    )


@dataclass(frozen=True)
class _Decoded:
    image: NDArray[np.uint8]
    pts_ns: int | None
    duration_ns: int | None
    # The negotiated caps' `framerate`; None for 0/1 (variable or unknown) or absent.
    caps_fps: float | None
    # Wall-clock time the pipeline clock gives the buffer (live sources); None if unknown.
    clock_wall_ns: int | None = None


def caps_rate(structure: Any) -> float | None:
    """A caps structure's `framerate` in frames per second, None where it states no rate."""
    ok, num, den = structure.get_fraction("framerate")
    if not ok or num <= 0 or den <= 0:
        return None
    return float(num / den)


def stream_rate(caps_fps: float | None, first_duration_ns: int | None, stamps: Sequence[int | None]) -> float | None:
    """What a stream tells of its rate: the caps, else a frame's duration, else its timestamps' spacing.

    Caps of 0/1 mean variable or unknown; FFmpeg (OpenCV's backend) then measures the
    timestamps too. The smallest gap is immune to a frame dropped while probing.
    """
    if caps_fps:
        return caps_fps
    if first_duration_ns:
        return 1e9 / first_duration_ns
    known = [t for t in stamps if t is not None]
    gaps = [b - a for a, b in pairwise(known) if b > a]
    return 1e9 / min(gaps) if gaps else None


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
        self._pull_timeout_ns = int(spec.stream.stall_timeout_s * Gst.SECOND)
        self._pipeline = Gst.parse_launch(pipeline_description(spec, uri))
        self._set_credentials()
        self._sink = self._pipeline.get_by_name("sink")
        self._bus = self._pipeline.get_bus()
        self._first_pts: int | None = None
        self._last_clock_wall_ns: int | None = None
        self._pending: deque[_Decoded] = deque()
        if self._pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            self._raise_bus_error(f"cannot start pipeline for {spec.display_uri}")
        # The rate is only known once caps are negotiated, so the first frame is pulled
        # here: callers size the tracker from `fps` before asking for frames.
        try:
            first = self._pull(required=True)
            if first is None:
                raise SourceError(f"camera {spec.camera_id}: {spec.display_uri} opened but yields no decodable frame")
            self._pending.append(first)
            self.fps = self._probe_rate()
        except BaseException:
            self.close()
            raise

    def _set_credentials(self) -> None:
        src = self._pipeline.get_by_name("src")
        stream = self.spec.stream
        if src is None or stream.username is None:
            return
        src.set_property("user-id", stream.username)
        if stream.password is not None:
            src.set_property("user-pw", stream.password.get_secret_value())

    def _probe_rate(self) -> float:
        first = self._pending[0]
        if not (self.spec.fps_hint or first.caps_fps or first.duration_ns):
            while len(self._pending) < _RATE_PROBE_FRAMES:
                decoded = self._pull(required=False)
                if decoded is None:
                    break
                self._pending.append(decoded)
        stated = stream_rate(first.caps_fps, first.duration_ns, [d.pts_ns for d in self._pending])
        return resolve_fps(self.spec, stated)

    def _redact(self, message: str) -> str:
        # GStreamer's messages may quote the location, user:password@ included.
        return redact_text(message, self.spec.secrets)

    def _raise_bus_error(self, fallback: str) -> None:
        Gst = self._Gst
        msg = self._bus.pop_filtered(Gst.MessageType.ERROR)
        detail = fallback
        if msg is not None:
            err, _debug = msg.parse_error()
            detail = f"{err.message}"
        self.close()
        raise SourceError(f"camera {self.spec.camera_id}: {self._redact(detail)} ({self.spec.display_uri})")

    def _pull(self, required: bool) -> _Decoded | None:
        """The next decoded frame; None at the end of a file (or a stall after its first frame)."""
        Gst = self._Gst
        sample = self._sink.emit("try-pull-sample", self._pull_timeout_ns)
        if sample is None:
            err = self._bus.pop_filtered(Gst.MessageType.ERROR)
            if err is not None:
                e, _ = err.parse_error()
                self.close()
                raise SourceError(f"camera {self.spec.camera_id}: {self._redact(e.message)} ({self.spec.display_uri})")
            if self._sink.get_property("eos"):
                if not self.spec.is_live:
                    return None
                # A camera that says goodbye (the server's end of stream) is a drop to reconnect.
                self.close()
                raise SourceError(f"camera {self.spec.camera_id}: the stream ended ({self.spec.display_uri})")
            if self.spec.is_live or required:
                self._raise_bus_error(f"no frame within {self.spec.stream.stall_timeout_s:g} s")
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
        duration = buf.duration if buf.duration != Gst.CLOCK_TIME_NONE else None
        clock_wall = self._clock_wall_ns(sample.get_segment(), pts) if self.spec.is_live else None
        return _Decoded(image, pts, duration, caps_rate(caps), clock_wall)

    def _clock_wall_ns(self, segment: Any, pts: int | None) -> int | None:
        """The buffer's time on the pipeline clock, as wall-clock ns.

        A live source stamps each buffer with its running time when it arrived (rtspsrc:
        smoothed by the jitter buffer over the RTP timestamps), so base time + running
        time is the arrival on the pipeline clock; the clock's offset to the wall clock is
        taken now, which also follows a wall-clock step.
        """
        Gst = self._Gst
        clock = self._pipeline.get_clock() if self._pipeline is not None else None
        if pts is None or clock is None:
            return None
        running = segment.to_running_time(Gst.Format.TIME, pts)
        if running == Gst.CLOCK_TIME_NONE:
            return None
        clock_now = clock.get_time()
        wall_now = time.time_ns()
        arrived = self._pipeline.get_base_time() + running
        # Never later than now: a clock read racing the buffer must not stamp the future.
        return wall_now - max(0, clock_now - arrived)

    def _read(self) -> tuple[NDArray[np.uint8], int | None] | None:
        decoded = self._pending.popleft() if self._pending else self._pull(required=False)
        if decoded is None:
            return None
        self._last_clock_wall_ns = decoded.clock_wall_ns
        pts = decoded.pts_ns
        if pts is not None:
            if self._first_pts is None:
                self._first_pts = pts
            pts -= self._first_pts
        if self.spec.fps_hint and not self.spec.is_live:
            # Trust the installer's fps over the container's (vtest.avi claims 10, it is 7).
            pts = None
        return decoded.image, pts

    def _live_capture_ns(self) -> int:
        stamped = self._last_clock_wall_ns
        return stamped if stamped is not None else super()._live_capture_ns()

    def close(self) -> None:
        pipeline = getattr(self, "_pipeline", None)
        if pipeline is not None:
            pipeline.set_state(self._Gst.State.NULL)
            self._pipeline = None
