"""Embeddings as galleries store and compare them: float16 rows, unit float32 arrays."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

Vectors = NDArray[np.float32]


def decode(blob: bytes) -> NDArray[np.float32] | None:
    """A stored float16 vector as a unit float32 vector; None for an empty or zero one."""
    vector = np.frombuffer(blob, dtype="<f2").astype(np.float32)
    norm = float(np.linalg.norm(vector))
    return vector / norm if vector.size and norm > 0 and np.isfinite(norm) else None


def encode(vector: NDArray[np.float32]) -> bytes:
    return np.asarray(vector, dtype="<f2").tobytes()


def aggregate(vectors: Sequence[NDArray[np.float32]]) -> NDArray[np.float32]:
    """The unit mean of unit vectors: what a visitor looks like over all of its sightings."""
    if not vectors:
        raise ValueError("cannot aggregate zero embeddings")
    mean = np.mean(np.stack(vectors), axis=0)
    norm = float(np.linalg.norm(mean))
    if norm == 0:
        raise ValueError("embeddings cancel out; no aggregate direction")
    return (mean / norm).astype(np.float32)


def similarity(probe: NDArray[np.float32], entry: Vectors) -> float:
    """Cosine of a probe to an entry (K, D): the best of its sightings and of their mean.

    The mean is robust to one bad crop; single sightings keep a distinct outfit of a
    renewed entry matchable.
    """
    if entry.ndim != 2 or entry.shape[1] != probe.shape[0]:
        raise ValueError(f"entry vectors of shape {entry.shape} do not match a probe of {probe.shape[0]} values")
    best = float(np.max(entry @ probe))
    return max(best, float(aggregate(list(entry)) @ probe))


class EntryIndex:
    """Many entries' vectors in two matrices, scored against a probe in one product each.

    `scores(probe)[i]` equals `similarity(probe, vectors[i])`: a mall's staff gallery holds
    hundreds of entries of up to 16 vectors, matched for every visitor that gets a sighting.
    """

    def __init__(self, vectors: Sequence[Vectors]) -> None:
        if not vectors:
            raise ValueError("an entry index needs at least one entry")
        self._stacked = np.concatenate(vectors).astype(np.float32)
        self._starts = np.cumsum([0] + [len(v) for v in vectors[:-1]])
        self._means = np.stack([aggregate(list(v)) for v in vectors])

    def __len__(self) -> int:
        return len(self._means)

    def scores(self, probe: NDArray[np.float32]) -> NDArray[np.float32]:
        if probe.shape != (self._stacked.shape[1],):
            raise ValueError(f"probe of shape {probe.shape} does not match entries of {self._stacked.shape[1]} values")
        best = np.maximum.reduceat(self._stacked @ probe, self._starts)
        return np.maximum(best, self._means @ probe)
