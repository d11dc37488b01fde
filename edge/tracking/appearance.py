"""Quality-weighted appearance of each track, the vector published for stitching."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass
class _Aggregate:
    weighted_sum: NDArray[np.float32]
    weight: float
    samples: int
    published: NDArray[np.float32] | None = None


class TrackAppearance:
    """Accumulates fresh embeddings per track, weighted by sighting quality.

    Quality favours confident, unoccluded, large views (a crop half-hidden behind
    another person mostly describes the other person).
    """

    def __init__(self, min_quality: float = 0.05, republish_distance: float = 0.05) -> None:
        if not 0 <= min_quality < 1:
            raise ValueError(f"min_quality must be in [0, 1), got {min_quality}")
        self.min_quality = min_quality
        self.republish_distance = republish_distance
        self._tracks: dict[int, _Aggregate] = {}

    @staticmethod
    def quality(confidence: float, visibility: float, height_px: float) -> float:
        # Crops below ~64 px tall carry little appearance detail for a 256x128 model.
        size = min(1.0, height_px / 128.0)
        return float(confidence * visibility * size)

    def add(self, track_id: int, embedding: NDArray[np.float32], quality: float) -> None:
        if quality < self.min_quality:
            return
        agg = self._tracks.get(track_id)
        vec = np.asarray(embedding, dtype=np.float32) * quality
        if agg is None:
            self._tracks[track_id] = _Aggregate(vec.copy(), quality, 1)
        else:
            agg.weighted_sum += vec
            agg.weight += quality
            agg.samples += 1

    def embedding(self, track_id: int) -> tuple[NDArray[np.float32], float, int] | None:
        """(unit vector, mean quality, samples) of a track, or None without usable sightings."""
        agg = self._tracks.get(track_id)
        if agg is None:
            return None
        norm = float(np.linalg.norm(agg.weighted_sum))
        if norm == 0:
            return None
        return agg.weighted_sum / norm, agg.weight / agg.samples, agg.samples

    def changed(self, track_id: int) -> bool:
        """True when the aggregate moved enough since last published (then records it as published)."""
        agg = self._tracks.get(track_id)
        current = self.embedding(track_id)
        if agg is None or current is None:
            return False
        vec = current[0]
        if agg.published is not None and 1.0 - float(np.dot(agg.published, vec)) < self.republish_distance:
            return False
        agg.published = vec.copy()
        return True

    def drop(self, track_id: int) -> None:
        self._tracks.pop(track_id, None)

    def reset(self) -> None:
        self._tracks.clear()
