"""Zone-to-zone transitions: consecutive zone visits of one person, counted per (from, to) pair.

A person is a stitched visitor where the visit's tracklet has one, else the camera track.
Only visits entered inside the range and in configured zones take part; a re-entry into
the same zone is not a transition.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import pairwise

from sqlalchemy import and_, select
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
    rows = session.execute(
        select(ZoneVisit.camera_id, ZoneVisit.track_id, ZoneVisit.zone_id, ZoneVisit.entered_ns, Tracklet.visitor_id)
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
            ZoneVisit.zone_id.in_([z.id for z in site.zones]),
            ZoneVisit.entered_ns >= span.start_ns,
            ZoneVisit.entered_ns < span.end_ns,
        )
    )
    paths: dict[str | tuple[str, int], list[tuple[int, str]]] = defaultdict(list)
    for camera_id, track_id, zone_id, entered_ns, visitor_id in rows:
        paths[visitor_id if visitor_id is not None else (camera_id, track_id)].append((entered_ns, zone_id))
    counts: Counter[tuple[str, str]] = Counter()
    for visits in paths.values():
        # Ties in entry time order by zone id, so both databases give the same answer.
        zones = [zone for _, zone in sorted(visits)]
        counts.update((a, b) for a, b in pairwise(zones) if a != b)
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return Transitions(
        site_id=site_id,
        transitions=tuple(Transition(a, b, n) for (a, b), n in ordered),
        visitor_paths=sum(1 for key in paths if isinstance(key, str)),
        track_paths=sum(1 for key in paths if not isinstance(key, str)),
    )
