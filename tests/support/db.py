"""Summaries of what the applier wrote, to compare databases after different delivery histories."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cloud.storage.models import FootfallMinute, HeatmapCell, LineCrossing, Occupancy, Tracklet, ZoneVisit


def totals(session: Session) -> dict[str, object]:
    def count(model: type) -> int:
        return session.scalar(select(func.count()).select_from(model)) or 0

    return {
        "crossings": count(LineCrossing),
        "tracklets": count(Tracklet),
        "zone_visits": count(ZoneVisit),
        "footfall": session.scalar(select(func.sum(FootfallMinute.count))),
        "heat_s": round(session.scalar(select(func.sum(HeatmapCell.seconds))) or 0, 6),
        "occupancy": sorted((o.scope, o.scope_id, o.count) for o in session.scalars(select(Occupancy))),
    }
