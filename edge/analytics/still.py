"""Tracks that stay on one spot for long: a person waiting, or an object the detector takes for one.

To the tracker a still person and a still object look alike (BENCHMARKS.md: PETS09's people stand
within a quarter of their height of one spot for up to 18 s; a pair of bollards that a softened
picture turns into a track stays 90 s and more), so it keeps both. A mannequin in a zone is a
visitor who never leaves; shown the spells, an installer leaves the object out of the camera's
coverage, and the counts no longer depend on the detector's mood.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from edge.detections import Detections


@dataclass(frozen=True)
class StillSpell:
    """One track's stay within reach of `spot` (box centre, pixels) from `start_ns` to `end_ns`."""

    track_id: int
    start_ns: int
    end_ns: int
    spot: tuple[float, float]

    @property
    def seconds(self) -> float:
        return (self.end_ns - self.start_ns) / 1e9


class StillTracks:
    """Finds spells of at least `min_s` in which a track's box centre stays within `reach` × its height of one spot."""

    def __init__(self, min_s: float, reach: float = 0.25) -> None:
        if not (math.isfinite(min_s) and min_s > 0):
            raise ValueError(f"min_s must be a positive number of seconds, got {min_s}")
        if not (math.isfinite(reach) and reach > 0):
            raise ValueError(f"reach must be a positive share of the box height, got {reach}")
        self.min_s = min_s
        self.reach = reach
        self._current: dict[int, StillSpell] = {}
        self._longest: dict[int, StillSpell] = {}

    def update(self, detections: Detections, time_ns: int) -> list[StillSpell]:
        """One frame's tracks (untracked boxes, id -1, are not followed); the spells that reached `min_s` with it."""
        reached: list[StillSpell] = []
        tracked = detections.tracker_id >= 0
        boxes = detections.xyxy[tracked].astype(np.float64)
        centres = (boxes[:, :2] + boxes[:, 2:]) / 2
        heights = boxes[:, 3] - boxes[:, 1]
        for track_id, (x, y), height in zip(detections.tracker_id[tracked].tolist(), centres, heights, strict=True):
            before = self._current.get(track_id)
            if before is not None and math.dist(before.spot, (x, y)) <= self.reach * height:
                spell = StillSpell(track_id, before.start_ns, time_ns, before.spot)
                if before.seconds < self.min_s <= spell.seconds:
                    reached.append(spell)
            else:
                spell = StillSpell(track_id, time_ns, time_ns, (float(x), float(y)))
            self._current[track_id] = spell
            longest = self._longest.get(track_id)
            if longest is None or spell.seconds > longest.seconds:
                self._longest[track_id] = spell
        return reached

    def still_now(self) -> int:
        """Tracks in a spell of at least `min_s` at their latest sighting."""
        return sum(spell.seconds >= self.min_s for spell in self._current.values())

    def forget(self, track_ids: set[int]) -> None:
        """Ended tracks: a long-running camera does not keep every id it ever saw."""
        for track_id in track_ids:
            self._current.pop(track_id, None)
            self._longest.pop(track_id, None)

    def spells(self) -> list[StillSpell]:
        """Each track's longest spell of at least `min_s` so far, the longest first."""
        found = [s for s in self._longest.values() if s.seconds >= self.min_s]
        return sorted(found, key=lambda s: (-s.seconds, s.track_id))
