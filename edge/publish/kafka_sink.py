"""Deliver envelopes to Kafka at least once, in order per camera, riding out broker outages.

One background thread owns the producer and the spool, so ordering needs no locking
beyond the hand-over queue. It is always in one of three modes:

  direct     connected, spool empty: events go straight to the producer and count as
             sent once the broker acknowledges them;
  spooling   no usable producer: events go to the spool while a probe retries with
             exponential backoff (the mode at startup, so constructing the sink never
             waits for the broker);
  replaying  connected, spool not empty: new events queue behind the spool on disk
             while it is resent in batches, each deleted only once acknowledged.

A failed send or an expired record turns direct into spooling: everything not yet
acknowledged, then every later event, goes to the spool in order. Replays may repeat
events (consumers dedupe on (camera_id, seq)); nothing is lost short of spool overflow.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError, KafkaTimeoutError
from prometheus_client import REGISTRY, CollectorRegistry

from edge.publish.delivery import DeliverySettings
from edge.publish.metrics import PublishMetrics
from edge.publish.sink import EventSink, SinkStats
from edge.publish.spool import DiskSpool
from shared.messaging import KafkaSettings
from shared.schema import EVENTS_TOPIC, MAX_ENVELOPE_BYTES, partition_key, pb

log = logging.getLogger(__name__)

# The sender never sleeps longer than this, so probes and close deadlines stay timely.
_MAX_WAIT_S = 1.0


@dataclass(frozen=True)
class _InFlight:
    value: bytes
    # kafka-python's FutureRecordMetadata (the library is untyped).
    future: Any
    sent_at: float


class KafkaSink(EventSink):
    """Publishes to `topic` keyed by site id; see the module docstring for the delivery design.

    Owns a DiskSpool under delivery.spool_dir (one sink per directory) and registers its
    metrics in `registry` (once per registry).
    """

    def __init__(
        self,
        settings: KafkaSettings,
        delivery: DeliverySettings,
        topic: str = EVENTS_TOPIC,
        registry: CollectorRegistry = REGISTRY,
    ) -> None:
        if not topic:
            raise ValueError("topic must not be empty")
        self.settings = settings
        self.delivery = delivery
        self.topic = topic
        self.spool = DiskSpool(delivery.spool_dir, delivery.spool_max_bytes, delivery.spool_segment_bytes)
        try:
            self._metrics = PublishMetrics.create(registry)
        except BaseException:
            self.spool.close()
            raise
        self._metrics.spool_bytes.set(self.spool.stats.bytes)
        self._metrics.broker_connected.set(0)

        self._cv = threading.Condition()
        # Guarded by _cv: shared with callers and with the producer's callbacks.
        self._incoming: deque[tuple[bytes, bytes]] = deque()
        self._pending = 0
        self._sent = 0
        self._spooled = 0
        self._overflowed = 0
        self._wakeup = False
        self._generation = 0
        self._failure: BaseException | None = None
        self._closing = False
        self._close_deadline = math.inf
        self._error: BaseException | None = None
        # Owned by the sender thread.
        self._producer: Any = None
        self._in_flight: deque[_InFlight] = deque()
        self._attempt = 0
        self._next_probe = 0.0

        self._thread = threading.Thread(target=self._run, name="mallflow-publish", daemon=True)
        self._thread.start()

    # -- caller side ------------------------------------------------------------------

    def send(self, envelope: pb.Envelope) -> None:
        if not envelope.site_id:
            raise ValueError("the envelope has no site_id, which is its partition key")
        value = envelope.SerializeToString()
        if len(value) > MAX_ENVELOPE_BYTES:
            raise ValueError(
                f"envelope seq {envelope.seq} of camera {envelope.camera_id!r} is {len(value)} bytes, "
                f"over the {MAX_ENVELOPE_BYTES}-byte limit"
            )
        deadline = time.monotonic() + self.delivery.max_block_ms / 1000
        with self._cv:
            while True:
                self._check_usable()
                if len(self._incoming) < self.delivery.max_queued:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._overflow(envelope)
                    return
                self._cv.wait(remaining)
            self._incoming.append((partition_key(envelope.site_id), value))
            self._pending += 1
            self._wakeup = True
            self._cv.notify_all()

    def flush(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        with self._cv:
            while self._pending:
                if self._error is not None:
                    raise RuntimeError("the Kafka publisher thread failed; see the log") from self._error
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cv.wait(remaining)
        self.spool.sync()
        return True

    def close(self, timeout_s: float | None = None) -> None:
        """Deliver for up to timeout_s (default: the delivery settings' close_timeout_ms), then keep
        whatever is unacknowledged in the spool for the next run."""
        if timeout_s is None:
            timeout_s = self.delivery.close_timeout_ms / 1000
        with self._cv:
            if not self._closing:
                self._closing = True
                self._close_deadline = time.monotonic() + timeout_s
                # A broker back since the last failed probe gets its chance now, not after the backoff.
                self._next_probe = 0.0
                self._wakeup = True
                self._cv.notify_all()
        # Every blocking call of the sender thread is bounded (timeouts in DeliverySettings).
        self._thread.join()
        self.spool.close()

    @property
    def stats(self) -> SinkStats:
        with self._cv:
            return SinkStats(
                sent=self._sent,
                spooled=self._spooled,
                dropped=self._overflowed + self.spool.stats.dropped,
                pending=self._pending,
            )

    def _check_usable(self) -> None:
        if self._error is not None:
            raise RuntimeError("the Kafka publisher thread failed; see the log") from self._error
        if self._closing:
            raise RuntimeError("KafkaSink is closed")

    def _overflow(self, envelope: pb.Envelope) -> None:
        self._overflowed += 1
        self._metrics.dropped.inc()
        if self._overflowed == 1 or self._overflowed % 1000 == 0:
            log.warning(
                "publish queue full (%d events waiting for %d ms): dropped seq %d of camera %s, %d dropped so far; "
                "the spool at %s cannot keep up",
                self.delivery.max_queued,
                self.delivery.max_block_ms,
                envelope.seq,
                envelope.camera_id,
                self._overflowed,
                self.spool.directory,
            )

    # -- producer callbacks (kafka-python's I/O thread) ----------------------------------

    def _on_acked(self, generation: int, metadata: object) -> None:
        with self._cv:
            self._wakeup = True
            self._cv.notify_all()

    def _on_failed(self, generation: int, exc: BaseException) -> None:
        with self._cv:
            # Late failures of a producer already given up on change nothing.
            if generation == self._generation and self._failure is None:
                self._failure = exc
            self._wakeup = True
            self._cv.notify_all()

    # -- sender thread --------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:
            log.exception("the Kafka publisher thread failed; events are no longer delivered")
            with self._cv:
                self._error = exc
                self._cv.notify_all()

    def _loop(self) -> None:
        while True:
            items, closing = self._take()
            overdue = closing and time.monotonic() >= self._close_deadline
            if self._producer is None and not overdue and time.monotonic() >= self._next_probe:
                self._connect()
            if self._producer is None or self.spool.stats.records:
                # Older events wait on disk: newer ones queue behind them to keep the order.
                self._spool([value for _, value in items])
                if self._producer is None:
                    # Closing without a broker: keep probing until the deadline, then leave
                    # the spool for the next run.
                    if overdue:
                        break
                elif overdue:
                    break
                else:
                    self._replay()
            else:
                self._send(items)
                self._reap()
                if closing and (overdue or not self._in_flight or self._producer is None):
                    break
        self._shutdown()

    def _take(self) -> tuple[list[tuple[bytes, bytes]], bool]:
        now = time.monotonic()
        if self._producer is None:
            timeout = min(_MAX_WAIT_S, max(0.0, self._next_probe - now))
        elif self.spool.stats.records:
            timeout = 0.0  # replaying: keep going
        else:
            timeout = _MAX_WAIT_S
        with self._cv:
            if self._closing:
                timeout = min(timeout, max(0.0, self._close_deadline - now))
            if not self._wakeup:
                self._cv.wait(timeout)
            self._wakeup = False
            items = list(self._incoming)
            self._incoming.clear()
            if items:
                self._cv.notify_all()  # room for senders blocked on a full queue
            return items, self._closing

    def _connect(self) -> None:
        producer = None
        try:
            producer = KafkaProducer(**self._producer_config())
            # Fails when the topic is missing: auto-creation is off, topics have explicit partition counts.
            producer.partitions_for(self.topic)
        except (KafkaError, OSError) as exc:
            if producer is not None:
                _stop_producer(producer)
            self._disconnected(exc)
            return
        with self._cv:
            self._generation += 1
            self._failure = None
        self._producer = producer
        self._attempt = 0
        self._metrics.broker_connected.set(1)
        backlog = self.spool.stats.records
        log.info(
            "connected to Kafka at %s, topic %s%s",
            self.settings.bootstrap_servers,
            self.topic,
            f"; replaying {backlog} spooled events first" if backlog else "",
        )

    def _disconnected(self, reason: BaseException) -> None:
        self._attempt += 1
        d = self.delivery
        delay_ms = min(d.retry_backoff_max_ms, d.retry_backoff_min_ms * 2 ** min(self._attempt - 1, 30))
        # Jitter: after a cloud outage, many edge agents should not reconnect in lockstep.
        delay_s = delay_ms / 1000 * random.uniform(0.8, 1.0)
        self._next_probe = time.monotonic() + delay_s
        log.log(
            logging.WARNING if self._attempt == 1 else logging.INFO,
            "Kafka at %s is unavailable (%s): events go to the spool %s (%d waiting); attempt %d, next in %.1f s",
            self.settings.bootstrap_servers,
            reason,
            self.spool.directory,
            self.spool.stats.records,
            self._attempt,
            delay_s,
        )

    def _send(self, items: list[tuple[bytes, bytes]]) -> None:
        with self._cv:
            generation = self._generation
        for i, (key, value) in enumerate(items):
            try:
                future = self._producer.send(self.topic, value=value, key=key)
            except KafkaError as exc:
                # send() raises, rather than failing the future, when metadata or buffer space is unavailable.
                self._fail_over(exc, [v for _, v in items[i:]])
                return
            future.add_callback(self._on_acked, generation)
            future.add_errback(self._on_failed, generation)
            self._in_flight.append(_InFlight(value, future, time.monotonic()))

    def _reap(self) -> None:
        acked = 0
        while self._in_flight and self._in_flight[0].future.succeeded():
            self._in_flight.popleft()
            acked += 1
        self._count_sent(acked, from_spool=False)
        with self._cv:
            failure = self._failure
        # kafka-python may never expire records stuck behind a dead broker (seen with 3.0.12), so
        # the deadline is enforced here too.
        timeout_s = self.delivery.delivery_timeout_ms / 1000
        if failure is None and self._in_flight and time.monotonic() - self._in_flight[0].sent_at > timeout_s:
            failure = KafkaTimeoutError(
                f"no acknowledgement within delivery_timeout_ms={self.delivery.delivery_timeout_ms}"
            )
        if failure is not None:
            self._fail_over(failure, [])

    def _fail_over(self, reason: BaseException, unsent: list[bytes]) -> None:
        unacked = [r.value for r in self._in_flight if not r.future.succeeded()]
        self._count_sent(len(self._in_flight) - len(unacked), from_spool=False)
        self._in_flight.clear()
        self._spool(unacked + unsent)
        self._drop_producer()
        self._attempt = 0
        self._disconnected(reason)

    def _replay(self) -> None:
        batch = self.spool.peek(self.delivery.replay_batch)
        futures = []
        failure: BaseException | None = None
        try:
            for value in batch.records:
                key = partition_key(pb.Envelope.FromString(value).site_id)
                futures.append(self._producer.send(self.topic, value=value, key=key))
            timeout_s = self.delivery.delivery_timeout_ms / 1000
            with self._cv:
                if self._closing:
                    timeout_s = max(0.0, min(timeout_s, self._close_deadline - time.monotonic()))
            self._producer.flush(timeout=timeout_s)
        except KafkaError as exc:
            failure = exc
        if failure is None and all(f.succeeded() for f in futures):
            self.spool.ack(batch.end)
            self._count_sent(len(futures), from_spool=True)
            self._metrics.spool_bytes.set(self.spool.stats.bytes)
            if not self.spool.stats.records:
                log.info("spool replayed; events go straight to Kafka again")
            return
        failure = failure or next((f.exception for f in futures if f.failed()), None)
        self._drop_producer()
        self._disconnected(failure or KafkaTimeoutError("replayed events were not acknowledged in time"))

    def _drop_producer(self) -> None:
        """Give up on the producer; what it still holds unacknowledged is in the spool."""
        with self._cv:
            self._generation += 1
        producer, self._producer = self._producer, None
        self._metrics.broker_connected.set(0)
        _stop_producer(producer)

    def _spool(self, values: list[bytes]) -> None:
        if not values:
            return
        dropped_before = self.spool.stats.dropped
        self.spool.extend(values)
        stats = self.spool.stats
        with self._cv:
            self._spooled += len(values)
            self._pending -= len(values)
            self._cv.notify_all()
        self._metrics.spooled.inc(len(values))
        self._metrics.dropped.inc(stats.dropped - dropped_before)
        self._metrics.spool_bytes.set(stats.bytes)

    def _count_sent(self, n: int, from_spool: bool) -> None:
        if not n:
            return
        with self._cv:
            self._sent += n
            if not from_spool:
                self._pending -= n
            self._cv.notify_all()
        self._metrics.sent.inc(n)

    def _shutdown(self) -> None:
        # Whatever is unacknowledged stays on disk; the next run replays it before anything new.
        with self._cv:
            leftovers = [value for _, value in self._incoming]
            self._incoming.clear()
        unacked = [r.value for r in self._in_flight if not r.future.succeeded()]
        self._count_sent(len(self._in_flight) - len(unacked), from_spool=False)
        self._in_flight.clear()
        self._spool(unacked + leftovers)
        if self._producer is not None:
            self._drop_producer()
        self.spool.sync()

    def _producer_config(self) -> dict[str, Any]:
        d = self.delivery
        return {
            **self.settings.client_kwargs(),
            "acks": DeliverySettings.ACKS,
            "enable_idempotence": True,
            # Idempotence keeps order with up to 5 requests in flight per connection.
            "max_in_flight_requests_per_connection": 5,
            "compression_type": "lz4",
            "linger_ms": d.linger_ms,
            "batch_size": d.batch_size,
            "request_timeout_ms": d.request_timeout_ms,
            "delivery_timeout_ms": d.delivery_timeout_ms,
            "retry_backoff_ms": d.retry_backoff_min_ms,
            "reconnect_backoff_ms": d.retry_backoff_min_ms,
            "reconnect_backoff_max_ms": d.retry_backoff_max_ms,
            "bootstrap_timeout_ms": d.connect_timeout_ms,
            "max_block_ms": d.connect_timeout_ms,
            "allow_auto_create_topics": False,
        }


def _stop_producer(producer: Any) -> None:
    """Stop a producer now, failing the records it still holds (they are in the spool)."""
    # kafka-python 3.0 flushes inside close() and raises, before stopping its I/O thread,
    # while records are unacknowledged, and records stuck behind a dead broker may never
    # expire: without force_close (private, present since 1.x) its thread would run forever.
    producer._sender.force_close()
    try:
        producer.close(timeout=1)
    except KafkaTimeoutError:
        log.debug("Kafka producer closed with unacknowledged records (they are spooled)")
