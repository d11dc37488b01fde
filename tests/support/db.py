"""Fresh databases, and summaries of what the applier wrote to compare databases after different delivery histories."""

from __future__ import annotations

import uuid

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from cloud.storage.models import (
    CameraProgress,
    FootfallMinute,
    HeatmapCell,
    LineCrossing,
    Occupancy,
    Tracklet,
    ZoneVisit,
)


def _on_server(server_url: str, statement: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
    # pre_ping: the server may have been restarted in between (fault tests).
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    try:
        with admin.connect() as conn:
            conn.execute(text(statement))
    finally:
        admin.dispose()


def create_database(server_url: str, prefix: str = "mallflow_test") -> str:
    """A fresh, empty database on the server of `server_url`; its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    _on_server(server_url, f'CREATE DATABASE "{name}"')
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, url: str) -> None:
    _on_server(server_url, f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def applied_seqs(session: Session) -> int:
    """The sum over cameras of the highest seq applied: the number of envelopes applied when
    every camera's seqs run 1, 2, 3, … (the edge's)."""
    return session.scalar(select(func.coalesce(func.sum(CameraProgress.last_seq), 0))) or 0


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
