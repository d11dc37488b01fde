"""Directional counting across a finite line segment, robust to jitter and ID switches."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from edge.analytics.events import Direction, LineCrossingEvent, PointXY
from edge.analytics.frame import (
    FloatArray,
    FrameClock,
    FramePoints,
    HandoverReach,
    handover_pairs,
)
from edge.detections import Detections
from shared.config.site import Line, Space
from shared.geometry import side_of_line

_DEFAULT_FORGET_S = 5.0


@dataclass(frozen=True)
class _Sighting:
    time_ns: int
    image_point: PointXY
    floor_point: PointXY | None


@dataclass
class _TrackState:
    last_seen_ns: int
    last_point: FloatArray
    # Box height (pixels) at the last sighting: the person's size where they were.
    last_height: float
    # Last point strictly off the line, and its side (±1). A step from it to a point on
    # the other side is a geometric crossing if it passes through the segment.
    signed_point: FloatArray | None = None
    signed_distance: float = 0.0
    # Net geometric crossings (+1 towards `in`, −1 towards `out`) since the last settle;
    # going through and back cancels, so jitter on the line never adds up.
    net_crossings: int = 0
    settled_side: int = 0
    run_side: int = 0
    run_start: _Sighting | None = None
    # Whether this run has lasted settle_s and been decided (once per run).
    run_settled: bool = False


class LineCounter:
    """Counts tracks crossing one `Line`, in and out.

    A crossing counts when a track that had settled on one side (beyond the dead band for
    ``settle_s``, first frame to latest) settles on the other side and its path in
    between went through the segment — the segment extended by the band at both ends, so
    the band is a uniform tolerance around the drawn line. The band is ``dead_band``, or
    ``dead_band_height`` × the person's box height where that is wider (image space).
    Passing beside the segment, excursions shorter than ``settle_s`` and jitter on
    the line count nothing.

    ID switches: when a new track id appears within reach of where a track vanished near
    the line at most ``handover_s`` earlier (default: the line's own ``handover_s``; reach:
    ``handover_distance`` if given, else the line's ``handover_height`` × that person's box
    height in the image, 1 m on the floor), the new id takes over the old one's side and crossing history, so the
    crossing is counted once, by whichever id completes it. Tracks unseen for ``forget_s``
    (default: 5 s, or the handover window where that is longer) are dropped.

    Tracks that end before they settle: a track dropped (or open at `close_all`, the end
    of the stream) whose last sighting was beyond the band on the far side of a step
    through the segment counts that crossing then, dated to its first frame on the new
    side. Without this, a person who leaves the view through a door at the frame's edge
    within `settle_s` of crossing would never be counted.
    """

    def __init__(
        self,
        line: Line,
        *,
        handover_distance: float | None = None,
        handover_s: float | None = None,
        forget_s: float | None = None,
    ) -> None:
        if handover_s is None:
            handover_s = line.handover_s
        if forget_s is None:
            # A vanished track must be remembered at least as long as a new id may take it over.
            forget_s = max(_DEFAULT_FORGET_S, handover_s)
        if not handover_s >= 0:
            raise ValueError(f"handover_s must be >= 0 seconds, got {handover_s}")
        if not forget_s >= handover_s:
            raise ValueError(
                f"forget_s ({forget_s}) must be at least handover_s ({handover_s}): "
                "a vanished track has to be remembered for as long as a new id may take it over"
            )
        self.line = line
        self.reach = HandoverReach(line.space, line.handover_height, handover_distance)
        self._handover_ns = round(handover_s * 1e9)
        self._forget_ns = round(forget_s * 1e9)
        self._settle_ns = round(line.settle_s * 1e9)
        self._p1 = np.asarray(line.points[0], dtype=np.float64)
        p2 = np.asarray(line.points[1], dtype=np.float64)
        self._length = float(np.hypot(*(p2 - self._p1)))
        self._unit = (p2 - self._p1) / self._length
        self._tracks: dict[int, _TrackState] = {}
        self._counts = {Direction.IN: 0, Direction.OUT: 0}
        self._clock = FrameClock()

    @property
    def counts(self) -> dict[Direction, int]:
        """Crossings counted so far, per direction."""
        return dict(self._counts)

    def trigger(
        self,
        detections: Detections,
        time_ns: int,
        points: NDArray[np.floating] | None = None,
        *,
        floor_points: NDArray[np.floating] | None = None,
    ) -> list[LineCrossingEvent]:
        """Update with one frame; return the crossings it confirmed.

        points: the (N, 2) points to test, in the line's space (default: image foot
        points); floor_points: (N, 2) floor positions to attach to events, if known.
        """
        return self.trigger_frame(FramePoints.of(detections, points, floor_points), time_ns)

    def trigger_frame(self, frame: FramePoints, time_ns: int) -> list[LineCrossingEvent]:
        """`trigger` for a frame's points already prepared (shared by every line and zone of a camera)."""
        self._clock.advance(time_ns)
        distances = side_of_line(frame.tested, *self.line.points)
        bands = self._bands(frame)
        self._hand_over(frame, time_ns)
        events = []
        for row, track_id in enumerate(frame.track_ids.tolist()):
            state = self._tracks.setdefault(track_id, _TrackState(time_ns, frame.tested[row], 0.0))
            state.last_height = float(frame.heights[row])
            sighting = _Sighting(time_ns, frame.image_point(row), frame.floor_point(row))
            crossing = self._observe(state, frame.tested[row], float(distances[row]), float(bands[row]), sighting)
            if crossing is not None:
                events.append(self._count(track_id, *crossing))
        gone = [tid for tid, s in self._tracks.items() if time_ns - s.last_seen_ns > self._forget_ns]
        events += self._end(gone)
        return events

    def close_all(self) -> list[LineCrossingEvent]:
        """End of stream: the crossings every track made but had no frames left to settle."""
        return self._end(list(self._tracks))

    def _end(self, track_ids: list[int]) -> list[LineCrossingEvent]:
        """Drop these tracks, counting a crossing each one went through but did not settle.

        A person who walks through a door at the frame's edge is gone within a frame or two
        of crossing: their track was last seen beyond the band on the new side, after a
        step through the segment, and that counts. A track last seen inside the band does not.
        """
        events = []
        for track_id in track_ids:
            state = self._tracks.pop(track_id)
            side = state.run_side
            if side == 0 or state.run_start is None or state.settled_side in (0, side):
                continue
            if state.net_crossings * side <= 0:
                continue
            events.append(self._count(track_id, Direction.IN if side > 0 else Direction.OUT, state.run_start))
        return events

    def _count(self, track_id: int, direction: Direction, first_on_new_side: _Sighting) -> LineCrossingEvent:
        self._counts[direction] += 1
        return LineCrossingEvent(
            line_id=self.line.id,
            direction=direction,
            track_id=track_id,
            time_ns=first_on_new_side.time_ns,
            image_point=first_on_new_side.image_point,
            floor_point=first_on_new_side.floor_point,
        )

    def _bands(self, frame: FramePoints) -> FloatArray:
        """Each row's dead band, in the line's space."""
        band = np.full(len(frame), self.line.dead_band, dtype=np.float64)
        if self.line.space is Space.IMAGE and self.line.dead_band_height > 0:
            band = np.maximum(band, self.line.dead_band_height * frame.heights)
        return band

    def _observe(
        self, state: _TrackState, point: FloatArray, distance: float, band: float, sighting: _Sighting
    ) -> tuple[Direction, _Sighting] | None:
        """Advance one track by one frame; on a confirmed crossing, return its direction and
        the first sighting on the new side."""
        side = int(np.sign(distance))
        if side != 0:
            if (
                state.signed_point is not None
                and side != np.sign(state.signed_distance)
                and self._through_segment(state.signed_point, state.signed_distance, point, distance, band)
            ):
                state.net_crossings += side
            state.signed_point, state.signed_distance = point, distance
        state.last_seen_ns, state.last_point = sighting.time_ns, point

        decided = side if abs(distance) > band else 0
        if decided != state.run_side:
            state.run_side, state.run_start, state.run_settled = decided, sighting, False
        if (
            decided == 0
            or state.run_settled
            or state.run_start is None
            or sighting.time_ns - state.run_start.time_ns < self._settle_ns
        ):
            return None
        state.run_settled = True
        crossed = state.settled_side not in (0, decided) and state.net_crossings * decided > 0
        state.settled_side, state.net_crossings = decided, 0
        if not crossed:
            return None
        return (Direction.IN if decided > 0 else Direction.OUT), state.run_start

    def _through_segment(self, a: FloatArray, da: float, b: FloatArray, db: float, band: float) -> bool:
        """Whether the step a→b, whose ends lie strictly on opposite sides of the line,
        meets the segment extended by the dead band."""
        hit = a + (b - a) * (da / (da - db))
        along = float(np.dot(hit - self._p1, self._unit))
        return -band <= along <= self._length + band

    def _distance_to_segment(self, point: FloatArray) -> float:
        along = float(np.clip(np.dot(point - self._p1, self._unit), 0.0, self._length))
        return float(np.hypot(*(point - (self._p1 + along * self._unit))))

    def _hand_over(self, frame: FramePoints, time_ns: int) -> None:
        """Let ids new in this frame take over tracks that just vanished near the line."""
        present = set(frame.track_ids.tolist())
        new_rows = [row for row, tid in enumerate(frame.track_ids.tolist()) if tid not in self._tracks]
        if not new_rows:
            return
        # States are updated after the handover, so "not in this frame" is what makes a track lost.
        lost = {
            tid: (s.last_point, reach)
            for tid, s in self._tracks.items()
            if tid not in present
            and time_ns - s.last_seen_ns <= self._handover_ns
            and self._distance_to_segment(s.last_point) <= (reach := self.reach.of(s.last_height))
        }
        for row, old_id in handover_pairs(frame.tested, new_rows, lost):
            # The old id's state moves, so it cannot be inherited twice; if the tracker
            # revives the old id later, that id starts afresh and counts nothing twice.
            self._tracks[int(frame.track_ids[row])] = self._tracks.pop(old_id)
