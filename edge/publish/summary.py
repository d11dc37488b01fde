"""Plain values the publisher turns into track payloads: an appearance sample and a track's life."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from edge.analytics.events import PointXY


class Appearance(NamedTuple):
    """An aggregated ReID vector of one track; packed as float16 on the wire, never pixels."""

    vector: NDArray[np.floating]
    # 0..1, higher is better (detector confidence x visibility x sample count).
    quality: float
    samples: int = 1


@dataclass(frozen=True)
class TrackSummary:
    """A track that ended: what the cloud stitches across cameras.

    Floor points are None where the camera has no calibration (or a point did not
    project); image feet are always known.
    """

    track_id: int
    first_seen_ns: int
    last_seen_ns: int
    observations: int
    mean_confidence: float
    first_image_foot: PointXY
    last_image_foot: PointXY
    first_floor_point: PointXY | None = None
    last_floor_point: PointXY | None = None
    embedding: Appearance | None = None

    def __post_init__(self) -> None:
        if self.track_id < 0:
            raise ValueError(f"track_id must be >= 0, got {self.track_id}")
        if self.first_seen_ns <= 0:
            raise ValueError(f"first_seen_ns must be a positive epoch time, got {self.first_seen_ns}")
        if self.last_seen_ns < self.first_seen_ns:
            raise ValueError(f"last_seen_ns ({self.last_seen_ns}) is before first_seen_ns ({self.first_seen_ns})")
        if self.observations < 1:
            raise ValueError(f"observations must be >= 1, got {self.observations}")
        if not 0.0 <= self.mean_confidence <= 1.0:
            raise ValueError(f"mean_confidence must be within [0, 1], got {self.mean_confidence}")
