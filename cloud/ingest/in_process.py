"""Ingest envelopes handed over in the same process: the embedded single-machine mode.

The same checks and the same transaction as the Kafka consumer: each envelope is
validated as if it had arrived as a record, batches are applied (with the hooks, e.g.
stitching) in one transaction each, and the applier's seq gate makes a re-run of the
same edge state change nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from types import TracebackType
from typing import Self

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cloud.consumer.settings import ConsumerSettings
from cloud.consumer.validation import validate
from cloud.ingest.applier import ApplyResult, EventApplier
from cloud.ingest.registry import SiteRegistry
from cloud.storage.db import session_factory
from shared.schema import pb
from shared.schema.envelope import EnvelopeError

log = logging.getLogger(__name__)

BatchHook = Callable[[Session, ApplyResult], None]


class InProcessIngest:
    """Call with each envelope; a batch is applied when it is full or its oldest envelope
    has waited `max_latency_ms`, and on close()."""

    def __init__(
        self,
        registry: SiteRegistry,
        engine: Engine,
        settings: ConsumerSettings | None = None,
        hooks: list[BatchHook] | None = None,
    ) -> None:
        self.registry = registry
        self.settings = settings or ConsumerSettings()
        self.hooks = hooks or []
        self._applier = EventApplier(registry)
        self._sessions = session_factory(engine)
        self._lock = threading.Lock()
        self._batch: list[pb.Envelope] = []
        self._batch_started = 0.0
        self.applied = 0
        self.duplicates = 0
        self.batches = 0
        # Reason code → count; the envelopes themselves are logged with their detail.
        self.rejected: Counter[str] = Counter()

    def __call__(self, envelope: pb.Envelope) -> None:
        with self._lock:
            try:
                # Round-trip through the wire format: exactly what a Kafka record would get.
                env = validate(envelope.SerializeToString(), self.registry, self.settings, time.time_ns())
            except EnvelopeError as exc:
                self.rejected[exc.reason] += 1
                log.warning("rejected %s/%s seq %d: %s", envelope.site_id, envelope.camera_id, envelope.seq, exc)
                return
            if not self._batch:
                self._batch_started = time.monotonic()
            self._batch.append(env)
            full = len(self._batch) >= self.settings.max_batch
            if full or (time.monotonic() - self._batch_started) * 1000 >= self.settings.max_latency_ms:
                self._flush()

    def flush(self) -> None:
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        if not self._batch:
            return
        with self._sessions.begin() as session:
            result = self._applier.apply(session, self._batch)
            for hook in self.hooks:
                hook(session, result)
        self.applied += result.applied
        self.duplicates += result.duplicates
        self.batches += 1
        self._batch = []

    def close(self) -> None:
        self.flush()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
