"""Hand-built analytics rows written through the production rollup writers, so every level agrees."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from cloud.storage.models import Occupancy, Visitor
from cloud.storage.rollups import (
    FootfallCount,
    OccupancyLevel,
    add_footfall,
    count_visitor_days,
    record_occupancy,
)
from cloud.storage.upsert import upsert

NS = 1_000_000_000


def add_footfall_rows(session: Session, timezone: str, rows: Iterable[tuple[str, str, str, int, int]]) -> None:
    """(site, line, direction, epoch s, count) rows, into minute, quarter and day rollups."""
    counts = [FootfallCount(*row) for row in rows]
    add_footfall(session, {c.site_id: timezone for c in counts}, counts)


def add_occupancy_rows(session: Session, timezone: str, rows: Iterable[tuple[str, str, str, int, int, int]]) -> None:
    """(site, scope, scope id, epoch s, max, last) rows, in time order, into every occupancy level.

    The live count of each scope ends at its last row, as the applier leaves it.
    """
    levels = [OccupancyLevel(*row) for row in rows]
    record_occupancy(session, {lv.site_id: timezone for lv in levels}, levels)
    live = {(lv.site_id, lv.scope, lv.scope_id): (lv.count, lv.time_s * NS) for lv in levels}
    upsert(
        session,
        Occupancy,
        [
            {"site_id": s, "scope": sc, "scope_id": i, "count": c, "updated_ns": t}
            for (s, sc, i), (c, t) in live.items()
        ],
        update=["count", "updated_ns"],
    )


def add_visitors(session: Session, timezone: str, visitors: Iterable[Visitor]) -> None:
    """Stitched visitors and their per-day counts, as stitching stores them."""
    for v in visitors:
        session.add(v)
        count_visitor_days(session, v.site_id, timezone, [(None, (v.first_seen_ns, v.last_seen_ns))])
