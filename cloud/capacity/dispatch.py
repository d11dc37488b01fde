"""Occupancy alerts to the alerts topic: the `occupancy_alerts` rows are an outbox.

As VIP alerts' are (cloud/galleries/alerts.py): the dispatcher publishes each episode's
raise, and its clear once it has one, as OccupancyAlert keyed by site, and marks them in
the same transaction. A crash in between publishes them again with the same alert_id and
state, which consumers drop. Rows are claimed with SKIP LOCKED on PostgreSQL, so the
dispatchers of several consumers never publish the same one at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import and_, not_, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from cloud.capacity.alerts import alert_id
from cloud.galleries.alerts import AlertPublisher, DispatchSettings
from cloud.storage.db import session_factory
from cloud.storage.models import OccupancyAlertRow
from shared.schema import SCHEMA_VERSION, pb

log = logging.getLogger(__name__)

_SCOPES = {"site": pb.OCCUPANCY_SCOPE_SITE, "zone": pb.OCCUPANCY_SCOPE_ZONE}


def to_message(row: OccupancyAlertRow, state: pb.AlertState, publish_ns: int) -> pb.OccupancyAlert:
    """The episode's raise, or its clear, as the topic carries it."""
    cleared = state == pb.ALERT_STATE_CLEARED
    count = row.cleared_count if cleared else row.raised_count
    return pb.OccupancyAlert(
        schema_version=SCHEMA_VERSION,
        alert_id=alert_id(row.scope, row.scope_id, row.raised_ns),
        site_id=row.site_id,
        event_time_ns=row.cleared_ns if cleared else row.raised_ns,
        publish_time_ns=publish_ns,
        state=state,
        scope=_SCOPES[row.scope],
        scope_id=row.scope_id,
        count=count or 0,
        capacity=row.capacity,
        clear_at=row.clear_at,
        peak_count=row.peak_count,
        raised_time_ns=row.raised_ns,
    )


_UNPUBLISHED = or_(
    not_(OccupancyAlertRow.raise_published),
    and_(OccupancyAlertRow.cleared_ns.is_not(None), not_(OccupancyAlertRow.clear_published)),
)


class OccupancyAlertDispatcher:
    def __init__(
        self,
        engine: Engine,
        publisher: AlertPublisher,
        settings: DispatchSettings | None = None,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.publisher = publisher
        self.settings = settings or DispatchSettings()
        self.clock = clock
        self.stop = threading.Event()
        self._sessions: sessionmaker[Session] = session_factory(engine)

    def deliver_once(self) -> int:
        """Publish what is unpublished, oldest first, a raise before its clear; the number of messages."""
        now = self.clock()
        with self._sessions.begin() as session:
            rows = list(
                session.scalars(
                    select(OccupancyAlertRow)
                    .where(_UNPUBLISHED)
                    .order_by(OccupancyAlertRow.raised_ns)
                    .limit(self.settings.batch)
                    .with_for_update(skip_locked=True)
                )
            )
            messages: list[pb.OccupancyAlert] = []
            for row in rows:
                if not row.raise_published:
                    messages.append(to_message(row, pb.ALERT_STATE_RAISED, now))
                if row.cleared_ns is not None and not row.clear_published:
                    messages.append(to_message(row, pb.ALERT_STATE_CLEARED, now))
            if messages:
                self.publisher.publish(messages)
            for row in rows:
                row.raise_published = True
                if row.cleared_ns is not None:
                    row.clear_published = True
        return len(messages)

    def run(self) -> None:
        """Deliver until `stop` is set; a failed round (broker or database away) is retried next round."""
        while not self.stop.is_set():
            try:
                self.deliver_once()
            except Exception:  # the outbox keeps the rows; the next round retries them
                log.exception("occupancy alert delivery round failed; retrying")
            self.stop.wait(self.settings.interval_s)
