"""Camera outages from the edge's status events: opened by the first reconnecting or offline
status, closed by the next online (or ended) one.

Statuses reach the applier in per-camera order and only once (the seq gate), so an outage
is opened once and closed once however often the edge repeats RECONNECTING while it retries.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.storage.bulk import RowSet, writer_for
from cloud.storage.models import CameraOutage

_DOWN = frozenset({"reconnecting", "offline"})
_UP = frozenset({"online", "ended"})

Camera = tuple[str, str]


@dataclass
class _Outage:
    site_id: str
    camera_id: str
    started_ns: int
    ended_ns: int | None
    state: str
    message: str


_COLUMNS = tuple(f.name for f in fields(_Outage))


class OutageLog:
    """One batch's changes to the camera_outages table."""

    def __init__(self, session: Session) -> None:
        self.session = session
        # Per camera: its open outage (None: none open), loaded on first use.
        self._open: dict[Camera, _Outage | None] = {}
        self._touched: dict[tuple[str, str, int], _Outage] = {}

    def _current(self, camera: Camera) -> _Outage | None:
        if camera not in self._open:
            row = self.session.execute(
                select(CameraOutage)
                .where(
                    CameraOutage.site_id == camera[0],
                    CameraOutage.camera_id == camera[1],
                    CameraOutage.ended_ns.is_(None),
                )
                .order_by(CameraOutage.started_ns.desc())
                .limit(1)
            ).scalar_one_or_none()
            self._open[camera] = (
                None
                if row is None
                else _Outage(row.site_id, row.camera_id, row.started_ns, row.ended_ns, row.state, row.message)
            )
        return self._open[camera]

    def observe(self, site_id: str, camera_id: str, state: str, time_ns: int, message: str) -> None:
        camera = (site_id, camera_id)
        current = self._current(camera)
        if state in _DOWN:
            if current is None:
                current = _Outage(site_id, camera_id, time_ns, None, state, message[:500])
                self._open[camera] = current
            elif current.state == state:
                return
            current.state = state
        elif state in _UP and current is not None:
            current.ended_ns = max(time_ns, current.started_ns)
            self._open[camera] = None
        else:
            return
        # A row opened and closed in one batch is written once, as it ended.
        self._touched[(current.site_id, current.camera_id, current.started_ns)] = current

    def write(self) -> None:
        rows = RowSet.of(CameraOutage, _COLUMNS, [astuple(o) for o in self._touched.values()])
        writer_for(self.session).upsert(rows, ["ended_ns", "state"])
