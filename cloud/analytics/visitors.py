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

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.analytics.buckets import NS, Bucket, LocalBuckets, TimeRange
from cloud.storage.models import Tracklet, Visitor
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
class VisitorsPerDay:
    site_id: str
    days: tuple[VisitorDay, ...]
    total: int


def _per_day(rows: Iterable[tuple[_Key, int, int]], span: TimeRange, days: LocalBuckets) -> list[set[_Key]]:
    seen: list[set[_Key]] = [set() for _ in range(len(days))]
    for key, first_ns, last_ns in rows:
        # Only the part of the stay inside the range counts.
        first = days.index(max(first_ns, span.start_ns) // NS)
        last = days.index(min(last_ns, span.end_ns - 1) // NS)
        for i in range(first, last + 1):
            seen[i].add(key)
    return seen


def unique_visitors(session: Session, site: SiteConfig, span: TimeRange) -> VisitorsPerDay:
    site_id = site.site.id
    days = LocalBuckets(span, Bucket.DAY, site.site.timezone)
    if span.empty:
        # A stay around the instant would match the overlap test, yet has no day to count on.
        return VisitorsPerDay(site_id, (), 0)
    stitched = session.execute(
        select(Visitor.visitor_id, Visitor.first_seen_ns, Visitor.last_seen_ns).where(
            Visitor.site_id == site_id, Visitor.first_seen_ns < span.end_ns, Visitor.last_seen_ns >= span.start_ns
        )
    )
    by_visitor = _per_day(stitched, span, days)
    by_tracklet: list[set[_Key]] = [set() for _ in range(len(days))]
    if not all(by_visitor):
        tracklets = session.execute(
            select(Tracklet.camera_id, Tracklet.track_id, Tracklet.first_seen_ns, Tracklet.last_seen_ns).where(
                Tracklet.site_id == site_id,
                Tracklet.first_seen_ns < span.end_ns,
                Tracklet.last_seen_ns >= span.start_ns,
            )
        )
        by_tracklet = _per_day((((c, t), f, la) for c, t, f, la in tracklets), span, days)
    chosen = [v or t for v, t in zip(by_visitor, by_tracklet, strict=True)]
    return VisitorsPerDay(
        site_id=site_id,
        days=tuple(
            VisitorDay(day, len(keys), "visitors" if by_visitor[i] else "tracklets")
            for i, (day, keys) in enumerate(zip(days.labels(), chosen, strict=True))
        ),
        total=len(set[_Key]().union(*chosen)),
    )
