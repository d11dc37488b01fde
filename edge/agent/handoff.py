"""Detected batches on their way from the detection side to the agent's tracking loop."""

from __future__ import annotations

import threading
from collections import deque
from typing import Generic, TypeVar

Batch = TypeVar("Batch")

# A batch detected now waits behind at most this many whose frames were all carried.
_CARRIED_AHEAD = 1


class BatchHandOff(Generic[Batch]):
    """Hands batches on in order, holding at most one the detector worked on.

    One detected batch waits while another is tracked (and the detect workers' batches are in
    detection): detection overlaps tracking, and no deeper queue makes a live camera's frames
    older by the time they are tracked. A batch whose frames were all carried (the tracker
    associates none of them: no detector time spent) is tracked in a moment, so one such batch
    may wait ahead of a detected one: the next due frame is then detected while the loop tracks
    the current one, instead of after it.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._batches: deque[tuple[Batch, bool]] = deque()

    @property
    def detected_waiting(self) -> bool:
        """A batch the detector worked on waits for the loop."""
        with self._cond:
            return self._detected_waiting()

    def empty(self) -> bool:
        with self._cond:
            return not self._batches

    def await_room(self, stop: threading.Event) -> bool:
        """Wait until a batch detected now would be handed on at once; False once stopping."""
        with self._cond:
            while not self._fits(detected=True):
                if stop.is_set():
                    return False
                self._cond.wait(0.1)
        return not stop.is_set()

    def put(self, batch: Batch, detected: bool, stop: threading.Event) -> bool:
        """Hand `batch` on, waiting for room; False once stopping. `detected`: the detector ran on any of its frames."""
        with self._cond:
            while not self._fits(detected):
                if stop.is_set():
                    return False
                self._cond.wait(0.1)
            if stop.is_set():
                return False
            self._batches.append((batch, detected))
            self._cond.notify_all()
        return True

    def take(self, timeout_s: float) -> Batch | None:
        """The oldest batch, waiting up to `timeout_s` for one; None if none came."""
        with self._cond:
            if not self._batches and not self._cond.wait_for(lambda: bool(self._batches), timeout_s):
                return None
            batch, _ = self._batches.popleft()
            # Wakes a detect worker waiting for room at once: a polling sleep there cost each
            # frame ~2 ms of detector time.
            self._cond.notify_all()
            return batch

    def _detected_waiting(self) -> bool:
        return any(detected for _, detected in self._batches)

    def _fits(self, detected: bool) -> bool:
        if detected:
            return not self._detected_waiting() and len(self._batches) <= _CARRIED_AHEAD
        return len(self._batches) <= _CARRIED_AHEAD
