"""Run one camera's perception over a whole video: the engine of `mallflow track` and `analyze`."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

from edge.agent.perception import CameraPerception
from edge.analytics.camera import CameraFacts, StreamEndFacts
from edge.frames import Frame
from edge.inference.base import Detector
from edge.sources.base import FrameSource
from edge.tracking.association_rate import AssociationPacer


@dataclass(frozen=True)
class VideoStep:
    frame: Frame
    facts: CameraFacts


def run_video(
    source: FrameSource,
    detector: Detector,
    perception: CameraPerception,
    progress: bool = False,
    total: int | None = None,
    detect_ahead: int = 0,
) -> Iterator[VideoStep]:
    """Detect, track and analyse every frame in order (no frame is skipped on files); `total`:
    the frames the progress bar expects. Frames the tracker will carry rather than associate
    (a camera faster than `tracking.max_association_fps`) are not detected: it reads no boxes there.

    With `detect_ahead` > 0, that many later frames are in detection on worker threads while
    the caller's thread tracks the current one, as the agent overlaps them; the steps and their
    order are the same. More than one needs a detector that allows concurrent calls.
    """
    if detect_ahead < 0:
        raise ValueError(f"detect_ahead must be >= 0 frames, got {detect_ahead}")
    if detect_ahead > 1 and not detector.concurrent_calls:
        raise ValueError(f"{type(detector).__name__} takes one call at a time: detect_ahead must be 0 or 1")
    pacer = perception.tracker.detection_pacer()
    detected = (
        _detected_ahead(source, detector, detect_ahead, pacer) if detect_ahead else _detected(source, detector, pacer)
    )
    return _tracked(detected, perception, progress, total)


def _tracked(
    detected: Iterator[tuple[Frame, NDArray[np.float32] | None]],
    perception: CameraPerception,
    progress: bool,
    total: int | None,
) -> Iterator[VideoStep]:
    with tqdm(total=total, unit="frame", disable=not progress, desc=perception.camera_id, leave=False) as bar:
        for frame, boxes in detected:
            yield VideoStep(frame, perception.step(frame, boxes))
            bar.update(1)


def _detected(
    source: FrameSource, detector: Detector, pacer: AssociationPacer
) -> Iterator[tuple[Frame, NDArray[np.float32] | None]]:
    for frame in source:
        yield frame, detector.detect([frame.image])[0] if pacer.due(frame.capture_time_ns) else None


def _detected_ahead(
    source: FrameSource, detector: Detector, ahead: int, pacer: AssociationPacer
) -> Iterator[tuple[Frame, NDArray[np.float32] | None]]:
    pending: deque[tuple[Frame, Future[list[NDArray[np.float32]]] | None]] = deque()
    failure: Exception | None = None
    with ThreadPoolExecutor(max_workers=ahead, thread_name_prefix="detect") as pool:
        frames = iter(source)
        while True:
            try:
                frame = next(frames, None)
            except Exception as exc:
                # The frames read before a source failed are still tracked; then the failure.
                failure = exc
                break
            if frame is None:
                break
            due = pacer.due(frame.capture_time_ns)
            pending.append((frame, pool.submit(detector.detect, [frame.image]) if due else None))
            if len(pending) > ahead:
                yield _boxes(*pending.popleft())
        while pending:
            yield _boxes(*pending.popleft())
    if failure is not None:
        raise failure


def _boxes(frame: Frame, future: Future[list[NDArray[np.float32]]] | None) -> tuple[Frame, NDArray[np.float32] | None]:
    return frame, None if future is None else future.result()[0]


def end_of_video(perception: CameraPerception, last: Frame | None) -> StreamEndFacts:
    """Crossings still settling and exits for everyone still inside a zone when the video ends."""
    return StreamEndFacts([], []) if last is None else perception.analytics.close(last.capture_time_ns)
