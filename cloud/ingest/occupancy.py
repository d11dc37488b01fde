"""Live counts touched by one batch: loaded once, changed in event order, written back once.

Every change is shown to the capacity monitor as it happens, so an alert is raised at the
event that crossed the limit, even when the batch ends back under it.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from cloud.capacity.monitor import CapacityMonitor
from cloud.ingest.registry import SiteRegistry
from cloud.storage.bulk import BulkWriter, RowSet
from cloud.storage.models import Occupancy
from cloud.storage.rollups import OccupancyLevel, record_occupancy

NS = 1_000_000_000
Scope = tuple[str, str, str]  # site_id, scope ("site" or "zone"), scope_id
_occupancy = Occupancy.__table__.c
# Built once (compiled once): read for every site of every batch.
_COUNTS_OF_SITE = select(_occupancy.scope, _occupancy.scope_id, _occupancy.count, _occupancy.updated_ns).where(
    _occupancy.site_id == bindparam("site_id")
)


class LiveOccupancy:
    def __init__(self, session: Session, registry: SiteRegistry) -> None:
        self.session = session
        self.registry = registry
        self.capacity = CapacityMonitor(session)
        self.counts: dict[Scope, tuple[int, int]] = {}
        self.levels: list[OccupancyLevel] = []
        self._loaded: set[str] = set()
        # Only these are written back: the others were read, not changed.
        self.changed: set[Scope] = set()

    def _current(self, key: Scope) -> int:
        if key not in self.counts:
            site_id = key[0]
            if site_id not in self._loaded:
                # Every live count of the site in one read: a batch touches most of them.
                self._loaded.add(site_id)
                for scope, scope_id, count, updated in self.session.connection().execute(
                    _COUNTS_OF_SITE, {"site_id": site_id}
                ):
                    self.counts.setdefault((site_id, scope, scope_id), (count, updated))
            self.counts.setdefault(key, (0, 0))
        return self.counts[key][0]

    def change(self, site_id: str, scope: str, scope_id: str, delta: int, time_ns: int) -> None:
        key = (site_id, scope, scope_id)
        # Never negative: an exit whose enter predates the data (or was lost to a
        # camera outage) must not drive the count below zero.
        value = max(0, self._current(key) + delta)
        self.counts[key] = (value, time_ns)
        self.changed.add(key)
        self.levels.append(OccupancyLevel(site_id, scope, scope_id, time_ns // NS, value, value))
        self.capacity.observe(self.registry.site(site_id), scope, scope_id, value, time_ns)

    def write(self, writer: BulkWriter) -> None:
        rows = [(*key, *self.counts[key]) for key in self.changed]
        writer.upsert(
            RowSet.of(Occupancy, ("site_id", "scope", "scope_id", "count", "updated_ns"), rows), ["count", "updated_ns"]
        )
        record_occupancy(self.session, self.registry.timezones(), self.levels)
        self.capacity.write()
