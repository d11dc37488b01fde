"""Comparisons: a range's entrance footfall and visitors against the previous period of the same
length and against the same weekdays a week earlier.

Footfall is summed per rollup bucket and direction by the database, from the rollup ladder
(all lines of a bucket in one row, never a row per line or per crossing), and the rows are
put into the chart's buckets by bisection. Visitors are the range's `unique_visitors` total, so a tile and
its baselines count alike. Both respect `hours` and staff exclusion as the reports do.

Periods are shifted in the site's wall-clock time: the previous period of a local day is the
local day before it even when the clocks changed in between (23 or 25 hours), and a week
earlier is the same local times seven days before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cloud.analytics.buckets import NS, Bucket, LocalBuckets, TimeRange
from cloud.analytics.footfall import DIRECTIONS
from cloud.analytics.hours import Hours, Window, WindowLookup, minute_slots, rollup_pieces
from cloud.analytics.visitors import unique_visitors
from cloud.storage.models import LineCrossing
from cloud.storage.rollups import FOOTFALL
from shared.config.site import SiteConfig

WEEK = timedelta(days=7)
MINUTE_NS = 60 * NS


@dataclass(frozen=True)
class PeriodFigures:
    """One period's figures; per-bucket counts are entrance crossings summed over the lines."""

    start: datetime
    end: datetime
    buckets: tuple[datetime, ...]
    footfall_in: tuple[int, ...]
    footfall_out: tuple[int, ...]
    total_in: int
    total_out: int
    visitors: int


@dataclass(frozen=True)
class Comparison:
    site_id: str
    bucket: Bucket
    hours: Hours
    staff_excluded: bool
    current: PeriodFigures
    previous: PeriodFigures
    week_ago: PeriodFigures


def change_pct(value: int, baseline: int) -> float | None:
    """Percent change from the baseline; None when the baseline is zero (no percentage of nothing)."""
    if baseline == 0:
        return None
    return round((value - baseline) / baseline * 100, 1)


