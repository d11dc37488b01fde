"""Deliver envelopes to a function in the same process: the single-machine embedded mode.

The cloud side passes its ingestion function as the handler, so the edge never imports
the cloud and the same envelopes flow as through Kafka.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from edge.publish.sink import EventSink, SinkStats
from shared.schema import pb


class InProcessSink(EventSink):
    """Calls `handler` synchronously for each envelope, one at a time.

    Cameras may publish from several threads; serialising the calls keeps each camera's
    order and spares the handler its own locking. A handler exception propagates to the
    publishing camera: in one process a consumer bug should be loud, not silently spooled.
    """

    def __init__(self, handler: Callable[[pb.Envelope], None]) -> None:
        self._handler = handler
        self._lock = threading.Lock()
        self._sent = 0
        self._closed = False

    def send(self, envelope: pb.Envelope) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("InProcessSink is closed")
            self._handler(envelope)
            self._sent += 1

    def flush(self, timeout_s: float) -> bool:
        # Delivery is synchronous: whatever send() returned from is already handled.
        return True

    def close(self, timeout_s: float = 10.0) -> None:
        with self._lock:
            self._closed = True

    @property
    def stats(self) -> SinkStats:
        with self._lock:
            return SinkStats(sent=self._sent, spooled=0, dropped=0, pending=0)
