"""All analytics of one camera: floor projection, its counting lines and its zones."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge.analytics.coverage import CoverageArea
from edge.analytics.events import LineCrossingEvent, ZoneEvent
from edge.analytics.feet import SteadyFeet
from edge.analytics.frame import FloatArray, FramePoints
from edge.analytics.lines import LineCounter
from edge.analytics.zones import ZoneMonitor
from edge.detections import Detections
from shared.config.site import SiteConfig, Space
from shared.geometry import FloorMapper


@dataclass(frozen=True)
class CameraFacts:
    """What one frame of one camera yields: where everybody stands, and what happened."""

    camera_id: str
    time_ns: int
    detections: Detections
    # (N, 2) image points where each person stands (SteadyFeet: held through occlusion).
    foot_points: FloatArray
    # (N, 2) floor metres per detection; NaN rows where the camera is uncalibrated or a
    # point does not project (above the horizon).
    floor_points: FloatArray
    line_events: list[LineCrossingEvent]
    zone_events: list[ZoneEvent]
    # Tracks followed this frame outside the camera's coverage: alive, but not reported.
    outside_track_ids: frozenset[int] = frozenset()


def track_end_s(site: SiteConfig, camera_id: str) -> float:
    """How long one of the camera's tracks is unseen before the edge ends it (and sends track_closed).

    Not while BoT-SORT may still re-find it (`tracking.track_buffer_s`, plus half a second),
    nor while a line may still hand its crossing over to a new id (the lines' `handover_s`).
    """
    return max([site.tracking.track_buffer_s + 0.5, *(line.handover_s for line in site.lines_of(camera_id))])


@dataclass(frozen=True)
class StreamEndFacts:
    """What the end of a camera's stream yields: crossings made too late to settle, exits of everyone still inside."""

    line_events: list[LineCrossingEvent]
    zone_events: list[ZoneEvent]


class CameraAnalytics:
    """Runs a camera's line counters and zone monitors on each frame of tracked detections.

    Image-space lines and zones test the foot points in the camera's (cropped) frame;
    floor-space ones test the foot points projected onto the floor plan. Foot points come
    from `SteadyFeet`, so a box cut or stretched by someone in front moves no one across a line.
    People standing outside the camera's coverage are left out of the facts altogether.
    """

    def __init__(
        self,
        camera_id: str,
        mapper: FloorMapper | None,
        lines: list[LineCounter],
        zones: list[ZoneMonitor],
        feet: SteadyFeet | None = None,
        coverage: CoverageArea | None = None,
    ) -> None:
        for kind, items in (("line", [c.line for c in lines]), ("zone", [m.zone for m in zones])):
            for item in items:
                if item.camera != camera_id:
                    raise ValueError(f"{kind} {item.id!r} belongs to camera {item.camera!r}, not {camera_id!r}")
                if item.space is Space.FLOOR and mapper is None:
                    raise ValueError(
                        f"{kind} {item.id!r} is drawn in floor space but camera {camera_id!r} has no floor mapping"
                    )
        if coverage is not None and coverage.coverage.space is Space.FLOOR and mapper is None:
            raise ValueError(f"the coverage of camera {camera_id!r} is drawn in floor space but it has no floor map")
        self.camera_id = camera_id
        self.mapper = mapper
        self.coverage = coverage
        self.lines = lines
        self.zones = zones
        self.feet = feet or SteadyFeet()
        self._spaces = {c.line.space for c in lines} | {m.zone.space for m in zones}

    @classmethod
    def from_config(cls, site: SiteConfig, camera_id: str) -> CameraAnalytics:
        camera = site.camera(camera_id)
        # Lines forget a vanished track (counting a crossing it left unsettled) when the
        # publisher closes it, so that crossing reaches Kafka before track_closed.
        forget_s = track_end_s(site, camera_id)
        return cls(
            camera_id,
            FloorMapper.for_camera(camera),
            [LineCounter(line, forget_s=forget_s) for line in site.lines_of(camera_id)],
            [ZoneMonitor(zone) for zone in site.zones_of(camera_id)],
            SteadyFeet(foot_margin=site.detector_of(camera_id).resolved_foot_margin()),
            coverage=None if camera.coverage is None else CoverageArea(camera.coverage),
        )

    def update(self, detections: Detections, time_ns: int) -> CameraFacts:
        foot = self.feet.points(detections, time_ns)
        floor = np.full((len(detections), 2), np.nan) if self.mapper is None else self.mapper.to_floor(foot)
        outside: frozenset[int] = frozenset()
        if self.coverage is not None:
            inside = self.coverage.contains(foot, floor)
            if not inside.all():
                outside = frozenset(detections.tracker_id[~inside].tolist())
                keep = np.flatnonzero(inside)
                detections, foot, floor = detections[keep], foot[keep], floor[keep]
        # Built once per space, not per line and zone: a camera may carry dozens of them.
        frames = {
            space: FramePoints.of(detections, floor if space is Space.FLOOR else foot, floor) for space in self._spaces
        }
        line_events = [event for c in self.lines for event in c.trigger_frame(frames[c.line.space], time_ns)]
        zone_events = [event for m in self.zones for event in m.trigger_frame(frames[m.zone.space], time_ns)]
        return CameraFacts(self.camera_id, time_ns, detections, foot, floor, line_events, zone_events, outside)

    def close(self, time_ns: int) -> StreamEndFacts:
        """End of stream: pending line crossings, and exits for everyone still inside a zone."""
        return StreamEndFacts(
            [event for counter in self.lines for event in counter.close_all()],
            [event for monitor in self.zones for event in monitor.close_all(time_ns)],
        )
