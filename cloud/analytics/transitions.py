"""Zone-to-zone transitions: consecutive zone visits of one person, counted per (from, to) pair.

A person is a stitched visitor where the visit's tracklet has one, else the camera track.
Only visits entered inside the range and in configured zones take part; a re-entry into
the same zone is not a transition. Computed in SQL with a window function, so a busy day's
visits never travel to Python.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from cloud.analytics.buckets import TimeRange
from cloud.storage.models import Tracklet, ZoneVisit
from shared.config.site import SiteConfig


@dataclass(frozen=True)
class Transition:
    from_zone: str
    to_zone: str
    count: int


@dataclass(frozen=True)
class Transitions:
    site_id: str
    # Most frequent first.
    transitions: tuple[Transition, ...]
    # People whose visits were followed: stitched visitors, and unstitched camera tracks.
    visitor_paths: int
    track_paths: int


def transitions(session: Session, site: SiteConfig, span: TimeRange) -> Transitions:
    site_id = site.site.id
    zones = [z.id for z in site.zones]
    visitor = Tracklet.visitor_id
    unstitched = visitor.is_(None)
    # A person is the stitched visitor, else the camera track; the window walks each
    # person's visits in entry order, so only counts leave the database.
    person = (
        func.coalesce(visitor, ""),
        case((unstitched, ZoneVisit.camera_id)),
        case((unstitched, ZoneVisit.track_id)),
    )
    # Ties in entry time order by zone id, byte-wise on both databases (SQLite's default;
    # PostgreSQL's default collation follows the server's locale).
    zone_order = (
        ZoneVisit.zone_id.collate("C") if session.get_bind().dialect.name == "postgresql" else ZoneVisit.zone_id
    )
    order = (ZoneVisit.entered_ns, zone_order)
    visits = (
        select(
            ZoneVisit.zone_id.label("zone"),
            unstitched.label("unstitched"),
            func.lag(ZoneVisit.zone_id).over(partition_by=person, order_by=order).label("previous"),
        )
        .outerjoin(
            Tracklet,
            and_(
                Tracklet.site_id == ZoneVisit.site_id,
                Tracklet.camera_id == ZoneVisit.camera_id,
                Tracklet.track_id == ZoneVisit.track_id,
            ),
        )
        .where(
            ZoneVisit.site_id == site_id,
            ZoneVisit.zone_id.in_(zones),
            ZoneVisit.entered_ns >= span.start_ns,
            ZoneVisit.entered_ns < span.end_ns,
        )
        .subquery()
    )
    # A person's first visit (no previous) counts the path; a change of zone counts a transition.
    rows = session.execute(
        select(visits.c.previous, visits.c.zone, visits.c.unstitched, func.count())
        .where(or_(visits.c.previous.is_(None), visits.c.previous != visits.c.zone))
        .group_by(visits.c.previous, visits.c.zone, visits.c.unstitched)
    )
    counts: Counter[tuple[str, str]] = Counter()
    paths: Counter[bool] = Counter()
    for previous, zone, is_track, n in rows:
        if previous is None:
            paths[bool(is_track)] += n
        else:
            counts[(previous, zone)] += n
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return Transitions(
        site_id=site_id,
        transitions=tuple(Transition(a, b, n) for (a, b), n in ordered),
        visitor_paths=paths[False],
        track_paths=paths[True],
    )
