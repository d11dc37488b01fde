"""Which of a live camera's frames the agent takes when it cannot take them all.

`FrameThinner` watches the camera's queue into the agent: a frame that found an earlier
one still waiting means the agent is behind at this rate. A window in which that happens
too often raises the stride (every 2nd, 3rd... frame), so frames arrive evenly at a rate
the agent keeps up with, instead of in bursts between drops. With `drop_oldest` the
stride stays 1 and any frame pushed out of the queue marks the camera overloaded.
A lower stride is tried again after `probe_after_s`, with the wait doubling after each
try that falls behind, so a box that got its CPU back returns to the full rate.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from shared.config.load_shedding import LoadShedding, SheddingPolicy


class FrameThinner:
    def __init__(self, settings: LoadShedding, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.stride = 1
        # Frames the camera delivered that the stride skipped.
        self.thinned = 0
        self._clock = clock
        self._since_admitted = 0
        self._window_start = clock()
        self._puts = 0
        self._waited = 0
        self._drops = 0
        self._behind = False
        self._probe_wait = settings.probe_after_s
        self._next_probe = 0.0
        # Set when the stride was lowered on trial, until a window at the new stride is judged.
        self._probing = False

    @property
    def overloaded(self) -> bool:
        """True while the camera is not processed at its full rate: thinned, or behind in the last window."""
        return self.stride > 1 or self._behind

    def admit(self) -> bool:
        """Whether the camera's next decoded frame goes to the agent (False: skipped and counted)."""
        if self._since_admitted % self.stride == 0:
            self._since_admitted = 1
            return True
        self._since_admitted += 1
        self.thinned += 1
        return False

    def record(self, waited: bool, dropped: int) -> None:
        """After an admitted frame was queued: did it find an earlier one still waiting, how many did it push out."""
        self._puts += 1
        self._waited += waited
        self._drops += dropped
        now = self._clock()
        if now - self._window_start >= self.settings.window_s:
            self._judge(now)

    def _judge(self, now: float) -> None:
        s = self.settings
        self._behind = self._waited > s.backlog_share * self._puts or (
            s.policy is SheddingPolicy.DROP_OLDEST and self._drops > 0
        )
        if self._behind:
            if self._probing:
                self._probe_wait = min(2 * self._probe_wait, s.probe_max_s)
            if s.policy is SheddingPolicy.THIN and self.stride < s.max_stride:
                self._change(self.stride + 1, now)
            self._probing = False
        else:
            if self._probing:
                self._probe_wait = s.probe_after_s
                self._probing = False
            if self.stride > 1 and now >= self._next_probe:
                self._change(self.stride - 1, now)
                self._probing = True
        self._window_start = now
        self._puts = self._waited = self._drops = 0

    def _change(self, stride: int, now: float) -> None:
        self.stride = stride
        self._next_probe = now + self._probe_wait
