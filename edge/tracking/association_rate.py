"""Which frames the tracker associates, and where its tracks are on the frames in between.

BoT-SORT's settings here were chosen at 7 frames a second, and it holds identities best at
10-15: on PETS09 motion-interpolated to 28 fps (tests/bench/frame_rate_up.py) associating
every frame gave IDF1 82.0 and 18 ID switches, every second frame (14 fps) 93.2 and 7, every
fourth (7 fps) 91.1 and 9. At 28 fps two people crossing stay merged in one detector box
for four times as many frames, and every one of them is a chance for the front person's
track to slide onto the one behind. So a camera faster than `max_association_fps` is
associated at about that rate, as DeepStream's `interval` does, and the frames between are
reported from each track's Kalman motion since its last association: every frame still
gets its tracks, lines and zones still see every step.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from edge.detections import Detections

# Frame timestamps jitter; a frame this much early still counts as due, so a 30 fps camera
# under a 15 fps cap is associated every second frame, not every third.
_EARLY_SHARE = 0.1


class AssociationPacer:
    """Says which frames are due for association under a rate cap (None: every frame)."""

    def __init__(self, max_fps: float | None) -> None:
        if max_fps is not None and not max_fps > 0:
            raise ValueError(f"max_fps must be > 0 or None, got {max_fps}")
        self._min_gap_ns = None if max_fps is None else (1.0 - _EARLY_SHARE) * 1e9 / max_fps
        self._last_ns: int | None = None

    def stride(self, frame_rate: float) -> int:
        """Which frames a camera at `frame_rate` has associated: every 1st, 2nd, 3rd..."""
        if self._min_gap_ns is None:
            return 1
        return max(1, math.ceil(self._min_gap_ns / 1e9 * frame_rate))

    def rate(self, frame_rate: float) -> float:
        """The association rate a camera at `frame_rate` gets."""
        return frame_rate / self.stride(frame_rate)

    def due(self, time_ns: int) -> bool:
        """True when this frame is to be associated (and is then counted as the last one)."""
        last = self._last_ns
        # A clock that went back (a replay, a reconnected camera) starts the pace afresh.
        if self._min_gap_ns is None or last is None or time_ns < last or time_ns - last >= self._min_gap_ns:
            self._last_ns = time_ns
            return True
        return False

    def reset(self) -> None:
        self._last_ns = None


class CarriedTracks:
    """The last association's tracks, moved on along their velocity to a later frame."""

    def __init__(self) -> None:
        self._tracks: Detections | None = None
        self._velocity: NDArray[np.float32] = np.zeros((0, 4), dtype=np.float32)
        self._time_ns = 0

    @property
    def time_ns(self) -> int | None:
        """When the held tracks were associated; None before the first association."""
        return None if self._tracks is None else self._time_ns

    def hold(self, tracks: Detections, velocity_per_s: NDArray[np.float32], time_ns: int) -> None:
        """Keep `tracks` as associated at `time_ns`; `velocity_per_s` (N, 4) moves their xyxy corners."""
        if velocity_per_s.shape != (len(tracks), 4):
            raise ValueError(f"velocity_per_s must have shape ({len(tracks)}, 4), got {velocity_per_s.shape}")
        self._tracks, self._velocity, self._time_ns = tracks, velocity_per_s.astype(np.float32), time_ns

    def at(self, time_ns: int) -> Detections:
        """The held tracks where their motion puts them at `time_ns`; no fresh embeddings."""
        tracks = self._tracks
        if tracks is None:
            return Detections()
        elapsed_s = max(0, time_ns - self._time_ns) / 1e9
        moved = (tracks.xyxy + self._velocity * np.float32(elapsed_s)).astype(np.float32)
        embeddings = None if tracks.embeddings is None else np.zeros_like(tracks.embeddings)
        return replace(tracks, xyxy=moved, embeddings=embeddings)

    def reset(self) -> None:
        self._tracks = None


def corner_velocity(mean_xywh_velocity: NDArray[np.float64]) -> NDArray[np.float32]:
    """(N, 4) velocities of centre x, y, width, height -> of the x1, y1, x2, y2 corners."""
    v = np.asarray(mean_xywh_velocity, dtype=np.float64).reshape(-1, 4)
    vx, vy, vw, vh = v.T
    return np.stack([vx - vw / 2, vy - vh / 2, vx + vw / 2, vy + vh / 2], axis=1).astype(np.float32)
