"""Unique visitors per site-local day.

Rule: a visitor counts on every local day that their presence [first_seen, last_seen]
touches inside the range, so someone on site across midnight counts on both days;
`total` counts each visitor once over the whole range (it is not the sum of the days).

Fallback: a day that no stitched visitor overlaps (stitching has not run, or not caught
up yet) is counted from tracklets, distinct (camera, track) pairs, and says so with
`source="tracklets"`. That is an upper bound: one person seen by three cameras is three
tracklets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from cloud.analytics.buckets import NS, Bucket, LocalBuckets, RollupPiece, TimeRange
from cloud.analytics.hours import Hours, Window, day_windows, open_intervals_ns, windows_cte
from cloud.storage.models import Tracklet, Visitor, VisitorsDay
from cloud.storage.rollups import Resolution
from shared.config.site import SiteConfig

Source = Literal["visitors", "tracklets"]
# A visitor id, or (camera_id, track_id) for a tracklet.
_Key = str | tuple[str, int]


@dataclass(frozen=True)
class VisitorDay:
    # Local midnight that starts the day.
    day: datetime
    visitors: int
    source: Source


@dataclass(frozen=True)
class VisitorsPart:
    """Visitors of one part of the range (outside opening hours), days as in VisitorsPerDay."""

    days: tuple[VisitorDay, ...]
    total: int


@dataclass(frozen=True)
class VisitorsPerDay:
    site_id: str
    days: tuple[VisitorDay, ...]
    total: int
    staff_excluded: bool = False
    # Which part of the range the figures above cover.
    hours: Hours = Hours.ALL
    # With hours=open: visitors seen only outside opening hours, per day and over the range.
    outside_hours: VisitorsPart | None = None


def _per_day(rows: Iterable[tuple[_Key, int, int]], span: TimeRange, days: LocalBuckets) -> list[set[_Key]]:
    seen: list[set[_Key]] = [set() for _ in range(len(days))]
    for key, first_ns, last_ns in rows:
        # Only the part of the stay inside the range counts.
        first = days.index(max(first_ns, span.start_ns) // NS)
        last = days.index(min(last_ns, span.end_ns - 1) // NS)
        for i in range(first, last + 1):
            seen[i].add(key)
    return seen


def _stays(session: Session, site_id: str, part: TimeRange, *, staff_only: bool = False) -> list[tuple[_Key, int, int]]:
    stmt = select(Visitor.visitor_id, Visitor.first_seen_ns, Visitor.last_seen_ns).where(
        Visitor.site_id == site_id, Visitor.first_seen_ns < part.end_ns, Visitor.last_seen_ns >= part.start_ns
    )
    if staff_only:
        stmt = stmt.where(Visitor.staff.is_(True))
    return [(v, f, la) for v, f, la in session.execute(stmt)]


def _tracks(session: Session, site_id: str, part: TimeRange) -> list[tuple[_Key, int, int]]:
    rows = session.execute(
        select(Tracklet.camera_id, Tracklet.track_id, Tracklet.first_seen_ns, Tracklet.last_seen_ns).where(
            Tracklet.site_id == site_id, Tracklet.first_seen_ns < part.end_ns, Tracklet.last_seen_ns >= part.start_ns
        )
    )
    return [((c, t), f, la) for c, t, f, la in rows]


def _total(
    session: Session, site_id: str, span: TimeRange, whole: RollupPiece | None, first_day: int, arrivals: dict[int, int]
) -> int:
    """Each visitor once over the whole range.

    A range that starts at a local midnight takes it from the day rollup: those present on
    its first day, those who arrived on the later whole days, and (an index range on
    ix_visitors_site_first_seen) those who arrived in the part day after them. Any other
    range counts its stays (an index-only count on ix_visitors_site_seen), which reads every
    visitor of the range: 20-80 ms for 30 days of a busy mall.
    """
    if whole is not None and whole.lo_s * NS == span.start_ns:
        # Present on the first day but not arrived then: there when the range began.
        carried = first_day - arrivals.get(whole.lo_s, 0)
        later = (
            session.scalar(
                select(func.count()).where(
                    Visitor.site_id == site_id,
                    Visitor.first_seen_ns >= whole.hi_s * NS,
                    Visitor.first_seen_ns < span.end_ns,
                )
            )
            or 0
        )
        return carried + sum(arrivals.values()) + later
    return (
        session.scalar(
            select(func.count()).where(
                Visitor.site_id == site_id, Visitor.last_seen_ns >= span.start_ns, Visitor.first_seen_ns < span.end_ns
            )
        )
        or 0
    )


def _around_the_clock(
    session: Session, site_id: str, span: TimeRange, days: LocalBuckets, *, exclude_staff: bool
) -> tuple[list[int], list[Source], int]:
    """Visitors per day, each day's source, and the range's total, at any hour."""
    counts = [0] * len(days)
    # Whole local days come from the per-day rollup; a day the range cuts is counted from
    # the stays themselves, since only the part inside the range counts.
    whole = next((p for p in days.cover(span) if p.resolution is Resolution.DAY), None)
    edges = [span]
    arrivals: dict[int, int] = {}
    if whole is not None:
        edges = [TimeRange(span.start_ns, whole.lo_s * NS), TimeRange(whole.hi_s * NS, span.end_ns)]
        for day_s, n, arrived in session.execute(
            select(VisitorsDay.day_s, VisitorsDay.visitors, VisitorsDay.arrivals).where(
                VisitorsDay.site_id == site_id, VisitorsDay.day_s >= whole.lo_s, VisitorsDay.day_s < whole.hi_s
            )
        ):
            counts[days.index(day_s)] = n
            arrivals[day_s] = arrived
    for part in edges:
        if not part.empty:
            # Parts and whole days never share a day, so their counts add.
            for i, keys in enumerate(_per_day(_stays(session, site_id, part), part, days)):
                counts[i] += len(keys)
    total = _total(session, site_id, span, whole, counts[0] if whole else 0, arrivals)
    source: list[Source] = ["visitors" if n else "tracklets" for n in counts]
    if not all(counts):
        # Days without stitched visitors, from their first to their last: tracklets instead.
        missing = [i for i, n in enumerate(counts) if not n]
        after = missing[-1] + 1
        part = TimeRange(
            max(span.start_ns, days.starts_s[missing[0]] * NS),
            min(span.end_ns, days.starts_s[after] * NS) if after < len(days) else span.end_ns,
        )
        by_day = _per_day(_tracks(session, site_id, part), part, days)
        for i in missing:
            counts[i] = len(by_day[i])
        total += len(set[_Key]().union(*(by_day[i] for i in missing)))
    if exclude_staff:
        staff = _stays(session, site_id, span, staff_only=True)
        for i, keys in enumerate(_per_day(staff, span, days)):
            if source[i] == "visitors":
                counts[i] -= len(keys)
        total -= len(staff)
    return counts, source, total


def _present(
    session: Session,
    site_id: str,
    windows: list[Window],
    *,
    tracklets: bool,
    exclude_staff: bool,
) -> tuple[dict[int, int], int]:
    """Distinct stays (visitors, or tracklets) that meet the windows (epoch ns): per window
    index, and over all windows; counted by the database."""
    if not windows:
        return {}, 0
    lo, hi = min(w.lo for w in windows), max(w.hi for w in windows)
    table = Tracklet if tracklets else Visitor
    keys = (Tracklet.camera_id, Tracklet.track_id) if tracklets else (Visitor.visitor_id,)
    in_range = [table.site_id == site_id, table.first_seen_ns < hi, table.last_seen_ns >= lo]
    if exclude_staff and not tracklets:
        in_range.append(Visitor.staff.is_(False))
    longest = session.scalar(select(func.max(table.last_seen_ns - table.first_seen_ns)).where(*in_range))
    if longest is None:
        return {}, 0
    w = windows_cte("open_days", windows)
    # A stay meets [lo, hi) when it starts before hi and ends at or after lo; it ends within
    # the longest stay of hi, which bounds last_seen on both sides for the index.
    met = (
        select(w.c.i, *keys)
        .select_from(table)
        .join(
            w,
            and_(
                table.last_seen_ns >= w.c.lo,
                table.last_seen_ns < w.c.hi + (int(longest) + 1),
                table.first_seen_ns < w.c.hi,
            ),
        )
        .where(*in_range)
        .distinct()
        .subquery()
    )
    per_window = {int(i): int(n) for i, n in session.execute(select(met.c.i, func.count()).group_by(met.c.i))}
    stays = select(*(met.c[k.key] for k in keys)).distinct().subquery()
    total = session.scalar(select(func.count()).select_from(stays)) or 0
    return per_window, int(total)


def unique_visitors(
    session: Session,
    site: SiteConfig,
    span: TimeRange,
    *,
    exclude_staff: bool = False,
    hours: Hours = Hours.ALL,
) -> VisitorsPerDay:
    """With `exclude_staff`, visitors matched to a staff gallery are subtracted from the
    stitched counts (tracklet-counted days cannot tell staff apart). `hours` open counts
    the visitors seen within the site's opening hours, outside those seen only outside
    them (a site without opening hours is always open); with open, `outside_hours` has them."""
    site_id = site.site.id
    days = LocalBuckets(span, Bucket.DAY, site.site.timezone)
    if span.empty:
        # A stay around the instant would match the overlap test, yet has no day to count on.
        empty = VisitorsPart((), 0) if hours is Hours.OPEN else None
        return VisitorsPerDay(site_id, (), 0, hours=hours, outside_hours=empty)
    counts, source, total = _around_the_clock(session, site_id, span, days, exclude_staff=exclude_staff)
    labels = days.labels()
    if hours is Hours.ALL:
        return VisitorsPerDay(
            site_id=site_id,
            days=tuple(VisitorDay(day, n, src) for day, n, src in zip(labels, counts, source, strict=True)),
            total=total,
            staff_excluded=exclude_staff,
        )
    windows = day_windows(open_intervals_ns(site, span), days)
    # Each day is counted from what it was counted from at any hour.
    opened = [0] * len(days)
    open_total = 0
    for tracklets in (False, True):
        wanted = "tracklets" if tracklets else "visitors"
        part = [w for w in windows if source[w.index] == wanted]
        per_day, n = _present(session, site_id, part, tracklets=tracklets, exclude_staff=exclude_staff)
        for i, count in per_day.items():
            opened[i] = count
        open_total += n
    closed = [a - b for a, b in zip(counts, opened, strict=True)]
    open_days = tuple(VisitorDay(day, n, src) for day, n, src in zip(labels, opened, source, strict=True))
    closed_days = tuple(VisitorDay(day, n, src) for day, n, src in zip(labels, closed, source, strict=True))
    if hours is Hours.OPEN:
        return VisitorsPerDay(
            site_id, open_days, open_total, exclude_staff, hours, VisitorsPart(closed_days, total - open_total)
        )
    return VisitorsPerDay(site_id, closed_days, total - open_total, exclude_staff, hours)
