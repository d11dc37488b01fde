"""Occupancy alerts raised and cleared as live counts move, in the transaction that moves them.

The ingest shows the monitor every count it changes, in event-time order
(cloud/ingest/applier.py), and an operator's rebase the count it sets
(cloud/analytics/occupancy.py). A count over its scope's capacity raises an alert, one at
or below the clear level (shared/config/capacity.py) clears it; each episode is one
`occupancy_alerts` row, written with the counts. Exactly-once follows from the applier's
seq gate: a replayed or redelivered batch moves no count, so it raises nothing, and a
batch that fails rolls its alerts back with its counts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from cloud.storage.models import OccupancyAlertRow
from cloud.storage.upsert import upsert
from shared.config.capacity import Limit
from shared.config.site import SiteConfig

log = logging.getLogger(__name__)

_alerts = OccupancyAlertRow.__table__
# Built once (compiled once): read for every site of every batch that moves a count.
_RAISED_OF_SITE = select(*_alerts.columns).where(
    _alerts.c.site_id == bindparam("site_id"), _alerts.c.cleared_ns.is_(None)
)

# What a later observation may change on an episode; the outbox flags are the dispatcher's.
_UPDATED = ("capacity", "clear_at", "peak_count", "cleared_ns", "cleared_count")


class Transition(StrEnum):
    RAISED = "raised"
    CLEARED = "cleared"


def step(raised: bool, count: int, limit: Limit | None) -> Transition | None:
    """The hysteresis on its own: what a scope's new count does to its alert."""
    if not raised:
        return Transition.RAISED if limit is not None and count > limit.capacity else None
    # A limit taken out of the config ends the alert it raised.
    return Transition.CLEARED if limit is None or count <= limit.clear_at else None


@dataclass(frozen=True)
class AlertChange:
    site_id: str
    scope: str
    scope_id: str
    transition: Transition
    count: int
    capacity: int
    time_ns: int


class _SiteAlerts:
    """A site's raised alerts (episode rows by scope), loaded once per transaction."""

    def __init__(self, session: Session, site_id: str) -> None:
        self.session = session
        self.site_id = site_id
        self.raised: dict[tuple[str, str], dict[str, Any]] = {}
        for row in session.connection().execute(_RAISED_OF_SITE, {"site_id": site_id}).mappings():
            self.raised[(row["scope"], row["scope_id"])] = dict(row)
        self._last_raised: dict[tuple[str, str], int] = {}

    def next_raise_ns(self, key: tuple[str, str], time_ns: int) -> int:
        """The new episode's key time: its event time, unless the scope's last episode began at
        or after it (a raise, clear and raise within one nanosecond, or a rebase's wall clock
        ahead of the footage's)."""
        if key not in self._last_raised:
            self._last_raised[key] = (
                self.session.scalar(
                    select(func.max(OccupancyAlertRow.raised_ns)).where(
                        OccupancyAlertRow.site_id == self.site_id,
                        OccupancyAlertRow.scope == key[0],
                        OccupancyAlertRow.scope_id == key[1],
                    )
                )
                or -1
            )
        raised = max(time_ns, self._last_raised[key] + 1)
        self._last_raised[key] = raised
        return raised


class CapacityMonitor:
    """Alerts of one transaction: `observe` each count as it changes, then `write` once."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._sites: dict[str, _SiteAlerts] = {}
        self._dirty: dict[tuple[str, str, str, int], dict[str, Any]] = {}
        self.changes: list[AlertChange] = []

    def observe(self, site: SiteConfig, scope: str, scope_id: str, count: int, time_ns: int) -> None:
        site_id = site.site.id
        if site_id not in self._sites:
            self._sites[site_id] = _SiteAlerts(self.session, site_id)
        alerts = self._sites[site_id]
        key = (scope, scope_id)
        episode = alerts.raised.get(key)
        limit = site.capacity.limit(scope, scope_id)
        if episode is None and (limit is None or count <= limit.capacity):
            return  # nothing raised and nothing to raise: the usual count
        transition = step(episode is not None, count, limit)
        if transition is Transition.RAISED and limit is not None:
            episode = {
                "site_id": site_id,
                "scope": scope,
                "scope_id": scope_id,
                "raised_ns": alerts.next_raise_ns(key, time_ns),
                "capacity": limit.capacity,
                "clear_at": limit.clear_at,
                "raised_count": count,
                "peak_count": count,
                "cleared_ns": None,
                "cleared_count": None,
                "raise_published": False,
                "clear_published": False,
            }
            alerts.raised[key] = episode
        elif episode is None:
            return
        else:
            before = tuple(episode[c] for c in _UPDATED)
            episode["peak_count"] = max(episode["peak_count"], count)
            if limit is not None:
                # Judged by the limit the config has now: an operator who raises a capacity
                # while an alert is up clears it with the next count under the new level.
                episode["capacity"], episode["clear_at"] = limit.capacity, limit.clear_at
            if transition is Transition.CLEARED:
                episode["cleared_ns"] = max(time_ns, episode["raised_ns"])
                episode["cleared_count"] = count
                del alerts.raised[key]
            if tuple(episode[c] for c in _UPDATED) == before:
                return
        self._dirty[(site_id, scope, scope_id, episode["raised_ns"])] = episode
        if transition is not None:
            change = AlertChange(site_id, scope, scope_id, transition, count, episode["capacity"], time_ns)
            self.changes.append(change)

    def write(self) -> None:
        upsert(self.session, OccupancyAlertRow, list(self._dirty.values()), update=_UPDATED)
        self._dirty.clear()
        for c in self.changes:
            where = f"{c.scope} {c.scope_id!r} of site {c.site_id!r}"
            if c.transition is Transition.RAISED:
                log.warning("%s is over capacity: %d people, capacity %d", where, c.count, c.capacity)
            else:
                log.info("%s is back under capacity: %d people", where, c.count)
