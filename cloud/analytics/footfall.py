"""Footfall: line crossings per line and direction per site-local bucket, from the footfall rollup ladder."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.analytics.buckets import NS, Bucket, LocalBuckets, TimeRange
from cloud.storage.models import LineCrossing
from cloud.storage.rollups import FOOTFALL
from shared.config.site import SiteConfig

DIRECTIONS = ("in", "out")


@dataclass(frozen=True)
class FootfallSeries:
    line_id: str
    direction: str
    # One count per bucket of Footfall.buckets.
    counts: tuple[int, ...]
    total: int


@dataclass(frozen=True)
class Footfall:
    site_id: str
    bucket: Bucket
    # Bucket starts in the site's timezone.
    buckets: tuple[datetime, ...]
    series: tuple[FootfallSeries, ...]
    total_in: int
    total_out: int
    # Whether crossings of visitors matched to a staff gallery were left out.
    staff_excluded: bool = False


def _subtract_staff(
    session: Session,
    site: SiteConfig,
    span: TimeRange,
    buckets: LocalBuckets,
    points: list[str] | None,
    counts: dict[tuple[str, str], list[int]],
) -> None:
    """Take the staff-flagged crossings out of the rollup counts, by the rollups' own rule:
    a crossing belongs to the range its minute starts in. Duplicates were never counted."""
    lo_s, hi_s = span.bucket_bounds_s()
    stmt = select(LineCrossing.line_id, LineCrossing.direction, LineCrossing.event_ns).where(
        LineCrossing.site_id == site.site.id,
        LineCrossing.staff.is_(True),
        LineCrossing.duplicate_of_camera.is_(None),
        LineCrossing.event_ns >= (lo_s - 60) * NS,
        LineCrossing.event_ns < hi_s * NS,
        LineCrossing.direction.in_(DIRECTIONS),
    )
    if points is not None:
        stmt = stmt.where(LineCrossing.line_id.in_([ln.id for ln in site.lines if (ln.group or ln.id) in points]))
    for line_id, direction, event_ns in session.execute(stmt):
        minute_s = event_ns // NS // 60 * 60
        if lo_s <= minute_s < hi_s:
            counts[(site.counting_point(line_id), direction)][buckets.index(minute_s)] -= 1


def footfall(
    session: Session,
    site: SiteConfig,
    span: TimeRange,
    bucket: str,
    *,
    all_lines: bool = False,
    exclude_staff: bool = False,
) -> Footfall:
    """Crossings of the site's entrance lines (every line with `all_lines`), both directions.

    A line group (views of one doorway from overlapping cameras) is one series under the
    group's id, each person counted once. Each configured counting point gets a series
    even without crossings; with `all_lines`, lines found in the data but no longer
    configured are reported too. With `exclude_staff`, crossings of visitors matched to a
    staff gallery are left out.
    """
    site_id = site.site.id
    buckets = LocalBuckets(span, bucket, site.site.timezone)
    lines = list(dict.fromkeys(ln.group or ln.id for ln in site.lines if all_lines or ln.entrance))
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * len(buckets))
    for piece in buckets.cover(span):
        table = FOOTFALL[piece.resolution]
        # direction IN (...) lets the primary key (site, line, direction, bucket) bound bucket_s too.
        stmt = select(table.line_id, table.direction, table.bucket_s, table.count).where(
            table.site_id == site_id,
            table.direction.in_(DIRECTIONS),
            table.bucket_s >= piece.lo_s,
            table.bucket_s < piece.hi_s,
        )
        if not all_lines:
            stmt = stmt.where(table.line_id.in_(lines))
        for line_id, direction, start_s, n in session.execute(stmt):
            counts[(line_id, direction)][buckets.index(start_s)] += int(n)
    if exclude_staff and not span.empty:
        _subtract_staff(session, site, span, buckets, None if all_lines else lines, counts)
    keys = [(ln, d) for ln in lines for d in DIRECTIONS]
    configured = set(keys)
    keys += sorted(k for k in counts if k not in configured)
    series = tuple(FootfallSeries(ln, d, tuple(counts[(ln, d)]), sum(counts[(ln, d)])) for ln, d in keys)
    return Footfall(
        site_id=site_id,
        bucket=buckets.bucket,
        buckets=buckets.labels(),
        series=series,
        total_in=sum(s.total for s in series if s.direction == "in"),
        total_out=sum(s.total for s in series if s.direction == "out"),
        staff_excluded=exclude_staff,
    )
