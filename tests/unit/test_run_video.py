"""run_video: frames detected ahead on worker threads are still tracked one by one, in order."""

from __future__ import annotations

import threading
import time
from typing import cast

import numpy as np
import pytest
from numpy.typing import NDArray

from edge.agent.perception import CameraPerception
from edge.agent.video import run_video
from edge.frames import Frame
from edge.inference.base import Detector
from edge.sources.base import FrameSource, SourceError, SourceSpec
from edge.tracking.association_rate import AssociationPacer


class NumberedFrames(FrameSource):
    """Frames whose pixels all hold their index; fails instead of giving frame `fail_at`."""

    def __init__(self, count: int, fail_at: int | None = None) -> None:
        super().__init__(SourceSpec("cam", "numbered.avi", fps_hint=10.0))
        self.count, self.fail_at, self.given = count, fail_at, 0

    def _read(self) -> tuple[NDArray[np.uint8], int | None] | None:
        if self.given == self.fail_at:
            raise SourceError(f"camera cam: frame {self.given} is corrupt")
        if self.given == self.count:
            return None
        self.given += 1
        return np.full((8, 8, 3), self.given - 1, dtype=np.uint8), None

    def close(self) -> None:
        pass


class PixelReader(Detector):
    """One box per frame scored by the frame's pixel value; every other call is slow, so
    calls made side by side finish out of order."""

    def __init__(self, concurrent: bool) -> None:
        super().__init__("pixel-reader")
        self.concurrent_calls = concurrent  # type: ignore[misc]
        self.finished: list[int] = []
        self._lock = threading.Lock()

    def _detect(self, images: list[NDArray[np.uint8]]) -> list[NDArray[np.float32]]:
        value = int(images[0][0, 0, 0])
        if value % 2 == 0:
            time.sleep(0.02)
        with self._lock:
            self.finished.append(value)
        return [np.array([[0, 0, 4, 4, value / 100, 0]], dtype=np.float32)]


class CappedTracker:
    """A tracker that associates at most `max_fps` frames a second."""

    def __init__(self, max_fps: float | None) -> None:
        self.max_fps = max_fps

    def detection_pacer(self) -> AssociationPacer:
        return AssociationPacer(self.max_fps)


class Recorder:
    """Stands in for CameraPerception: what it was asked to track, in order (None: not detected)."""

    camera_id = "cam"

    def __init__(self, max_fps: float | None = None) -> None:
        self.tracker = CappedTracker(max_fps)
        self.tracked: list[tuple[int, float | None]] = []

    def step(self, frame: Frame, boxes: NDArray[np.float32] | None) -> str:
        self.tracked.append((frame.index, None if boxes is None else round(float(boxes[0, 4]) * 100)))
        return f"facts {frame.index}"


def run(
    source: FrameSource, detector: Detector, ahead: int, max_fps: float | None = None
) -> tuple[list[int], Recorder]:
    recorder = Recorder(max_fps)
    steps = run_video(source, detector, cast(CameraPerception, recorder), detect_ahead=ahead)
    return [step.frame.index for step in steps], recorder


@pytest.mark.parametrize(("ahead", "concurrent"), [(0, False), (1, False), (1, True), (2, True), (5, True)])
def test_every_frame_is_tracked_once_in_order_with_its_own_boxes(ahead: int, concurrent: bool) -> None:
    detector = PixelReader(concurrent)
    indices, recorder = run(NumberedFrames(12), detector, ahead)
    assert indices == list(range(12))
    assert recorder.tracked == [(i, i) for i in range(12)]
    if ahead >= 2:
        # Detection really ran side by side: a slow call was overtaken.
        assert detector.finished != sorted(detector.finished)


@pytest.mark.parametrize("ahead", [0, 1, 2])
@pytest.mark.parametrize(("max_fps", "detected"), [(5.0, range(0, 12, 2)), (4.0, range(0, 12, 3)), (10.0, range(12))])
def test_only_frames_the_tracker_associates_are_detected(ahead: int, max_fps: float, detected: range) -> None:
    """A 10 fps file under the tracker's cap: the frames it carries are tracked without boxes, undetected."""
    detector = PixelReader(True)
    indices, recorder = run(NumberedFrames(12), detector, ahead, max_fps)
    assert indices == list(range(12))
    assert sorted(detector.finished) == list(detected)
    assert recorder.tracked == [(i, i if i in detected else None) for i in range(12)]


@pytest.mark.parametrize("ahead", [0, 1, 2])
def test_frames_read_before_a_source_fails_are_tracked_then_the_failure_raised(ahead: int) -> None:
    recorder = Recorder()
    steps = run_video(
        NumberedFrames(12, fail_at=7), PixelReader(True), cast(CameraPerception, recorder), detect_ahead=ahead
    )
    seen = []
    with pytest.raises(SourceError, match="frame 7 is corrupt"):
        for step in steps:
            seen.append(step.frame.index)
    assert seen == list(range(7))
    assert recorder.tracked == [(i, i) for i in range(7)]


@pytest.mark.parametrize(
    ("ahead", "concurrent", "message"),
    [
        (-1, True, "detect_ahead must be >= 0 frames, got -1"),
        (2, False, "PixelReader takes one call at a time: detect_ahead must be 0 or 1"),
    ],
)
def test_bad_detect_ahead_is_refused(ahead: int, concurrent: bool, message: str) -> None:
    with pytest.raises(ValueError, match=message):  # at the call, before any frame is read
        run_video(NumberedFrames(3), PixelReader(concurrent), cast(CameraPerception, Recorder()), detect_ahead=ahead)
