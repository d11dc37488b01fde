"""Zone presence per track: enter and exit events with dwell, robust to border flicker and ID switches."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from edge.analytics.events import PointXY, ZoneEvent, ZoneEventKind
from edge.analytics.frame import (
    FloatArray,
    FrameClock,
    FramePoints,
    HandoverReach,
    handover_pairs,
)
from edge.detections import Detections
from shared.config.site import Zone
from shared.geometry import point_in_polygon


@dataclass(frozen=True)
class _Sighting:
    time_ns: int
    floor_point: PointXY | None


@dataclass
class _Presence:
    """A track seen inside at least once; kept while it is inside or in a visit."""

    run_start: _Sighting
    last_inside: _Sighting
    # Where it was last seen inside, in the zone's space, and its box height (pixels) there:
    # a new id appearing within its reach of that point takes over.
    last_point: FloatArray
    last_height: float
    # Seen inside in every frame it was seen since `run_start`.
    in_run: bool = False
    entered: _Sighting | None = None
    # The track id the visit's events carry: the one that entered, even after a takeover.
    visit_track_id: int = -1
    # The first frame after `last_inside` in which the track was not seen inside: the end
    # of its last frame inside, so a visit of N frames at f fps lasts N / f seconds.
    left_ns: int | None = None


class ZoneMonitor:
    """Tracks who is inside one `Zone`.

    Enter: once a track has been seen inside in consecutive frames for ``enter_s`` (first
    to latest); the event carries the time of the first of them. Exit: once a track has
    been outside or unseen for ``exit_grace_s``, which bridges short occlusions and flicker
    at the border; the event carries the end of the last frame inside (the next frame's
    time), so dwell counts every frame inside and not the grace period.

    ID switches: a new track id that appears inside within reach of where a track in a
    visit was last seen (``handover_distance`` if given, else the zone's ``handover_height``
    × that person's box height in the image, 1 m on the floor), while that track is unseen
    (and still within its grace), continues that visit instead of starting one; the visit's
    events keep the id that entered. A track that is not yet entered and goes unseen loses its pending
    sightings; memory holds only tracks seen this frame or inside a visit.
    """

    def __init__(self, zone: Zone, *, handover_distance: float | None = None) -> None:
        self.zone = zone
        self.reach = HandoverReach(zone.space, zone.handover_height, handover_distance)
        self._grace_ns = round(zone.exit_grace_s * 1e9)
        self._enter_ns = round(zone.enter_s * 1e9)
        self._tracks: dict[int, _Presence] = {}
        self._clock = FrameClock()
        self._frame_ns = 0

    @property
    def inside(self) -> set[int]:
        """Track ids currently in a visit (entered and not yet exited)."""
        return {tid for tid, p in self._tracks.items() if p.entered is not None}

    def trigger(
        self,
        detections: Detections,
        time_ns: int,
        points: NDArray[np.floating] | None = None,
        *,
        floor_points: NDArray[np.floating] | None = None,
    ) -> list[ZoneEvent]:
        """Update with one frame; return its enter events and the exits that became due.

        points: the (N, 2) points to test, in the zone's space (default: image foot
        points); floor_points: (N, 2) floor positions to attach to events, if known.
        """
        return self.trigger_frame(FramePoints.of(detections, points, floor_points), time_ns)

    def trigger_frame(self, frame: FramePoints, time_ns: int) -> list[ZoneEvent]:
        """`trigger` for a frame's points already prepared (shared by every line and zone of a camera)."""
        if self._clock.last_ns is not None:
            self._frame_ns = time_ns - self._clock.last_ns
        self._clock.advance(time_ns)
        inside = point_in_polygon(frame.tested, self.zone.polygon)
        self._hand_over(frame, inside, time_ns)
        events = []
        inside_now: set[int] = set()
        for row, track_id in enumerate(frame.track_ids.tolist()):
            if not inside[row]:
                presence = self._tracks.get(track_id)
                if presence is not None:
                    presence.in_run = False
                continue
            inside_now.add(track_id)
            sighting = _Sighting(time_ns, frame.floor_point(row))
            presence = self._tracks.setdefault(
                track_id, _Presence(sighting, sighting, frame.tested[row], 0.0, visit_track_id=track_id)
            )
            if not presence.in_run:
                presence.run_start, presence.in_run = sighting, True
            presence.last_inside, presence.last_point, presence.left_ns = sighting, frame.tested[row], None
            presence.last_height = float(frame.heights[row])
            if presence.entered is None and time_ns - presence.run_start.time_ns >= self._enter_ns:
                presence.entered = presence.run_start
                events.append(self._enter_event(presence))
        for track_id, presence in list(self._tracks.items()):
            if track_id in inside_now:
                continue
            if presence.left_ns is None:
                presence.left_ns = time_ns
            if presence.entered is None:
                del self._tracks[track_id]
            elif time_ns - presence.last_inside.time_ns >= self._grace_ns:
                events.append(self._exit_event(presence, presence.left_ns))
                del self._tracks[track_id]
        return events

    def close_all(self, time_ns: int) -> list[ZoneEvent]:
        """End of stream: exit every track still inside and forget all.

        A track inside in the last frame is timed to the end of that frame (one frame
        interval after it).
        """
        self._clock.check_not_before(time_ns)
        events = [
            self._exit_event(p, p.left_ns if p.left_ns is not None else p.last_inside.time_ns + self._frame_ns)
            for p in self._tracks.values()
            if p.entered is not None
        ]
        self._tracks.clear()
        return events

    def _hand_over(self, frame: FramePoints, inside: NDArray[np.bool_], frame_ns: int) -> None:
        """Let ids new in this frame, inside the zone, continue visits whose track just vanished there."""
        present = set(frame.track_ids.tolist())
        new_rows = [row for row, tid in enumerate(frame.track_ids.tolist()) if inside[row] and tid not in self._tracks]
        lost = {
            tid: p
            for tid, p in self._tracks.items()
            if tid not in present and p.entered is not None and frame_ns - p.last_inside.time_ns < self._grace_ns
        }
        if not new_rows or not lost:
            return
        reach = {tid: (p.last_point, self.reach.of(p.last_height)) for tid, p in lost.items()}
        for row, old_id in handover_pairs(frame.tested, new_rows, reach):
            presence = self._tracks.pop(old_id)
            # Already entered: the new id's first frame inside goes on with the visit's run.
            presence.in_run = True
            self._tracks[int(frame.track_ids[row])] = presence

    def _enter_event(self, presence: _Presence) -> ZoneEvent:
        assert presence.entered is not None
        return ZoneEvent(
            zone_id=self.zone.id,
            kind=ZoneEventKind.ENTER,
            track_id=presence.visit_track_id,
            time_ns=presence.entered.time_ns,
            floor_point=presence.entered.floor_point,
        )

    def _exit_event(self, presence: _Presence, left_ns: int) -> ZoneEvent:
        assert presence.entered is not None
        return ZoneEvent(
            zone_id=self.zone.id,
            kind=ZoneEventKind.EXIT,
            track_id=presence.visit_track_id,
            time_ns=left_ns,
            entered_time_ns=presence.entered.time_ns,
            floor_point=presence.last_inside.floor_point,
        )
