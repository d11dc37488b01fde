"""Where each tracked person stands, held steady through occlusion.

The bottom edge of a box is where a person's feet are only while nothing hides them. When
someone walks in front, the detector's box is cut at the occluder (the bottom edge jumps
up); when two people merge into one box it reaches the front person's feet (it jumps
down). Either way the box's top, the head, stays put. So when a track's box height leaves
the median of its recent unoccluded heights by more than `tolerance`, the foot is placed
at top + that median instead of at the bottom edge. A person walking towards or away from
the camera changes height by a few percent a second, well inside the tolerance, and a
lasting change (someone stopping behind a counter) becomes the new size after `window_s`.

PETS09-S2L1, 13 lines (BENCHMARKS.md): count accuracy 0.950 without holding the feet; 0.966
at tolerance 0.06-0.14 with window 1-2 s, 0.958 at 0.15-0.2 (legs hidden by someone passing
in front shorten a box by 10-15 %, so 0.2 let them through). With people at half the size
(`tracker_sweep.py --canvas 2`): 0.931 at 0.12, 0.924 at 0.1, 0.15 and 0.2, 0.920 at 0.08;
a window of 0.5 s loses 0.008 at full size.

A detector's boxes need not end at the soles: one trained on padded full-body boxes
(ByteTrack's, on MOT17 and CrowdHuman) ends a few percent of the height below them.
`foot_margin`, the profile's measure of that, raises every foot point by that fraction of
the height (PETS09-S2L1: the six zones' absolute person-second errors 46 -> 26 s, floor
error median 0.23 -> 0.15 m, count accuracy 0.966 either way, 0.931 -> 0.943 with people at
half the size; BENCHMARKS.md, "where the feet are").
"""

from __future__ import annotations

from collections import deque

import numpy as np

from edge.analytics.frame import FloatArray
from edge.detections import Detections

# A track needs this many earlier heights before its median is trusted; the median is over
# the last _HISTORY heights that were not themselves cut or merged.
_MIN_HISTORY = 3
_HISTORY = 9


class _Track:
    def __init__(self) -> None:
        self.heights: deque[float] = deque(maxlen=_HISTORY)
        self.deviating_since_ns: int | None = None
        self.last_seen_ns = 0


class SteadyFeet:
    """Per-track foot points (bottom-centre, or top + steady height while the box is cut or
    merged), raised by `foot_margin` × the box's height."""

    def __init__(
        self, *, window_s: float = 1.0, tolerance: float = 0.12, forget_s: float = 5.0, foot_margin: float = 0.0
    ) -> None:
        if not window_s > 0:
            raise ValueError(f"window_s must be > 0 seconds, got {window_s}")
        if not 0 < tolerance < 1:
            raise ValueError(f"tolerance must be a fraction in (0, 1), got {tolerance}")
        if not 0 <= foot_margin < 0.5:
            raise ValueError(f"foot_margin must be a fraction of the box height in [0, 0.5), got {foot_margin}")
        if not forget_s >= window_s:
            raise ValueError(f"forget_s ({forget_s}) must be at least window_s ({window_s})")
        self.tolerance = tolerance
        self.foot_margin = foot_margin
        self._window_ns = round(window_s * 1e9)
        self._forget_ns = round(forget_s * 1e9)
        self._tracks: dict[int, _Track] = {}

    def points(self, detections: Detections, time_ns: int) -> FloatArray:
        """(N, 2) foot points of `detections`, one row per box; untracked boxes get their bottom-centre
        (raised by the margin)."""
        self._tracks = {tid: t for tid, t in self._tracks.items() if time_ns - t.last_seen_ns <= self._forget_ns}
        foot = detections.foot_points(self.foot_margin)
        heights = (detections.xyxy[:, 3] - detections.xyxy[:, 1]).astype(np.float64)
        for row, track_id in enumerate(detections.tracker_id.tolist()):
            if track_id < 0:
                continue
            track = self._tracks.setdefault(track_id, _Track())
            track.last_seen_ns = time_ns
            height = float(heights[row])
            if len(track.heights) >= _MIN_HISTORY:
                steady = float(np.median(track.heights))
                if abs(height - steady) > self.tolerance * steady:
                    if track.deviating_since_ns is None:
                        track.deviating_since_ns = time_ns
                    if time_ns - track.deviating_since_ns < self._window_ns:
                        foot[row, 1] = float(detections.xyxy[row, 1]) + steady * (1.0 - self.foot_margin)
                        continue
                    # Deviating for a whole window: this is the person's new size, not an occlusion.
                    track.heights.clear()
            track.deviating_since_ns = None
            track.heights.append(height)
        return foot