def _local(ns: int, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ns // NS, tz)


def _ns(local: datetime, rest_ns: int) -> int:
    return int(local.timestamp()) * NS + rest_ns


def baseline_ranges(span: TimeRange, timezone: str) -> tuple[TimeRange, TimeRange]:
    """The previous period of the same wall-clock length, and the range a week earlier."""
    tz = ZoneInfo(timezone)
    start, end = _local(span.start_ns, tz), _local(span.end_ns, tz)
    start_rest, end_rest = span.start_ns % NS, span.end_ns % NS
    # Aware datetimes of one zone subtract as wall clocks: a 25-hour local day is one day.
    length = end.replace(tzinfo=None) - start.replace(tzinfo=None)
    previous_start = (start.replace(tzinfo=None) - length).replace(tzinfo=tz)
    previous = TimeRange(min(_ns(previous_start, start_rest), span.start_ns), span.start_ns)
    week_start = (start.replace(tzinfo=None) - WEEK).replace(tzinfo=tz)
    week_end = (end.replace(tzinfo=None) - WEEK).replace(tzinfo=tz)
    week = TimeRange(_ns(week_start, start_rest), max(_ns(week_end, end_rest), _ns(week_start, start_rest)))
    return previous, week


def _bucket_slots(span: TimeRange, buckets: LocalBuckets) -> list[Window]:
    """The whole range cut at the bucket edges, as [lo, hi) epoch seconds of rollup rows."""
    lo_s, hi_s = span.bucket_bounds_s()
    edges = [*buckets.starts_s[1:], hi_s]
    out = []
    for i, (start, nxt) in enumerate(zip(buckets.starts_s, edges, strict=True)):
        lo, hi = max(lo_s, start), min(hi_s, nxt)
        if lo < hi:
            out.append(Window(lo, hi, i))
    return out


def _ceil_minute_ns(epoch_s: int) -> int:
    return -(-epoch_s // 60) * MINUTE_NS


def _rollup_sums(
    session: Session, site: SiteConfig, buckets: LocalBuckets, slots: Sequence[Window], points: list[str]
) -> dict[str, list[int]]:
    """Crossings of the counting points per direction and bucket: the database sums the rollup
    rows inside the slots per bucket start and direction (all lines in one row)."""
    counts = {d: [0] * len(buckets) for d in DIRECTIONS}
    if not slots or not points:
        return counts
    for resolution, pieces in rollup_pieces(site, buckets, slots).items():
        table = FOOTFALL[resolution]
        lookup = WindowLookup(pieces)
        stmt = (
            select(table.direction, table.bucket_s, func.sum(table.count))
            .where(
                table.site_id == site.site.id,
                table.line_id.in_(points),
                table.direction.in_(DIRECTIONS),
                lookup.covers(table.bucket_s),
            )
            .group_by(table.direction, table.bucket_s)
        )
        for direction, bucket_s, n in session.execute(stmt):
            i = lookup.index_of(bucket_s)
            if i is not None:
                counts[direction][i] += int(n)
    return counts


def _subtract_staff(
    session: Session, site: SiteConfig, slots: Sequence[Window], points: list[str], counts: dict[str, list[int]]
) -> None:
    """Take staff crossings out, counted per minute in SQL. A crossing belongs where its minute
    starts (the rollups' rule): its minute starts in [lo, hi) when the crossing lies in
    [lo, hi) rounded up to whole minutes."""
    line_ids = [ln.id for ln in site.lines if (ln.group or ln.id) in points]
    windows = [Window(_ceil_minute_ns(s.lo), _ceil_minute_ns(s.hi), s.index) for s in slots]
    windows = [w for w in windows if w.lo < w.hi]
    if not windows or not line_ids:
        return
    lookup = WindowLookup(windows)
    # Windows are whole minutes, so a crossing is in the window of its minute's start.
    minute = LineCrossing.event_ns - LineCrossing.event_ns % MINUTE_NS
    stmt = (
        select(LineCrossing.direction, minute, func.count())
        .where(
            LineCrossing.site_id == site.site.id,
            LineCrossing.staff.is_(True),
            LineCrossing.duplicate_of_camera.is_(None),
            LineCrossing.line_id.in_(line_ids),
            LineCrossing.direction.in_(DIRECTIONS),
            lookup.covers(LineCrossing.event_ns),
        )
        .group_by(LineCrossing.direction, minute)
    )
    for direction, minute_ns, n in session.execute(stmt):
        i = lookup.index_of(minute_ns)
        if i is not None:
            counts[direction][i] -= int(n)


def _entrance_footfall(
    session: Session, site: SiteConfig, span: TimeRange, buckets: LocalBuckets, hours: Hours, exclude_staff: bool
) -> dict[str, list[int]]:
    points = list(dict.fromkeys(ln.group or ln.id for ln in site.lines if ln.entrance))

    def within(slots: Sequence[Window]) -> dict[str, list[int]]:
        counts = _rollup_sums(session, site, buckets, slots, points)
        if exclude_staff:
            _subtract_staff(session, site, slots, points, counts)
        return counts

    if span.empty:
        return {d: [] for d in DIRECTIONS}
    whole = within(_bucket_slots(span, buckets))
    if hours is Hours.ALL:
        return whole
    opened = within(minute_slots(site, span, buckets))
    if hours is Hours.OPEN:
        return opened
    return {d: [a - b for a, b in zip(whole[d], opened[d], strict=True)] for d in DIRECTIONS}


def period_figures(
    session: Session, site: SiteConfig, span: TimeRange, bucket: str, hours: Hours, exclude_staff: bool
) -> PeriodFigures:
    tz = ZoneInfo(site.site.timezone)
    buckets = LocalBuckets(span, bucket, site.site.timezone)
    counts = _entrance_footfall(session, site, span, buckets, hours, exclude_staff)
    visitors = unique_visitors(session, site, span, exclude_staff=exclude_staff, hours=hours)
    return PeriodFigures(
        start=datetime.fromtimestamp(span.start_ns / NS, tz),
        end=datetime.fromtimestamp(span.end_ns / NS, tz),
        buckets=buckets.labels(),
        footfall_in=tuple(counts["in"]),
        footfall_out=tuple(counts["out"]),
        total_in=sum(counts["in"]),
        total_out=sum(counts["out"]),
        visitors=visitors.total,
    )


def compare(
    session: Session,
    site: SiteConfig,
    span: TimeRange,
    bucket: str,
    *,
    hours: Hours = Hours.ALL,
    exclude_staff: bool = False,
) -> Comparison:
    """Entrance footfall (per bucket and in total) and unique visitors of the range, of the
    previous period of the same length and of the same weekdays a week earlier."""
    previous, week = baseline_ranges(span, site.site.timezone)
    figures = [period_figures(session, site, s, bucket, hours, exclude_staff) for s in (span, previous, week)]
    return Comparison(
        site_id=site.site.id,
        bucket=Bucket(bucket),
        hours=hours,
        staff_excluded=exclude_staff,
        current=figures[0],
        previous=figures[1],
        week_ago=figures[2],
    )
