"""Camera health per camera: the last status the edge reported and how fresh its events are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.analytics.buckets import NS
from cloud.storage.models import CameraHealth, CameraProgress
from shared.config.site import SiteConfig

DEFAULT_STALE_AFTER_S = 60.0
# The camera_health columns reported as they are.
_REPORTED = ("state", "edge_id", "fps", "lag_ms", "frames", "dropped_frames", "message", "status_ns")


@dataclass(frozen=True)
class CameraHealthStatus:
    camera_id: str
    # online / reconnecting / offline / ended as last reported; "unknown" before any status.
    state: str
    edge_id: str | None
    fps: float | None
    lag_ms: float | None
    frames: int | None
    dropped_frames: int | None
    message: str | None
    status_ns: int | None
    last_event_ns: int | None
    # No event of any kind for longer than the threshold (or never).
    stale: bool


def camera_health(
    session: Session, site: SiteConfig, now_ns: int, stale_after_s: float = DEFAULT_STALE_AFTER_S
) -> tuple[CameraHealthStatus, ...]:
    """Configured cameras first, in config order, then any that only the data knows."""
    if not stale_after_s > 0:
        raise ValueError(f"stale_after_s must be positive, got {stale_after_s!r}")
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
    configured = [c.id for c in site.cameras]
    cameras = configured + sorted((health.keys() | last_event.keys()) - set(configured))
    never_reported = {**dict.fromkeys(_REPORTED), "state": "unknown"}
    return tuple(
        CameraHealthStatus(
            camera_id=camera_id,
            **health.get(camera_id, never_reported),
            last_event_ns=last_event.get(camera_id),
            stale=camera_id not in last_event or now_ns - last_event[camera_id] > stale_after_s * NS,
        )
        for camera_id in cameras
    )
