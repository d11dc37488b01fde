"""Occupancy alerts as the API and the live view read them: one episode per row, its stable id."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, func, or_, select
from sqlalchemy.orm import Session

from cloud.analytics.buckets import TimeRange
from cloud.storage.models import OccupancyAlertRow


def alert_id(scope: str, scope_id: str, raised_ns: int) -> str:
    """Names the episode: its raise and its clear carry the same id (see OccupancyAlert)."""
    return f"occupancy:{scope}:{scope_id}:{raised_ns}"


@dataclass(frozen=True)
class CapacityAlert:
    """One episode over capacity, as the API shows it."""

    alert_id: str
    scope: str
    scope_id: str
    capacity: int
    # A raised alert clears once the count is at or below this.
    clear_at: int
    raised_ns: int
    raised_count: int
    peak_count: int
    # None while it is raised.
    cleared_ns: int | None
    cleared_count: int | None
    # Its raise, and its clear if it has one, have reached the alerts topic.
    published: bool

    @classmethod
    def of(cls, row: OccupancyAlertRow | Row[Any]) -> CapacityAlert:
        """From an ORM row or a plain row of the occupancy_alerts table (exports read plain rows)."""
        return cls(
            alert_id=alert_id(row.scope, row.scope_id, row.raised_ns),
            scope=row.scope,
            scope_id=row.scope_id,
            capacity=row.capacity,
            clear_at=row.clear_at,
            raised_ns=row.raised_ns,
            raised_count=row.raised_count,
            peak_count=row.peak_count,
            cleared_ns=row.cleared_ns,
            cleared_count=row.cleared_count,
            published=row.raise_published and (row.cleared_ns is None or row.clear_published),
        )


def raised_alerts(session: Session, site_id: str) -> list[CapacityAlert]:
    """The site's alerts not cleared yet: the site's first, then zones by id."""
    rows = session.scalars(
        select(OccupancyAlertRow)
        .where(OccupancyAlertRow.site_id == site_id, OccupancyAlertRow.cleared_ns.is_(None))
        .order_by(OccupancyAlertRow.scope, OccupancyAlertRow.scope_id)
        # Fresh rows, not the session's earlier copies: a rebase may have just changed them.
        .execution_options(populate_existing=True)
    )
    return [CapacityAlert.of(r) for r in rows]


def _raised_in(site_id: str, span: TimeRange) -> tuple[ColumnElement[bool], ...]:
    """Alerts raised at some time in the range: raised before its end, not cleared before its start."""
    return (
        OccupancyAlertRow.site_id == site_id,
        OccupancyAlertRow.raised_ns < span.end_ns,
        or_(OccupancyAlertRow.cleared_ns.is_(None), OccupancyAlertRow.cleared_ns >= span.start_ns),
    )


def alerts_in(
    session: Session, site_id: str, span: TimeRange, limit: int, offset: int
) -> tuple[int, list[CapacityAlert]]:
    """Alerts raised at some time in the range (raised before its end, not cleared before its
    start), newest first, one page of them, and how many there are."""
    where = _raised_in(site_id, span)
    total = session.scalar(select(func.count()).select_from(OccupancyAlertRow).where(*where)) or 0
    rows = session.scalars(
        select(OccupancyAlertRow)
        .where(*where)
        .order_by(OccupancyAlertRow.raised_ns.desc(), OccupancyAlertRow.scope, OccupancyAlertRow.scope_id)
        .limit(limit)
        .offset(offset)
    )
    return total, [CapacityAlert.of(r) for r in rows]


def iter_alerts_in(session: Session, site_id: str, span: TimeRange, chunk: int = 500) -> Iterator[CapacityAlert]:
    """Every alert of `alerts_in`'s range, newest first, read `chunk` rows at a time through a
    server-side cursor (yield_per): an export of years of alerts never sits in memory. Plain
    rows, not ORM objects: nothing lands in the session's identity map."""
    table = OccupancyAlertRow.__table__
    rows = session.execute(
        select(table)
        .where(*_raised_in(site_id, span))
        .order_by(table.c.raised_ns.desc(), table.c.scope, table.c.scope_id)
        .execution_options(yield_per=chunk)
    )
    for row in rows:
        yield CapacityAlert.of(row)
