"""Camera health per camera: the last status the edge reported, how fresh its events are, its recent outages."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.analytics.buckets import NS
from cloud.storage.models import CameraHealth, CameraOutage, CameraProgress
from shared.config.site import SiteConfig

DEFAULT_STALE_AFTER_S = 60.0
DEFAULT_OUTAGE_WINDOW_S = 86_400.0
# The most recent outages listed per camera; a flapping camera shows as many, not thousands.
MAX_OUTAGES = 20
_NO_OUTAGES: tuple[tuple[()], float] = ((), 0.0)
# The camera_health columns reported as they are.
_REPORTED = (
    "state",
    "edge_id",
    "fps",
    "source_fps",
    "lag_ms",
    "frames",
    "dropped_frames",
    "thinned_frames",
    "overloaded",
    "message",
    "status_ns",
)


@dataclass(frozen=True)
class OutageSpan:
    started_ns: int
    # None while the camera is still down.
    ended_ns: int | None
    # Up to now for an outage still going on.
    duration_s: float
    # reconnecting, or offline once the edge gave up.
    state: str
    message: str


@dataclass(frozen=True)
class CameraHealthStatus:
    camera_id: str
    # online / reconnecting / offline / ended as last reported; "unknown" before any status.
    state: str
    edge_id: str | None
    # Frames per second the edge processed, and the camera's own rate (0 if it never said).
    fps: float | None
    source_fps: float | None
    lag_ms: float | None
    frames: int | None
    dropped_frames: int | None
    # Skipped evenly by the edge's load shedding; `overloaded`: it does not keep up at full rate.
    thinned_frames: int | None
    overloaded: bool | None
    message: str | None
    status_ns: int | None
    last_event_ns: int | None
    # No event of any kind for longer than the threshold (or never).
    stale: bool
    # Outages that ended within the window or still go on, oldest first.
    outages: tuple[OutageSpan, ...] = ()
    # Their seconds inside the window.
    downtime_s: float = 0.0


def camera_health(
    session: Session,
    site: SiteConfig,
    now_ns: int,
    stale_after_s: float = DEFAULT_STALE_AFTER_S,
    outage_window_s: float = DEFAULT_OUTAGE_WINDOW_S,
) -> tuple[CameraHealthStatus, ...]:
    """Configured cameras first, in config order, then any that only the data knows."""
    if not stale_after_s > 0:
        raise ValueError(f"stale_after_s must be positive, got {stale_after_s!r}")
    if not outage_window_s > 0:
        raise ValueError(f"outage_window_s must be positive, got {outage_window_s!r}")
    site_id = site.site.id
    rows = session.execute(
        select(CameraHealth.camera_id, *(getattr(CameraHealth, name) for name in _REPORTED)).where(
            CameraHealth.site_id == site_id
        )
    )
    health: dict[str, dict[str, Any]] = {row[0]: dict(zip(_REPORTED, row[1:], strict=True)) for row in rows}
    last_event: dict[str, int] = {
        camera_id: last_ns
        for camera_id, last_ns in session.execute(
            select(CameraProgress.camera_id, CameraProgress.last_event_ns).where(CameraProgress.site_id == site_id)
        )
    }
    outages = _outages(session, site_id, now_ns, round(now_ns - outage_window_s * NS))
    configured = [c.id for c in site.cameras]
    cameras = configured + sorted((health.keys() | last_event.keys()) - set(configured))
    never_reported = {**dict.fromkeys(_REPORTED), "state": "unknown"}
    return tuple(
        CameraHealthStatus(
            camera_id=camera_id,
            **health.get(camera_id, never_reported),
            last_event_ns=last_event.get(camera_id),
            stale=camera_id not in last_event or now_ns - last_event[camera_id] > stale_after_s * NS,
            outages=outages.get(camera_id, _NO_OUTAGES)[0],
            downtime_s=outages.get(camera_id, _NO_OUTAGES)[1],
        )
        for camera_id in cameras
    )


def _outages(
    session: Session, site_id: str, now_ns: int, since_ns: int
) -> dict[str, tuple[tuple[OutageSpan, ...], float]]:
    """Per camera: its outages overlapping [since, now] (the latest MAX_OUTAGES) and their downtime in it."""
    rows = session.execute(
        select(CameraOutage)
        .where(
            CameraOutage.site_id == site_id,
            CameraOutage.started_ns <= now_ns,
            (CameraOutage.ended_ns.is_(None)) | (CameraOutage.ended_ns >= since_ns),
        )
        .order_by(CameraOutage.camera_id, CameraOutage.started_ns)
    ).scalars()
    spans: dict[str, list[OutageSpan]] = defaultdict(list)
    downtime: dict[str, float] = defaultdict(float)
    for row in rows:
        end = row.ended_ns if row.ended_ns is not None else now_ns
        spans[row.camera_id].append(
            OutageSpan(row.started_ns, row.ended_ns, (end - row.started_ns) / NS, row.state, row.message)
        )
        downtime[row.camera_id] += (min(end, now_ns) - max(row.started_ns, since_ns)) / NS
    return {cam: (tuple(found[-MAX_OUTAGES:]), downtime[cam]) for cam, found in spans.items()}
