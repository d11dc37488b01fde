"""Occupancy: live counts per zone and for the site, their history per local bucket, and rebasing.

Zones are those of the site config (a zone without any event reads 0).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.analytics.buckets import NS, Bucket, LocalBuckets, TimeRange
from cloud.storage.models import Occupancy, OccupancyMinute
from cloud.storage.upsert import upsert
from shared.config.site import SiteConfig

SCOPES = ("site", "zone")


@dataclass(frozen=True)
class OccupancyNow:
    scope: str
    scope_id: str
    count: int
    # Time of the last change; None while nothing has been counted.
    updated_ns: int | None


@dataclass(frozen=True)
class LiveOccupancy:
    site: OccupancyNow
    zones: tuple[OccupancyNow, ...]


@dataclass(frozen=True)
class OccupancySeries:
    scope: str
    scope_id: str
    # Highest count reached in each bucket of OccupancyHistory.buckets.
    peaks: tuple[int, ...]


@dataclass(frozen=True)
class OccupancyHistory:
    site_id: str
    bucket: Bucket
    buckets: tuple[datetime, ...]
    site: OccupancySeries
    zones: tuple[OccupancySeries, ...]


def live_occupancy(session: Session, site: SiteConfig) -> LiveOccupancy:
    site_id = site.site.id
    # Plain columns, not ORM objects: a session's identity map would hide a rebase made through it.
    rows = session.execute(
        select(Occupancy.scope, Occupancy.scope_id, Occupancy.count, Occupancy.updated_ns).where(
            Occupancy.site_id == site_id
        )
    )
    counts = {(scope, scope_id): (count, updated) for scope, scope_id, count, updated in rows}

    def now(scope: str, scope_id: str) -> OccupancyNow:
        count, updated = counts.get((scope, scope_id), (0, None))
        return OccupancyNow(scope, scope_id, count, updated)

    return LiveOccupancy(site=now("site", site_id), zones=tuple(now("zone", z.id) for z in site.zones))


def _peaks(
    session: Session, site_id: str, scope: str, scope_id: str, span: TimeRange, buckets: LocalBuckets
) -> tuple[int, ...]:
    key = (OccupancyMinute.site_id == site_id, OccupancyMinute.scope == scope, OccupancyMinute.scope_id == scope_id)
    lo, hi = span.bucket_bounds_s()
    # A minute without a change has no row: the count entering the range is the last
    # one written before it, and it carries through every quiet bucket after.
    level = (
        session.scalar(
            select(OccupancyMinute.last_count)
            .where(*key, OccupancyMinute.bucket_s < lo)
            .order_by(OccupancyMinute.bucket_s.desc())
            .limit(1)
        )
        or 0
    )
    top: dict[int, int] = {}
    last: dict[int, int] = {}
    rows = session.execute(
        select(OccupancyMinute.bucket_s, OccupancyMinute.max_count, OccupancyMinute.last_count)
        .where(*key, OccupancyMinute.bucket_s >= lo, OccupancyMinute.bucket_s < hi)
        .order_by(OccupancyMinute.bucket_s)
    )
    for bucket_s, max_count, last_count in rows:
        i = buckets.index(bucket_s)
        top[i] = max(top.get(i, 0), max_count)
        last[i] = last_count
    peaks = []
    for i in range(len(buckets)):
        # A minute's max_count misses the count it started with; the carried level has it.
        peaks.append(max(level, top.get(i, 0)))
        level = last.get(i, level)
    return tuple(peaks)


def occupancy_history(session: Session, site: SiteConfig, span: TimeRange, bucket: str) -> OccupancyHistory:
    site_id = site.site.id
    buckets = LocalBuckets(span, bucket, site.site.timezone)

    def series(scope: str, scope_id: str) -> OccupancySeries:
        return OccupancySeries(scope, scope_id, _peaks(session, site_id, scope, scope_id, span, buckets))

    return OccupancyHistory(
        site_id=site_id,
        bucket=buckets.bucket,
        buckets=buckets.labels(),
        site=series("site", site_id),
        zones=tuple(series("zone", z.id) for z in site.zones),
    )


def rebase(
    session: Session, site_id: str, scope: str, scope_id: str, count: int, *, now_ns: int | None = None
) -> OccupancyNow:
    """Set a live count an operator has verified, correcting drift from missed crossings.

    Also written to the minute rollup, so the history carries the corrected count
    forward. Runs in the caller's transaction.
    """
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}, got {scope!r}")
    if scope == "site" and scope_id != site_id:
        raise ValueError(f"the site scope's id is the site id {site_id!r}, got {scope_id!r}")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise ValueError(f"occupancy count must be a non-negative integer, got {count!r}")
    now = time.time_ns() if now_ns is None else now_ns
    upsert(
        session,
        Occupancy,
        [{"site_id": site_id, "scope": scope, "scope_id": scope_id, "count": count, "updated_ns": now}],
        update=["count", "updated_ns"],
    )
    minute = now // NS // 60 * 60
    row = session.get(OccupancyMinute, (site_id, scope, scope_id, minute))
    if row is None:
        session.add(
            OccupancyMinute(
                site_id=site_id, scope=scope, scope_id=scope_id, bucket_s=minute, max_count=count, last_count=count
            )
        )
    else:
        row.max_count = max(row.max_count, count)
        row.last_count = count
    return OccupancyNow(scope, scope_id, count, now)
