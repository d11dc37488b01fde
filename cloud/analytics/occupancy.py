"""Occupancy: live counts per zone and for the site, their history per local bucket, and rebasing.

Zones are those of the site config (a zone without any event reads 0). Live counts come
with their capacity and the alert raised on them, if any (cloud/capacity/).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from cloud.analytics.buckets import NS, Bucket, LocalBuckets, TimeRange
from cloud.capacity.alerts import CapacityAlert, raised_alerts
from cloud.capacity.monitor import CapacityMonitor
from cloud.storage.models import CameraProgress, Occupancy, OccupancyMinute, Visitor, ZoneVisit
from cloud.storage.rollups import OCCUPANCY, OccupancyLevel, record_occupancy
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
    # The scope's configured capacity; None: no limit.
    capacity: int | None = None
    # The alert raised on it and not yet cleared (it may stay raised below the capacity,
    # down to its clear level).
    alert: CapacityAlert | None = None


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
    # Peaks less the staff known to be present throughout each bucket (see occupancy_history).
    staff_excluded: bool = False


def live_occupancy(session: Session, site: SiteConfig) -> LiveOccupancy:
    site_id = site.site.id
    # Plain columns, not ORM objects: a session's identity map would hide a rebase made through it.
    rows = session.execute(
        select(Occupancy.scope, Occupancy.scope_id, Occupancy.count, Occupancy.updated_ns).where(
            Occupancy.site_id == site_id
        )
    )
    counts = {(scope, scope_id): (count, updated) for scope, scope_id, count, updated in rows}
    alerts = {(a.scope, a.scope_id): a for a in raised_alerts(session, site_id)}

    def now(scope: str, scope_id: str) -> OccupancyNow:
        count, updated = counts.get((scope, scope_id), (0, None))
        limit = site.capacity.limit(scope, scope_id)
        capacity = None if limit is None else limit.capacity
        return OccupancyNow(scope, scope_id, count, updated, capacity, alerts.get((scope, scope_id)))

    return LiveOccupancy(site=now("site", site_id), zones=tuple(now("zone", z.id) for z in site.zones))


def _levels_before(session: Session, site_id: str, lo_s: int) -> dict[tuple[str, str], int]:
    """Each scope's count as the range begins: the last minute written before it.

    One statement, an index probe per scope; the live table lists the scopes, since
    every change writes both.
    """
    m = aliased(OccupancyMinute)
    last = (
        select(m.last_count)
        .where(m.site_id == Occupancy.site_id, m.scope == Occupancy.scope, m.scope_id == Occupancy.scope_id)
        .where(m.bucket_s < lo_s)
        .order_by(m.bucket_s.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = session.execute(select(Occupancy.scope, Occupancy.scope_id, last).where(Occupancy.site_id == site_id))
    return {(scope, scope_id): level or 0 for scope, scope_id, level in rows}


def _staff_presence(session: Session, site_id: str, span: TimeRange) -> dict[tuple[str, str], list[tuple[int, int]]]:
    """When staff were present, per scope: their zone visits, and their stays on site."""
    far = 2**62
    out: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for zone_id, entered, exited in session.execute(
        select(ZoneVisit.zone_id, ZoneVisit.entered_ns, ZoneVisit.exited_ns).where(
            ZoneVisit.site_id == site_id,
            ZoneVisit.staff.is_(True),
            ZoneVisit.entered_ns < span.end_ns,
        )
    ):
        if exited is None or exited >= span.start_ns:
            out[("zone", zone_id)].append((entered, far if exited is None else exited))
    for first, last in session.execute(
        select(Visitor.first_seen_ns, Visitor.last_seen_ns).where(
            Visitor.site_id == site_id,
            Visitor.staff.is_(True),
            Visitor.first_seen_ns < span.end_ns,
            Visitor.last_seen_ns >= span.start_ns,
        )
    ):
        out[("site", site_id)].append((first, last))
    return out


def occupancy_history(
    session: Session, site: SiteConfig, span: TimeRange, bucket: str, *, exclude_staff: bool = False
) -> OccupancyHistory:
    """Peak count per bucket, per scope.

    With `exclude_staff`, each peak is lowered by the staff present for the whole bucket
    (zone visits and stays of visitors matched to a staff gallery): those were certainly
    part of the peak. Staff present for part of a bucket may or may not have been, so the
    result is an upper bound of the peak of non-staff people, exact for buckets no staff
    entered or left in.
    """
    site_id = site.site.id
    buckets = LocalBuckets(span, bucket, site.site.timezone)
    scopes = [("site", site_id), *(("zone", z.id) for z in site.zones)]
    # A bucket without a change has no row: the count entering the range carries through
    # every quiet bucket after it.
    level = _levels_before(session, site_id, span.bucket_bounds_s()[0])
    top: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    last: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    for piece in buckets.cover(span):
        table = OCCUPANCY[piece.resolution]
        rows = session.execute(
            select(table.scope, table.scope_id, table.bucket_s, table.max_count, table.last_count)
            .where(
                table.site_id == site_id,
                # Scopes named, so the primary key (site, scope, scope id, bucket) bounds the range.
                table.scope.in_(SCOPES),
                table.scope_id.in_([scope_id for _, scope_id in scopes]),
                table.bucket_s >= piece.lo_s,
                table.bucket_s < piece.hi_s,
            )
            .order_by(table.scope, table.scope_id, table.bucket_s)
        )
        for scope, scope_id, bucket_s, max_count, last_count in rows:
            i = buckets.index(bucket_s)
            key = (scope, scope_id)
            top[key][i] = max(top[key].get(i, 0), max_count)
            last[key][i] = last_count

    staff = _staff_presence(session, site_id, span) if exclude_staff else {}
    edges_ns = [s * NS for s in buckets.starts_s[1:]] + [span.end_ns]

    def series(scope: str, scope_id: str) -> OccupancySeries:
        key = (scope, scope_id)
        carried = level.get(key, 0)
        peaks = []
        for i in range(len(buckets)):
            # A bucket's max_count misses the count it started with; the carried level has it.
            peak = max(carried, top[key].get(i, 0))
            lo_ns = max(span.start_ns, buckets.starts_s[i] * NS)
            present = sum(1 for a, b in staff.get(key, ()) if a <= lo_ns and b >= edges_ns[i])
            peaks.append(max(0, peak - present))
            carried = last[key].get(i, carried)
        return OccupancySeries(scope, scope_id, tuple(peaks))

    return OccupancyHistory(
        site_id=site_id,
        bucket=buckets.bucket,
        buckets=buckets.labels(),
        site=series(*scopes[0]),
        zones=tuple(series(*scope) for scope in scopes[1:]),
        staff_excluded=exclude_staff,
    )


def rebase(
    session: Session, site: SiteConfig, scope: str, scope_id: str, count: int, *, now_ns: int | None = None
) -> OccupancyNow:
    """Set a live count an operator has verified, correcting drift from missed crossings.

    Also written to the rollups, so the history carries the corrected count forward, and
    shown to the capacity monitor: a count corrected over the capacity raises an alert,
    one corrected down to the clear level clears it. Runs in the caller's transaction.
    """
    site_id = site.site.id
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}, got {scope!r}")
    if scope == "site" and scope_id != site_id:
        raise ValueError(f"the site scope's id is the site id {site_id!r}, got {scope_id!r}")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise ValueError(f"occupancy count must be a non-negative integer, got {count!r}")
    now = time.time_ns() if now_ns is None else now_ns
    # The ingest takes these locks first in every batch of the site (cloud/ingest/applier.py):
    # holding them, the rebase and a batch cannot each judge the site's alerts on counts the
    # other is changing (PostgreSQL; SQLite has one writer at a time anyway).
    session.execute(select(CameraProgress.site_id).where(CameraProgress.site_id == site_id).with_for_update())
    upsert(
        session,
        Occupancy,
        [{"site_id": site_id, "scope": scope, "scope_id": scope_id, "count": count, "updated_ns": now}],
        update=["count", "updated_ns"],
    )
    record_occupancy(
        session, {site_id: site.site.timezone}, [OccupancyLevel(site_id, scope, scope_id, now // NS, count, count)]
    )
    monitor = CapacityMonitor(session)
    monitor.observe(site, scope, scope_id, count, now)
    monitor.write()
    limit = site.capacity.limit(scope, scope_id)
    alert = next((a for a in raised_alerts(session, site_id) if (a.scope, a.scope_id) == (scope, scope_id)), None)
    return OccupancyNow(scope, scope_id, count, now, None if limit is None else limit.capacity, alert)
