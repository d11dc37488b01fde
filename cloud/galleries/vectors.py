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
