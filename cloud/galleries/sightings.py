"""A visitor's or tracklet's sightings with an embedding, read from the tracklets table."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.galleries.vectors import decode
from cloud.storage.models import Tracklet


@dataclass(frozen=True)
class Sighting:
    camera_id: str
    track_id: int
    first_seen_ns: int
    last_seen_ns: int
    model: str
    vector: NDArray[np.float32]


def _sightings(session: Session, *where: object) -> list[Sighting]:
    rows = session.execute(
        select(
            Tracklet.camera_id,
            Tracklet.track_id,
            Tracklet.first_seen_ns,
            Tracklet.last_seen_ns,
            Tracklet.embedding_model,
            Tracklet.embedding,
        )
        .where(*where)  # type: ignore[arg-type]
        .order_by(Tracklet.last_seen_ns, Tracklet.camera_id, Tracklet.track_id)
    )
    out = []
    for camera_id, track_id, first_ns, last_ns, model, blob in rows:
        vector = decode(blob) if blob else None
        if vector is not None and model:
            out.append(Sighting(camera_id, track_id, first_ns, last_ns, model, vector))
    return out


def of_visitor(session: Session, site_id: str, visitor_id: str) -> list[Sighting]:
    """Oldest first; tracklets whose embedding retention already cleared are not sightings."""
    return _sightings(session, Tracklet.site_id == site_id, Tracklet.visitor_id == visitor_id)


def of_tracklet(session: Session, site_id: str, camera_id: str, track_id: int) -> list[Sighting]:
    return _sightings(
        session, Tracklet.site_id == site_id, Tracklet.camera_id == camera_id, Tracklet.track_id == track_id
    )


def dominant_model(sightings: list[Sighting]) -> str:
    """The embedding model most sightings share: vectors of different models never mix."""
    if not sightings:
        raise ValueError("no sightings")
    return Counter(s.model for s in sightings).most_common(1)[0][0]
