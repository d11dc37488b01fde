"""One frame's tracked detections as the points a per-track tool tests, and frame order."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from edge.analytics.events import PointXY
from edge.detections import Detections
from shared.config.site import Space

FloatArray = NDArray[np.float64]

# How far on the floor (metres) a new track id may appear from where a lost one vanished and
# still take over its history (a line's side, a zone visit): about a stride.
FLOOR_HANDOVER_DISTANCE = 1.0


@dataclass(frozen=True)
class HandoverReach:
    """How far from its last point a lost track may be taken over by a new id.

    In the image a share (`handover_height`) of the lost person's box height: pixels mean
    nothing across lenses and distances, a person's own size does. On the floor a stride.
    `fixed` (in the shape's units) replaces both.
    """

    space: Space
    handover_height: float
    fixed: float | None = None

    def __post_init__(self) -> None:
        if self.fixed is not None and not self.fixed >= 0:
            raise ValueError(f"handover_distance must be >= 0 (in {self.space} units), got {self.fixed}")

    def of(self, box_height: float) -> float:
        if self.fixed is not None:
            return self.fixed
        return FLOOR_HANDOVER_DISTANCE if self.space is Space.FLOOR else self.handover_height * box_height


def _points(values: NDArray[np.floating], n: int, name: str) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (n, 2):
        raise ValueError(f"{name} must have shape ({n}, 2), one row per detection, got {arr.shape}")
    return arr


@dataclass(frozen=True)
class FramePoints:
    """The usable rows of one frame: tracked, and with a finite point to test.

    Untracked detections (tracker_id −1) have no history to count with, and a NaN point
    (a floor projection that failed) cannot be placed; both are treated as unseen.
    """

    track_ids: NDArray[np.int64]
    tested: FloatArray
    image: FloatArray
    floor: FloatArray | None
    # Box heights in pixels: the person's apparent size at that point.
    heights: FloatArray

    @classmethod
    def of(
        cls,
        detections: Detections,
        points: NDArray[np.floating] | None = None,
        floor_points: NDArray[np.floating] | None = None,
    ) -> FramePoints:
        n = len(detections)
        image = detections.foot_points()
        tested = image if points is None else _points(points, n, "points")
        floor = None if floor_points is None else _points(floor_points, n, "floor_points")
        usable = (detections.tracker_id >= 0) & np.all(np.isfinite(tested), axis=1)
        ids = detections.tracker_id[usable]
        unique, counts = np.unique(ids, return_counts=True)
        if np.any(counts > 1):
            raise ValueError(f"tracker ids {unique[counts > 1].tolist()} appear more than once in one frame")
        return cls(
            track_ids=ids,
            tested=tested[usable],
            image=image[usable],
            floor=None if floor is None else floor[usable],
            heights=(detections.xyxy[usable, 3] - detections.xyxy[usable, 1]).astype(np.float64),
        )

    def __len__(self) -> int:
        return len(self.track_ids)

    def image_point(self, row: int) -> PointXY:
        return self._image_points[row]

    def floor_point(self, row: int) -> PointXY | None:
        return self._floor_points[row]

    # Converted once for all rows: every line and zone of the camera asks for them.
    @cached_property
    def _image_points(self) -> list[PointXY]:
        return [(x, y) for x, y in self.image.tolist()]

    @cached_property
    def _floor_points(self) -> list[PointXY | None]:
        if self.floor is None:
            return [None] * len(self)
        finite = np.all(np.isfinite(self.floor), axis=1).tolist()
        return [(x, y) if ok else None for (x, y), ok in zip(self.floor.tolist(), finite, strict=True)]


class FrameClock:
    """Rejects frames that do not move forward in time: state is per frame, so a replayed
    or reordered frame would silently double-count."""

    def __init__(self) -> None:
        self.last_ns: int | None = None

    def advance(self, time_ns: int) -> None:
        if self.last_ns is not None and time_ns <= self.last_ns:
            raise ValueError(f"time_ns must increase from frame to frame: got {time_ns} after {self.last_ns}")
        self.last_ns = time_ns

    def check_not_before(self, time_ns: int) -> None:
        if self.last_ns is not None and time_ns < self.last_ns:
            raise ValueError(f"time_ns {time_ns} is before the last frame ({self.last_ns})")


def handover_pairs(
    points: FloatArray, new_rows: list[int], lost: dict[int, tuple[FloatArray, float]]
) -> list[tuple[int, int]]:
    """(row, lost track id) pairs, closest first, each row and each lost track at most once,
    of new detections (`new_rows` of `points`) within a lost track's reach of where it was last.

    lost: track id → (its last point, its reach).
    """
    candidates = sorted(
        (gap, row, tid)
        for row in new_rows
        for tid, (last, reach) in lost.items()
        if (gap := float(np.hypot(*(points[row] - last)))) <= reach
    )
    pairs: list[tuple[int, int]] = []
    rows: set[int] = set()
    tracks: set[int] = set()
    for _, row, tid in candidates:
        if row not in rows and tid not in tracks:
            rows.add(row)
            tracks.add(tid)
            pairs.append((row, tid))
    return pairs
