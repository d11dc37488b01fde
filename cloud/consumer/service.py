"""Poll → validate → apply in one transaction → commit offsets. Repeat.

A database failure rolls the batch back, rewinds the consumer to the batch's first
offsets and retries with backoff: nothing is lost and, thanks to the applier's seq gate,
nothing is counted twice. Malformed messages go to the dead-letter topic, in one Kafka
transaction with the batch's offsets (cloud/consumer/dead_letter.py), and the rest of the
batch goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from itertools import chain
from operator import attrgetter, itemgetter
from typing import Any

from kafka import ConsumerRebalanceListener, KafkaConsumer, OffsetAndMetadata, TopicPartition
from kafka.errors import CommitFailedError, KafkaError, RetriableError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from cloud.consumer.dead_letter import DeadLetter, DeadLetterWriter
from cloud.consumer.idle import IdleWatch
from cloud.consumer.metrics import ConsumerMetrics
from cloud.consumer.settings import ConsumerSettings
from cloud.consumer.validation import check_batch
from cloud.ingest.applier import ApplyResult, EventApplier
from cloud.ingest.heads import Head
from cloud.ingest.registry import SiteRegistry
from cloud.storage.db import session_factory
from shared.messaging.settings import KafkaSettings
from shared.schema.envelope import EnvelopeError

log = logging.getLogger(__name__)

_value = attrgetter("value")
_event_time = itemgetter(3)

# Called inside the batch's transaction after the envelopes were applied (stitching hooks in here).
BatchHook = Callable[[Session, ApplyResult], None]


class _ResetOnRebalance(ConsumerRebalanceListener):
    """Partitions moved: hooks with in-memory state (stitching) rebuild it from the database."""

    def __init__(self, hooks: list[BatchHook]) -> None:
        self.hooks = hooks

    def on_partitions_revoked(self, revoked: object) -> None:
        self._reset()

    def on_partitions_assigned(self, assigned: object) -> None:
        self._reset()

    def _reset(self) -> None:
        for hook in self.hooks:
            reset = getattr(hook, "reset", None)
            if callable(reset):
                reset()


def _idle_expired(idle: IdleWatch, consumer: KafkaConsumer) -> bool:
    assignment = consumer.assignment()
    return idle.expired(assignment, all(consumer.highwater(tp) is not None for tp in assignment))


class ConsumerService:
    def __init__(
        self,
        registry: SiteRegistry,
        engine: Engine,
        kafka: KafkaSettings,
        settings: ConsumerSettings | None = None,
        metrics: ConsumerMetrics | None = None,
        hooks: list[BatchHook] | None = None,
    ) -> None:
        self.registry = registry
        self.settings = settings or ConsumerSettings()
        self.kafka = kafka
        self.metrics = metrics
        self.applier = EventApplier(registry)
        self.hooks = hooks or []
        self.stop = threading.Event()
        self._sessions: sessionmaker[Session] = session_factory(engine)
        self.applied = 0
        self.rejected = 0
        self.batches = 0

    def run(self, idle_exit_s: float | None = None) -> None:
        """Consume until `stop` is set (or, when idle_exit_s is given, after that long without records)."""
        s = self.settings
        consumer = KafkaConsumer(
            **self.kafka.client_kwargs(),
            group_id=s.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=s.max_batch,
            max_partition_fetch_bytes=s.fetch_partition_bytes,
            session_timeout_ms=s.session_timeout_ms,
            heartbeat_interval_ms=max(1000, s.session_timeout_ms // 3),
            # A batch may wait on a recovering database for a while; stay in the group.
            max_poll_interval_ms=600_000,
        )
        # Join the group only once the topic's partitions are known: an assignment made
        # without metadata (a broker that just started) leaves this member idle.
        deadline = time.monotonic() + s.topic_wait_s
        while not consumer.partitions_for_topic(s.topic):
            if time.monotonic() > deadline or self.stop.wait(0.5):
                consumer.close(autocommit=False)
                raise RuntimeError(
                    f"topic {s.topic!r} has no partitions on {self.kafka.bootstrap_servers} (does it exist?)"
                )
        consumer.subscribe([s.topic], listener=_ResetOnRebalance(self.hooks))
        dead_letters = DeadLetterWriter(self.kafka, s.dead_letter_topic, s.dead_letter_transaction_timeout_ms)
        idle = IdleWatch(idle_exit_s) if idle_exit_s is not None else None
        try:
            while not self.stop.is_set():
                polled = consumer.poll(timeout_ms=s.max_latency_ms, max_records=s.max_batch)
                if not any(polled.values()):
                    if idle is not None and _idle_expired(idle, consumer):
                        return
                    continue
                self._process(consumer, dead_letters, polled)
                # A batch that took longer than idle_exit_s to write (a slow first transaction) is not idleness.
                if idle is not None:
                    idle.busy()
        finally:
            dead_letters.close()
            consumer.close(autocommit=False)

    def _process(
        self, consumer: KafkaConsumer, dead_letters: DeadLetterWriter, polled: dict[TopicPartition, list[Any]]
    ) -> None:
        started = time.monotonic()
        now = time.time_ns()
        records = list(chain.from_iterable(polled.values()))
        checked = check_batch(list(map(_value, records)), self.registry, self.settings, now)
        rejects: list[tuple[Any, EnvelopeError]] = []
        if len(checked.heads) < len(records):
            for record, env_or_error in zip(records, checked.results, strict=True):
                if isinstance(env_or_error, EnvelopeError):
                    exc = env_or_error
                    self.rejected += 1
                    log.warning("rejected %s/%d/%d: %s", record.topic, record.partition, record.offset, exc)
                    rejects.append((record, exc))
                    if self.metrics is not None:
                        self.metrics.rejected.labels(exc.reason).inc()
        result = self._apply_with_retry(checked.heads)
        # Records of a partition arrive in offset order: the last one's offset + 1 is the commit.
        offsets = {tp: OffsetAndMetadata(batch[-1].offset + 1, "", -1) for tp, batch in polled.items() if batch}
        if rejects:
            self._dead_letter(consumer, dead_letters, rejects, offsets, polled)
        else:
            self._commit(consumer, offsets)
        self.batches += 1
        self.applied += result.applied
        if self.metrics is not None:
            for kind, n in result.by_type.items():
                self.metrics.applied.labels(kind).inc(n)
            self.metrics.duplicates.inc(result.duplicates)
            self.metrics.batch_seconds.observe(time.monotonic() - started)
            if checked.heads:
                newest = max(map(_event_time, checked.heads))
                self.metrics.lag_seconds.set(max(0.0, (time.time_ns() - newest) / 1e9))

    @staticmethod
    def _commit(consumer: KafkaConsumer, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        try:
            consumer.commit(offsets)
        except (CommitFailedError, RetriableError) as exc:
            # The group moved on without this member (a broker restart, a session that
            # timed out) or the broker is unreachable right now (it went down between the
            # transaction and the commit): the next poll rejoins, the batch comes again
            # and the seq gate drops what was applied, or a later commit covers it.
            # Stopping here would stop the partition instead.
            log.warning("offsets not committed (%s); the batch will be redelivered and skipped", exc)

    def _dead_letter(
        self,
        consumer: KafkaConsumer,
        dead_letters: DeadLetterWriter,
        rejects: list[tuple[Any, EnvelopeError]],
        offsets: dict[TopicPartition, OffsetAndMetadata],
        polled: dict[TopicPartition, list[Any]],
    ) -> None:
        """The rejects and the batch's offsets in one Kafka transaction, after the batch's
        database transaction. When it fails the consumer goes back to the batch's first
        offsets: the batch comes again, its events are skipped by seq and its rejects are
        sent again, in a new transaction (a later commit must not cover them unsent)."""
        letters = [
            DeadLetter(r.value, r.key, exc.reason, exc.detail, (r.topic, r.partition, r.offset)) for r, exc in rejects
        ]
        try:
            dead_letters.commit(letters, offsets, consumer.group_metadata())
        except KafkaError as exc:
            log.warning("dead letters and offsets not committed (%s); the batch will be redelivered", exc)
            assigned = consumer.assignment()
            for tp, batch in polled.items():
                # A partition the group took away is read again by its new owner from the
                # committed offset.
                if batch and tp in assigned:
                    consumer.seek(tp, batch[0].offset)
            self.stop.wait(self.settings.retry_backoff_s)

    def _apply_with_retry(self, heads: list[Head]) -> ApplyResult:
        delay = self.settings.retry_backoff_s
        while True:
            try:
                with self._sessions.begin() as session:
                    result = self.applier.apply_heads(session, heads)
                    for hook in self.hooks:
                        hook(session, result)
                return result
            except SQLAlchemyError as exc:
                if self.metrics is not None:
                    self.metrics.db_errors.inc()
                log.warning("database unavailable (%s); retrying the batch in %.1f s", exc.__class__.__name__, delay)
                if self.stop.wait(delay):
                    raise
                delay = min(delay * 2, self.settings.retry_backoff_max_s)
