"""Rate-limit track updates: the cloud needs positions a few times a second, not every frame."""

from __future__ import annotations

import math
from collections.abc import Iterable


class UpdateThrottle:
    """Decides per track whether a TrackUpdate is due, on the frames' own clock.

    Using event time (not the wall clock) keeps the rate right when a file is processed
    faster or slower than real time.
    """

    def __init__(self, interval_s: float) -> None:
        if not (math.isfinite(interval_s) and interval_s > 0):
            raise ValueError(f"interval_s must be a positive number of seconds (0.5 = 2 Hz), got {interval_s}")
        self.interval_ns = round(interval_s * 1e9)
        self._last_ns: dict[int, int] = {}

    def due(self, track_id: int, time_ns: int) -> bool:
        """True on a track's first sighting and then once per interval; records the update as sent."""
        last = self._last_ns.get(track_id)
        # A clock that stepped back (NTP, a new stream) must not silence the track until it catches up.
        if last is not None and 0 <= time_ns - last < self.interval_ns:
            return False
        self._last_ns[track_id] = time_ns
        return True

    def forget(self, track_ids: Iterable[int]) -> None:
        """Drop closed tracks, so memory stays bounded by the live ones."""
        for track_id in track_ids:
            self._last_ns.pop(track_id, None)
