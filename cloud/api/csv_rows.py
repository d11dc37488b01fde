"""The rows of each report's CSV: one per bucket and line or zone (per cell, camera or alert
where a report has no buckets), site-local times with their offset. Generators: rows are made
as the response asks for them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import pairwise
from zoneinfo import ZoneInfo

from cloud.analytics.camera_health import CameraHealthStatus
from cloud.analytics.dwell import DwellReport, ZoneDwell
from cloud.analytics.footfall import Footfall, FootfallSeries
from cloud.analytics.heatmap import Heatmap
from cloud.analytics.hours import Hours
from cloud.analytics.occupancy import OccupancyHistory
from cloud.analytics.transitions import Transitions
from cloud.analytics.visitors import VisitorDay, VisitorsPerDay
from cloud.api.csv_export import local_time
from cloud.capacity.alerts import CapacityAlert

Row = Sequence[object]

FOOTFALL_HEADER = ("bucket_start", "line_id", "direction", "count", "hours")
VISITORS_HEADER = ("day", "visitors", "source", "hours")
OCCUPANCY_HEADER = ("bucket_start", "scope", "scope_id", "peak")
TRANSITIONS_HEADER = ("from_zone", "to_zone", "people")
HEATMAP_HEADER = ("cell_x", "cell_y", "x_m", "y_m", "seconds")
CAMERAS_HEADER = (
    "camera_id",
    "state",
    "stale",
    "edge_id",
    "fps",
    "source_fps",
    "lag_ms",
    "frames",
    "dropped_frames",
    "thinned_frames",
    "overloaded",
    "last_status",
    "last_event",
    "downtime_s",
    "outages",
    "message",
)
ALERTS_HEADER = (
    "alert_id",
    "scope",
    "scope_id",
    "capacity",
    "clear_at",
    "raised",
    "raised_count",
    "peak_count",
    "cleared",
    "cleared_count",
    "published",
)


def footfall_rows(report: Footfall) -> Iterator[Row]:
    """Bucket by bucket, every series; with hours=open the outside-hours rows follow each bucket's."""
    parts: list[tuple[str, Sequence[FootfallSeries]]] = [(report.hours.value, report.series)]
    if report.outside_hours is not None:
        parts.append((Hours.OUTSIDE.value, report.outside_hours.series))
    for i, start in enumerate(report.buckets):
        stamp = start.isoformat()
        for hours, series in parts:
            for s in series:
                yield stamp, s.line_id, s.direction, s.counts[i], hours


def visitors_rows(report: VisitorsPerDay) -> Iterator[Row]:
    parts: list[tuple[str, Sequence[VisitorDay]]] = [(report.hours.value, report.days)]
    if report.outside_hours is not None:
        parts.append((Hours.OUTSIDE.value, report.outside_hours.days))
    for hours, days in parts:
        for d in days:
            yield d.day.isoformat(), d.visitors, d.source, hours


def dwell_header(report: DwellReport) -> tuple[str, ...]:
    edges = report.bin_edges_s
    bins = [f"visits_{lo:g}-{hi:g}s" for lo, hi in pairwise(edges)] + [f"visits_{edges[-1]:g}s+"]
    return ("zone_id", "visits", "mean_s", "median_s", "p90_s", "max_s", *bins, "hours")


def dwell_rows(report: DwellReport) -> Iterator[Row]:
    parts: list[tuple[str, Sequence[ZoneDwell]]] = [(report.hours.value, report.zones)]
    if report.outside_hours is not None:
        parts.append((Hours.OUTSIDE.value, report.outside_hours.zones))
    for hours, zones in parts:
        for z in zones:
            yield z.zone_id, z.visits, z.mean_s, z.median_s, z.p90_s, z.max_s, *z.histogram, hours


def occupancy_rows(report: OccupancyHistory) -> Iterator[Row]:
    scopes = (report.site, *report.zones)
    for i, start in enumerate(report.buckets):
        stamp = start.isoformat()
        for s in scopes:
            yield stamp, s.scope, s.scope_id, s.peaks[i]


def transitions_rows(report: Transitions) -> Iterator[Row]:
    for t in report.transitions:
        yield t.from_zone, t.to_zone, t.count


def heatmap_rows(grid: Heatmap) -> Iterator[Row]:
    """Every cell, row by row; x_m, y_m: floor metres of the cell's centre."""
    ox, oy = grid.origin
    for y, line in enumerate(grid.seconds):
        cy = round(oy + (y + 0.5) * grid.cell_m, 3)
        for x, value in enumerate(line.tolist()):
            yield x, y, round(ox + (x + 0.5) * grid.cell_m, 3), cy, round(value, 3)


def camera_rows(cameras: Sequence[CameraHealthStatus], tz: ZoneInfo) -> Iterator[Row]:
    for c in cameras:
        yield (
            c.camera_id,
            c.state,
            c.stale,
            c.edge_id,
            c.fps,
            c.source_fps,
            c.lag_ms,
            c.frames,
            c.dropped_frames,
            c.thinned_frames,
            c.overloaded,
            local_time(c.status_ns, tz),
            local_time(c.last_event_ns, tz),
            round(c.downtime_s, 3),
            len(c.outages),
            c.message,
        )


def alert_row(a: CapacityAlert, tz: ZoneInfo) -> Row:
    return (
        a.alert_id,
        a.scope,
        a.scope_id,
        a.capacity,
        a.clear_at,
        local_time(a.raised_ns, tz),
        a.raised_count,
        a.peak_count,
        local_time(a.cleared_ns, tz),
        a.cleared_count,
        a.published,
    )
