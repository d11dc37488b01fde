"""A closed per-camera track as stitching sees it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from shared.schema import pb, unpack_embedding

Point = tuple[float, float]
TrackletKey = tuple[str, int]  # (camera_id, track_id)


@dataclass(frozen=True)
class Tracklet:
    site_id: str
    camera_id: str
    track_id: int
    first_seen_ns: int
    last_seen_ns: int
    first_floor: Point | None = None
    last_floor: Point | None = None
    floor_id: str | None = None
    # Unit vector, or None when the edge sent no embedding.
    embedding: NDArray[np.float32] | None = None
    embedding_model: str | None = None
    # Mean detection confidence over the tracklet's boxes (1.0 when not known).
    mean_confidence: float = 1.0

    def __post_init__(self) -> None:
        if self.last_seen_ns < self.first_seen_ns:
            raise ValueError(f"tracklet {self.key}: last_seen_ns is before first_seen_ns")

    @property
    def key(self) -> TrackletKey:
        return (self.camera_id, self.track_id)

    @classmethod
    def from_envelope(cls, env: pb.Envelope) -> Tracklet:
        if not env.HasField("track_closed"):
            raise ValueError(
                f"envelope {env.camera_id}/{env.seq} carries {env.WhichOneof('payload')}, not track_closed"
            )
        tc = env.track_closed
        embedding = None
        if tc.HasField("embedding"):
            vector = unpack_embedding(tc.embedding)
            norm = float(np.linalg.norm(vector))
            embedding = (vector / norm).astype(np.float32) if norm > 0 else None
        return cls(
            site_id=env.site_id,
            camera_id=env.camera_id,
            track_id=tc.track_id,
            first_seen_ns=tc.first_seen_ns,
            last_seen_ns=tc.last_seen_ns,
            first_floor=(tc.first_floor_point.x, tc.first_floor_point.y) if tc.HasField("first_floor_point") else None,
            last_floor=(tc.last_floor_point.x, tc.last_floor_point.y) if tc.HasField("last_floor_point") else None,
            floor_id=tc.floor_id or None,
            embedding=embedding,
            embedding_model=tc.embedding.model_id if embedding is not None else None,
            mean_confidence=tc.mean_confidence,
        )
