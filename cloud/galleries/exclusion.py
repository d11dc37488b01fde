"""Staff exclusion: flag what a staff visitor contributed, so staff-excluded numbers leave it out.

The flags are set on the facts themselves (crossings, zone visits, the visitor), in the
transaction of the match; the staff-excluded queries subtract flagged rows from the
rollups. A match that arrives after the visitor was counted therefore corrects every
number at once, and a tracklet stitched onto a staff visitor later is flagged when it is.
"""

from __future__ import annotations

from sqlalchemy import select, tuple_, update
from sqlalchemy.orm import Session

from cloud.storage.models import LineCrossing, Tracklet, Visitor, ZoneVisit


def mark_staff(session: Session, site_id: str, visitor_id: str) -> int:
    """Flag the visitor and every crossing and zone visit of its tracklets; returns rows newly flagged."""
    keys = [
        (camera_id, track_id)
        for camera_id, track_id in session.execute(
            select(Tracklet.camera_id, Tracklet.track_id).where(
                Tracklet.site_id == site_id, Tracklet.visitor_id == visitor_id
            )
        )
    ]
    flagged = 0
    if keys:
        for model in (LineCrossing, ZoneVisit):
            result = session.execute(
                update(model)
                .where(
                    model.site_id == site_id,
                    tuple_(model.camera_id, model.track_id).in_(keys),
                    model.staff.is_(False),
                )
                .values(staff=True),
                execution_options={"synchronize_session": False},
            )
            flagged += result.rowcount  # type: ignore[attr-defined]
    session.execute(
        update(Visitor).where(Visitor.site_id == site_id, Visitor.visitor_id == visitor_id).values(staff=True),
        execution_options={"synchronize_session": False},
    )
    return flagged
