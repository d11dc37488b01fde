"""Keep a live camera flowing: reopen with exponential backoff and report state changes.

Files are not retried: a missing or corrupt file is an error for that camera only.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from enum import StrEnum

from edge.frames import Frame
from edge.sources.base import FrameSource, SourceError, SourceSpec

log = logging.getLogger(__name__)


class SourceState(StrEnum):
    ONLINE = "online"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"
    ENDED = "ended"


@dataclass(frozen=True)
class SourceEvent:
    camera_id: str
    state: SourceState
    message: str = ""
    attempt: int = 0


@dataclass(frozen=True)
class Backoff:
    initial_s: float = 1.0
    factor: float = 2.0
    max_s: float = 30.0
    # Give up (OFFLINE) after this many failed attempts in a row; 0 = never.
    max_attempts: int = 0

    def delay(self, attempt: int) -> float:
        return float(min(self.max_s, self.initial_s * self.factor ** max(0, attempt - 1)))


class ReconnectingSource:
    def __init__(
        self,
        spec: SourceSpec,
        opener: Callable[[SourceSpec], FrameSource],
        on_event: Callable[[SourceEvent], None] = lambda e: None,
        backoff: Backoff = Backoff(),
        stop: threading.Event | None = None,
    ) -> None:
        self.spec = spec
        self._open = opener
        self._on_event = on_event
        self.backoff = backoff
        self.stop = stop or threading.Event()
        self.fps = spec.fps_hint or 0.0

    def _emit(self, state: SourceState, message: str = "", attempt: int = 0) -> None:
        event = SourceEvent(self.spec.camera_id, state, message, attempt)
        log.log(logging.INFO if state is SourceState.ONLINE else logging.WARNING, "%s", event)
        self._on_event(event)

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        attempt = 0
        while not self.stop.is_set():
            try:
                source = self._open(self.spec)
            except SourceError as exc:
                if not self.spec.is_live:
                    self._emit(SourceState.OFFLINE, str(exc))
                    raise
                attempt += 1
                if self.backoff.max_attempts and attempt >= self.backoff.max_attempts:
                    self._emit(SourceState.OFFLINE, f"giving up after {attempt} attempts: {exc}", attempt)
                    raise
                delay = self.backoff.delay(attempt)
                self._emit(SourceState.RECONNECTING, f"{exc}; retrying in {delay:.1f} s", attempt)
                self.stop.wait(delay)
                continue
            attempt = 0
            self.fps = source.fps
            self._emit(SourceState.ONLINE)
            try:
                with source:
                    for frame in source:
                        if self.stop.is_set():
                            return
                        yield replace(frame, index=index)
                        index += 1
            except SourceError as exc:
                if not self.spec.is_live:
                    self._emit(SourceState.OFFLINE, str(exc))
                    raise
                self._emit(SourceState.RECONNECTING, str(exc), 1)
                attempt = 1
                self.stop.wait(self.backoff.delay(attempt))
                continue
            if not self.spec.is_live:
                self._emit(SourceState.ENDED)
                return
            # A live stream that ends cleanly (EOS) is treated as a drop.
            self._emit(SourceState.RECONNECTING, "stream ended", 1)
            self.stop.wait(self.backoff.delay(1))
