"""Footfall: line crossings per line and direction per site-local bucket, from the footfall rollup ladder.

With opening hours, the open part of each bucket is summed by the database from the rollup
rows inside the open minutes (cloud/analytics/hours.py); what happened outside them is the
bucket's whole count less that.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from cloud.analytics.buckets import NS, Bucket, LocalBuckets, TimeRange
from cloud.analytics.hours import (
    Hours,
    OpenPeriod,
    Window,
    minute_slots,
    open_periods,
    rollup_pieces,
    windows_cte,
)
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
class FootfallPart:
    """Footfall of one part of the range (outside opening hours), series as in Footfall."""

    series: tuple[FootfallSeries, ...]
    total_in: int
    total_out: int


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
    # Which part of the range the figures above cover.
    hours: Hours = Hours.ALL
    # With hours=open: the same series outside opening hours (same keys, same order).
    outside_hours: FootfallPart | None = None
    # With hours other than all: when the site was open within the range.
    open_periods: tuple[OpenPeriod, ...] = ()


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


def _open_counts(
    session: Session,
    site: SiteConfig,
    span: TimeRange,
    buckets: LocalBuckets,
    points: list[str] | None,
    *,
    exclude_staff: bool,
) -> dict[tuple[str, str], list[int]]:
    """Crossings within opening hours per (counting point, direction) and bucket, summed in SQL."""
    site_id = site.site.id
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * len(buckets))
    slots = minute_slots(site, span, buckets)
    if not slots:
        return counts
    for resolution, pieces in rollup_pieces(site, buckets, slots).items():
        table = FOOTFALL[resolution]
        w = windows_cte(f"open_{resolution.value}", pieces)
        stmt = (
            select(table.line_id, table.direction, w.c.i, func.sum(table.count))
            .select_from(table)
            .join(w, and_(table.bucket_s >= w.c.lo, table.bucket_s < w.c.hi))
            .where(
                table.site_id == site_id,
                table.direction.in_(DIRECTIONS),
                # The whole stretch as well: the primary key bounds bucket_s before the join.
                table.bucket_s >= min(p.lo for p in pieces),
                table.bucket_s < max(p.hi for p in pieces),
            )
            .group_by(table.line_id, table.direction, w.c.i)
        )
        if points is not None:
            stmt = stmt.where(table.line_id.in_(points))
        for line_id, direction, i, n in session.execute(stmt):
            counts[(line_id, direction)][i] += int(n)
    if exclude_staff:
        # Slots are whole minutes: a crossing is in one when its minute is, the rollups' rule.
        w = windows_cte("open_staff", [Window(s.lo * NS, s.hi * NS, s.index) for s in slots])
        stmt = (
            select(LineCrossing.line_id, LineCrossing.direction, w.c.i, func.count())
            .select_from(LineCrossing)
            .join(w, and_(LineCrossing.event_ns >= w.c.lo, LineCrossing.event_ns < w.c.hi))
            .where(
                LineCrossing.site_id == site_id,
                LineCrossing.staff.is_(True),
                LineCrossing.duplicate_of_camera.is_(None),
                LineCrossing.direction.in_(DIRECTIONS),
                LineCrossing.event_ns >= slots[0].lo * NS,
                LineCrossing.event_ns < slots[-1].hi * NS,
            )
            .group_by(LineCrossing.line_id, LineCrossing.direction, w.c.i)
        )
        if points is not None:
            stmt = stmt.where(LineCrossing.line_id.in_([ln.id for ln in site.lines if (ln.group or ln.id) in points]))
        for line_id, direction, i, n in session.execute(stmt):
            counts[(site.counting_point(line_id), direction)][i] -= int(n)
    return counts


def footfall(
    session: Session,
    site: SiteConfig,
    span: TimeRange,
    bucket: str,
    *,
    all_lines: bool = False,
    exclude_staff: bool = False,
    hours: Hours = Hours.ALL,
) -> Footfall:
    """Crossings of the site's entrance lines (every line with `all_lines`), both directions.

    A line group (views of one doorway from overlapping cameras) is one series under the
    group's id, each person counted once. Each configured counting point gets a series
    even without crossings; with `all_lines`, lines found in the data but no longer
    configured are reported too. With `exclude_staff`, crossings of visitors matched to a
    staff gallery are left out. `hours` open or outside counts only the crossings within
    or outside the site's opening hours (a site without them is always open); with open,
    `outside_hours` has the rest.
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

    def part(per_key: dict[tuple[str, str], list[int]]) -> FootfallPart:
        series = tuple(FootfallSeries(ln, d, tuple(per_key[(ln, d)]), sum(per_key[(ln, d)])) for ln, d in keys)
        return FootfallPart(
            series=series,
            total_in=sum(s.total for s in series if s.direction == "in"),
            total_out=sum(s.total for s in series if s.direction == "out"),
        )

    outside: FootfallPart | None = None
    periods: tuple[OpenPeriod, ...] = ()
    if hours is Hours.ALL:
        main = part(counts)
    else:
        # Open crossings are a subset of all of them: the keys above hold every series.
        opened = _open_counts(
            session, site, span, buckets, None if all_lines else lines, exclude_staff=exclude_staff and not span.empty
        )
        closed = {k: [a - b for a, b in zip(counts[k], opened[k], strict=True)] for k in keys}
        main, outside = (part(opened), part(closed)) if hours is Hours.OPEN else (part(closed), None)
        periods = open_periods(site, span)
    return Footfall(
        site_id=site_id,
        bucket=buckets.bucket,
        buckets=buckets.labels(),
        series=main.series,
        total_in=main.total_in,
        total_out=main.total_out,
        staff_excluded=exclude_staff,
        hours=hours,
        outside_hours=outside,
        open_periods=periods,
    )
