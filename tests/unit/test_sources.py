"""Frame sources on real footage, broken inputs, and the reconnect loop."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from edge.frames import Frame
from edge.sources.base import FrameSource, SourceError, SourceKind, SourceSpec
from edge.sources.factory import open_source
from edge.sources.gstreamer import gstreamer_available
from edge.sources.reconnect import Backoff, ReconnectingSource, SourceEvent, SourceState

BACKENDS = [
    "opencv",
    pytest.param(
        "gstreamer",
        marks=pytest.mark.skipif(not gstreamer_available(), reason="python gi with GStreamer 1.0 not importable"),
    ),
]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend", BACKENDS)
def test_reads_every_frame_with_crop_and_nominal_timestamps(vtest_video: Path, backend: str) -> None:
    spec = SourceSpec("cam", str(vtest_video), crop=(420, 0, 768, 576), fps_hint=7.0)
    with open_source(spec, backend) as source:
        frames = list(source)
    assert len(frames) == 795
    assert {f.image.shape for f in frames} == {(576, 348, 3)}
    assert [f.index for f in frames] == list(range(795))
    steps = np.diff([f.capture_time_ns for f in frames])
    # Files are stamped at the true rate (the fps hint), not the container's 10 fps.
    np.testing.assert_allclose(steps, 1e9 / 7, atol=1e6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_opencv_and_gstreamer_decode_the_same_pictures(vtest_video: Path, backend: str) -> None:
    with open_source(SourceSpec("cam", str(vtest_video)), backend) as source:
        first = next(iter(source)).image
    with open_source(SourceSpec("cam", str(vtest_video)), "opencv") as reference:
        expected = next(iter(reference)).image
    # Different decoders and colour conversions: close, not bit-identical.
    assert np.abs(first.astype(int) - expected.astype(int)).mean() < 3


@pytest.mark.timeout(60)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    ("content", "what"),
    [(None, "does not exist"), (b"", ""), (b"RIFF\x00\x00\x00\x00AVI LIST" + bytes(range(256)) * 40, "")],
    ids=["missing", "empty", "garbage"],
)
def test_broken_files_give_a_clear_error_naming_the_camera(
    tmp_path: Path, backend: str, content: bytes | None, what: str
) -> None:
    path = tmp_path / "broken.avi"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SourceError) as err, open_source(SourceSpec("cam-7", str(path)), backend) as source:
        list(source)
    assert "cam-7" in str(err.value)
    assert what in str(err.value)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("backend", BACKENDS)
def test_truncated_video_yields_what_it_has_or_errors_cleanly(tmp_path: Path, vtest_video: Path, backend: str) -> None:
    path = tmp_path / "truncated.avi"
    path.write_bytes(vtest_video.read_bytes()[:2_000_000])
    try:
        with open_source(SourceSpec("cam", str(path), fps_hint=7), backend) as source:
            frames = list(source)
    except SourceError as exc:
        assert "cam" in str(exc)
    else:
        assert 0 < len(frames) < 795


@pytest.mark.parametrize(
    ("uri", "kind"),
    [
        ("/data/a.mp4", SourceKind.FILE),
        ("file:///data/a.mp4", SourceKind.FILE),
        ("rtsp://10.0.0.5/stream1", SourceKind.RTSP),
        ("v4l2:///dev/video0", SourceKind.V4L2),
        ("0", SourceKind.V4L2),
    ],
)
def test_source_kinds(uri: str, kind: SourceKind) -> None:
    assert SourceSpec("cam", uri).kind is kind


def test_crop_beyond_the_frame_is_an_error(vtest_video: Path) -> None:
    source = open_source(SourceSpec("cam", str(vtest_video), crop=(0, 0, 2000, 576)), "opencv")
    with source, pytest.raises(SourceError, match="exceeds"):
        next(iter(source))


def test_unknown_backend_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown source backend"):
        open_source(SourceSpec("cam", "x.avi"), "ffmpeg")


@pytest.mark.timeout(60)
def test_dead_rtsp_url_is_retried_with_backoff_until_stopped() -> None:
    events: list[SourceEvent] = []
    stop = threading.Event()

    def record(event: SourceEvent) -> None:
        events.append(event)
        if len(events) >= 3:
            stop.set()

    source = ReconnectingSource(
        SourceSpec("cam-rtsp", "rtsp://127.0.0.1:1/none"),
        lambda spec: open_source(spec, "opencv"),
        record,
        Backoff(initial_s=0.01, max_s=0.05),
        stop,
    )
    assert list(source) == []
    assert [e.state for e in events] == [SourceState.RECONNECTING] * 3
    assert [e.attempt for e in events] == [1, 2, 3]
    assert all("cam-rtsp" in e.message for e in events)


class FlakySource(FrameSource):
    """A live stream that delivers `frames` frames, then drops."""

    def __init__(self, spec: SourceSpec, frames: int) -> None:
        super().__init__(spec)
        self.remaining = frames
        self.fps = 10.0

    def _read(self) -> tuple[NDArray[np.uint8], int | None] | None:
        if self.remaining == 0:
            raise SourceError(f"camera {self.spec.camera_id}: stream dropped")
        self.remaining -= 1
        return np.zeros((4, 4, 3), np.uint8), None

    def close(self) -> None:
        pass


def test_reconnects_after_failures_and_keeps_counting_frames() -> None:
    attempts: list[int] = []
    stop = threading.Event()

    def opener(spec: SourceSpec) -> FrameSource:
        attempts.append(1)
        if len(attempts) in (2, 3):
            raise SourceError(f"camera {spec.camera_id}: connection refused")
        return FlakySource(spec, frames=5)

    events: list[SourceEvent] = []
    source = ReconnectingSource(
        SourceSpec("cam", "rtsp://cam/live"), opener, events.append, Backoff(0.001, 2, 0.01), stop
    )
    frames: list[Frame] = []
    it: Iterator[Frame] = iter(source)
    for frame in it:
        frames.append(frame)
        if len(frames) == 10:
            stop.set()
    assert [f.index for f in frames] == list(range(10))
    online, reconnecting = SourceState.ONLINE, SourceState.RECONNECTING
    # Drop, two refused reconnects, back online; the second stream drops when asked for frame 11.
    assert [e.state for e in events] == [online, reconnecting, reconnecting, reconnecting, online, reconnecting]
    assert [e.attempt for e in events if e.state is reconnecting] == [1, 2, 3, 1]


def test_backoff_doubles_up_to_the_cap() -> None:
    b = Backoff(initial_s=1, factor=2, max_s=5)
    assert [b.delay(n) for n in range(1, 6)] == [1, 2, 4, 5, 5]


def test_a_file_that_fails_is_offline_not_retried(tmp_path: Path) -> None:
    events: list[SourceEvent] = []
    source = ReconnectingSource(
        SourceSpec("cam", str(tmp_path / "missing.avi")), lambda s: open_source(s, "opencv"), events.append
    )
    with pytest.raises(SourceError, match=r"missing\.avi"):
        list(source)
    assert [e.state for e in events] == [SourceState.OFFLINE]
