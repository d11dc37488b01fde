"""Zone presence per track: enter and exit events with dwell, robust to border flicker."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from edge.analytics.events import PointXY, ZoneEvent, ZoneEventKind
from edge.analytics.frame import FrameClock, FramePoints
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
    run_length: int = 0
    entered: _Sighting | None = None


class ZoneMonitor:
    """Tracks who is inside one `Zone`.

    Enter: after ``enter_frames`` consecutive sightings inside; the event carries the time
    of the first of them. Exit: once a track has been outside or unseen for
    ``exit_grace_s``, which bridges short occlusions and flicker at the border; the event
    carries the last time inside, so dwell is not inflated by the grace period. A track
    that is not yet entered and goes unseen loses its pending sightings; memory holds only
    tracks seen this frame or inside a visit.
    """

    def __init__(self, zone: Zone) -> None:
        self.zone = zone
        self._grace_ns = round(zone.exit_grace_s * 1e9)
        self._tracks: dict[int, _Presence] = {}
        self._clock = FrameClock()

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
        self._clock.advance(time_ns)
        frame = FramePoints.of(detections, points, floor_points)
        inside = point_in_polygon(frame.tested, self.zone.polygon)
        events = []
        inside_now: set[int] = set()
        for row, track_id in enumerate(frame.track_ids.tolist()):
            if not inside[row]:
                presence = self._tracks.get(track_id)
                if presence is not None:
                    presence.run_length = 0
                continue
            inside_now.add(track_id)
            sighting = _Sighting(time_ns, frame.floor_point(row))
            presence = self._tracks.setdefault(track_id, _Presence(sighting, sighting))
            if presence.run_length == 0:
                presence.run_start = sighting
            presence.run_length += 1
            presence.last_inside = sighting
            if presence.entered is None and presence.run_length >= self.zone.enter_frames:
                presence.entered = presence.run_start
                events.append(self._enter_event(track_id, presence.run_start))
        for track_id, presence in list(self._tracks.items()):
            if track_id in inside_now:
                continue
            if presence.entered is None:
                del self._tracks[track_id]
            elif time_ns - presence.last_inside.time_ns >= self._grace_ns:
                events.append(self._exit_event(track_id, presence.entered, presence.last_inside))
                del self._tracks[track_id]
        return events

    def close_all(self, time_ns: int) -> list[ZoneEvent]:
        """End of stream: exit every track still inside (at its last time inside) and forget all."""
        self._clock.check_not_before(time_ns)
        events = [
            self._exit_event(track_id, p.entered, p.last_inside)
            for track_id, p in self._tracks.items()
            if p.entered is not None
        ]
        self._tracks.clear()
        return events

    def _enter_event(self, track_id: int, entered: _Sighting) -> ZoneEvent:
        return ZoneEvent(
            zone_id=self.zone.id,
            kind=ZoneEventKind.ENTER,
            track_id=track_id,
            time_ns=entered.time_ns,
            floor_point=entered.floor_point,
        )

    def _exit_event(self, track_id: int, entered: _Sighting, last_inside: _Sighting) -> ZoneEvent:
        return ZoneEvent(
            zone_id=self.zone.id,
            kind=ZoneEventKind.EXIT,
            track_id=track_id,
            time_ns=last_inside.time_ns,
            entered_time_ns=entered.time_ns,
            floor_point=last_inside.floor_point,
        )
