"""Line crossings and zone visits straight from ground-truth tracks.

Two yardsticks. By plain geometry (`line_crossings`, `zone_visits`): no smoothing, no
thresholds, no state beyond consecutive samples of one identity. Through the product's
own rules (`debounced_crossings`, `monitored_visits`): the ground-truth tracks run
through `LineCounter` and `ZoneMonitor` with the site's settle time, dead band, enter
time and exit grace, so what remains between them and the pipeline's numbers is what
the detector and tracker got wrong, not the debounce (which `confirmable`-style tests
relate to the geometry).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edge.analytics.coverage import CoverageArea
from edge.analytics.events import Direction, ZoneEventKind
from edge.analytics.frame import FramePoints
from edge.analytics.lines import LineCounter
from edge.analytics.zones import ZoneMonitor
from edge.evaluation.mot import MotSequence
from shared.config.site import Camera, Line, Zone
from shared.geometry import FloorMapper, point_in_polygon, side_of_line


@dataclass(frozen=True)
class ReferenceCrossing:
    track_id: int
    frame: int  # first frame on the new side
    direction: Direction


@dataclass(frozen=True)
class ReferenceVisit:
    """A maximal run of consecutive samples of one identity inside a zone."""

    track_id: int
    first_frame: int
    last_frame: int
    dwell_s: float  # (last_frame − first_frame + 1) / fps: every frame inside, as the monitor measures it


def line_crossings(gt: MotSequence, p1: Sequence[float], p2: Sequence[float]) -> list[ReferenceCrossing]:
    """Every step between consecutive foot points of an identity that goes through the
    segment P1–P2; `in` when it ends where (P2−P1)×(X−P1) > 0.

    Samples exactly on the line have no side and are skipped; the step is then taken
    from the last sample that had one.
    """
    crossings = []
    for track_id in gt.track_ids().tolist():
        track = gt.track(track_id)
        feet = track.foot_points()
        sides = np.sign(side_of_line(feet, p1, p2))
        off_line = np.flatnonzero(sides != 0)
        for a, b in itertools.pairwise(off_line):
            if sides[a] == sides[b]:
                continue
            # a and b are on opposite sides of the line, so the step a→b meets the
            # segment unless P1 and P2 both lie strictly on one side of the step.
            ends = side_of_line(np.array([p1, p2], dtype=np.float64), feet[a], feet[b])
            if ends[0] * ends[1] <= 0:
                direction = Direction.IN if sides[b] > 0 else Direction.OUT
                crossings.append(ReferenceCrossing(track_id, int(track.frame[b]), direction))
    return crossings


def count_crossings(crossings: Sequence[ReferenceCrossing]) -> dict[Direction, int]:
    counts = Counter(c.direction for c in crossings)
    return {Direction.IN: counts[Direction.IN], Direction.OUT: counts[Direction.OUT]}


def zone_visits(gt: MotSequence, polygon: Sequence[Sequence[float]], fps: float) -> list[ReferenceVisit]:
    """Runs of consecutive samples with the foot point inside the polygon, per identity.

    A visit starts at the first sample inside and ends at the last one before a sample
    outside (or the end of the identity); samples are consecutive even across frames
    where the identity is not annotated.
    """
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    visits = []
    for track_id in gt.track_ids().tolist():
        track = gt.track(track_id)
        inside = point_in_polygon(track.foot_points(), polygon)
        # Pad with False so every run has a rising and a falling edge.
        edges = np.diff(np.concatenate([[False], inside, [False]]).astype(np.int8))
        for start, stop in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
            first, last = int(track.frame[start]), int(track.frame[stop - 1])
            visits.append(ReferenceVisit(track_id, first, last, (last - first + 1) / fps))
    return visits


def walked_paths(gt: MotSequence, camera: Camera | None = None) -> MotSequence:
    """Where the ground truth's people walked: every row of a person, the do-not-care ones included
    (cars, occluders and reflections that MOT16/17/20 annotate are left out).

    A MOTChallenge row flagged 0 is a box that detection scoring ignores (PETS09-S2L1: two
    people at the back of the plaza for ~100 frames each), not a person who is absent: the
    position is annotated all the same. A counter that counts them is right; dropping those
    rows would cut their paths in two and make a correct crossing or visit look like an error.

    With `camera`, only the rows standing inside its coverage (if it declares one): the
    camera reports nobody outside it, so neither does its reference.
    """
    people = gt.people()
    paths = people.select(np.isfinite(people.confidence))
    if camera is None or camera.coverage is None:
        return paths
    foot = paths.foot_points()
    mapper = FloorMapper.for_camera(camera)
    floor = np.full_like(foot, np.nan) if mapper is None else mapper.to_floor(foot)
    return paths.select(CoverageArea(camera.coverage).contains(foot, floor))


def _frame_ns(frame: int, fps: float) -> int:
    return round((frame - 1) * 1e9 / fps)


@dataclass(frozen=True)
class WalkedFrames:
    """Ground-truth tracks of frames 1..n, every frame (empty ones too), prepared once for every
    line and zone replayed over them.

    Each frame's points are what `LineCounter` and `ZoneMonitor` would derive from its boxes
    themselves; done per shape, that derivation was most of judging 300 shapes.
    """

    frames: list[tuple[int, FramePoints]]

    @classmethod
    def of(cls, gt: MotSequence, count: int) -> WalkedFrames:
        return cls([(frame, FramePoints.of(detections)) for frame, detections in gt.detections(1, count)])

    @property
    def last_frame(self) -> int:
        return len(self.frames)


def debounced_crossings(walked: WalkedFrames, line: Line, fps: float) -> list[ReferenceCrossing]:
    """Crossings `LineCounter` confirms on the ground-truth tracks (image space)."""
    # Ground-truth identities never switch: nothing for the handover to repair, so it is off.
    counter = LineCounter(line, handover_distance=0.0)
    events = []
    for frame, points in walked.frames:
        events += counter.trigger_frame(points, _frame_ns(frame, fps))
    events += counter.close_all()
    return [ReferenceCrossing(e.track_id, round(e.time_ns * fps / 1e9) + 1, e.direction) for e in events]


def monitored_visits(walked: WalkedFrames, zone: Zone, fps: float) -> list[ReferenceVisit]:
    """Visits `ZoneMonitor` reports on the ground-truth tracks, closed at the last frame."""
    monitor = ZoneMonitor(zone, handover_distance=0.0)
    events = []
    for frame, points in walked.frames:
        events += monitor.trigger_frame(points, _frame_ns(frame, fps))
    events += monitor.close_all(_frame_ns(walked.last_frame, fps))
    visits = []
    for event in events:
        if event.kind is ZoneEventKind.EXIT and event.entered_time_ns is not None and event.dwell_s is not None:
            first = round(event.entered_time_ns * fps / 1e9) + 1
            last = round(event.time_ns * fps / 1e9)
            visits.append(ReferenceVisit(event.track_id, first, last, event.dwell_s))
    return visits
