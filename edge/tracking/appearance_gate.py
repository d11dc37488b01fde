"""How close two OSNet vectors may be before appearance alone may join them, per camera.

BoT-SORT lets appearance join a track and a box whose vectors are closer than a fixed
gate. How far apart different people's vectors lie depends on the picture: on a sharp,
well-lit camera nearly all pairs of different people are far beyond the gate, while dim,
soft or heavily compressed frames pull them together until the gate admits wrong people
(PETS09 made dim, soft and compressed at once: a twentieth of the pairs of different people
closer than 0.18, against 0.39 on the clean frames; BENCHMARKS.md). Two confident boxes
that do not overlap in one frame are always two people, so every frame shows the camera
what "different" looks like. `AppearanceGate` keeps those distances and caps the site's
gate at a low quantile of them: unchanged where the picture separates people, tighter where
it does not, learned from the camera itself rather than from a threshold fitted elsewhere.

The tighter gate holds only while frames come often: between frames far apart walkers move
most of their width, overlap stops carrying the true matches and appearance has to, so there
the site's gate stays (the worst PETS09 picture at 2.3 frames a second counted 0.798 with
the tighter gate and 0.844 without; at 7 a second 0.931 with it and 0.924 without).
"""

from __future__ import annotations

import statistics
from collections import deque

import numpy as np
from numpy.typing import NDArray

from edge.tracking.reid_schedule import iou_matrix

# Boxes the detector is sure about: pairs of stray low-score boxes say little about people.
MIN_CONFIDENCE = 0.5
# Boxes overlapping more than this may be one person seen twice (a duplicate box).
MAX_OVERLAP = 0.05
# The tighter gate needs frames at least this close (4 a second; 3.5 a second scored alike
# with and without it, 2.3 lost counts with it).
MAX_FRAME_INTERVAL_S = 0.25


class AppearanceGate:
    """The appearance gate for one camera: `configured`, or a lower quantile of distances between different people."""

    def __init__(
        self, configured: float, quantile: float = 0.05, min_pairs: int = 200, window_pairs: int = 5000
    ) -> None:
        if not 0 < configured <= 1:
            raise ValueError(f"appearance gate must be in (0, 1], got {configured}")
        if not 0 < quantile < 1:
            raise ValueError(f"quantile must be in (0, 1), got {quantile}")
        if not 0 < min_pairs <= window_pairs:
            raise ValueError(f"need 0 < min_pairs <= window_pairs, got {min_pairs} and {window_pairs}")
        self.configured = configured
        self.quantile = quantile
        self.min_pairs = min_pairs
        # The latest pairs only, so a camera whose picture changes (dusk, a dirty lens) is followed.
        self._distances: deque[float] = deque(maxlen=window_pairs)
        self._learned = configured
        # Recent gaps between frames: their median is the pace the tracker actually sees,
        # whatever the camera's nominal rate (an agent thinning a loaded camera's frames).
        self._intervals_s: deque[float] = deque(maxlen=16)
        self._last_frame_ns: int | None = None

    @property
    def learned(self) -> float:
        """The configured gate capped by what this camera's picture showed (whatever the pace)."""
        return self._learned

    @property
    def threshold(self) -> float:
        """The gate in force: `learned` while frames come often enough, `configured` otherwise."""
        if not self._intervals_s or statistics.median(self._intervals_s) > MAX_FRAME_INTERVAL_S:
            return self.configured
        return self._learned

    def tick(self, time_ns: int) -> None:
        """Note one frame's capture time."""
        if self._last_frame_ns is not None and time_ns > self._last_frame_ns:
            self._intervals_s.append((time_ns - self._last_frame_ns) / 1e9)
        self._last_frame_ns = time_ns

    @property
    def pairs(self) -> int:
        return len(self._distances)

    def observe(
        self, xyxy: NDArray[np.float32], confidence: NDArray[np.float32], embeddings: NDArray[np.float32]
    ) -> None:
        """Learn from one frame's boxes (N, 4) with scores (N,) and fresh vectors (N, D)."""
        if not len(xyxy) == len(confidence) == len(embeddings):
            raise ValueError(
                f"boxes, scores and vectors differ in length: {len(xyxy)}, {len(confidence)}, {len(embeddings)}"
            )
        sure = confidence >= MIN_CONFIDENCE
        if np.count_nonzero(sure) < 2:
            return
        boxes, vectors = xyxy[sure], embeddings[sure].astype(np.float64)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = vectors / np.maximum(norms, 1e-12)
        upper = np.triu_indices(len(boxes), 1)
        apart = iou_matrix(boxes, boxes)[upper] <= MAX_OVERLAP
        if not apart.any():
            return
        distances = 1.0 - (vectors @ vectors.T)[upper][apart]
        self._distances.extend(distances.tolist())
        if len(self._distances) >= self.min_pairs:
            learned = float(np.quantile(np.fromiter(self._distances, dtype=np.float64), self.quantile))
            self._learned = min(self.configured, learned)
