"""Run one camera's perception over a whole video: the engine of `mallflow track` and `analyze`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tqdm import tqdm

from edge.agent.perception import CameraPerception
from edge.analytics.camera import CameraFacts, StreamEndFacts
from edge.frames import Frame
from edge.inference.base import Detector
from edge.sources.base import FrameSource


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
) -> Iterator[VideoStep]:
    """Detect, track and analyse every frame in order (no frame is skipped on files); `total`:
    the frames the progress bar expects."""
    with tqdm(total=total, unit="frame", disable=not progress, desc=perception.camera_id, leave=False) as bar:
        for frame in source:
            boxes = detector.detect([frame.image])[0]
            yield VideoStep(frame, perception.step(frame, boxes))
            bar.update(1)


def end_of_video(perception: CameraPerception, last: Frame | None) -> StreamEndFacts:
    """Crossings still settling and exits for everyone still inside a zone when the video ends."""
    return StreamEndFacts([], []) if last is None else perception.analytics.close(last.capture_time_ns)
