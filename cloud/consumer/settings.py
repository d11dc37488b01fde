"""Delivery semantics of the consumer, spelled out."""

from __future__ import annotations

from dataclasses import dataclass

from shared.schema.topics import DEAD_LETTER_TOPIC, EVENTS_TOPIC


@dataclass(frozen=True)
class ConsumerSettings:
    """At-least-once with idempotent writes.

    Offsets are committed only after the database transaction holding the batch has
    committed; a batch's rejects go to the dead-letter topic in one Kafka transaction with
    its offsets (exactly once for read_committed readers). A crash between the database
    transaction and the offsets redelivers the batch, which the applier recognises by seq.
    """

    group_id: str = "mallflow-cloud"
    topic: str = EVENTS_TOPIC
    dead_letter_topic: str = DEAD_LETTER_TOPIC
    # A batch closes at this many records or after this long, whichever comes first:
    # memory stays bounded and latency stays well under a second. Live traffic makes small
    # batches; this size matters when catching up, where each batch's fixed cost (a dozen
    # statements, one commit) is shared by more events (BENCHMARKS.md, ingest).
    max_batch: int = 5000
    max_latency_ms: int = 200
    # Bytes one fetch may bring per partition: several batches' worth, so the next fetch
    # is in flight while a batch is applied instead of the consumer waiting on the broker.
    fetch_partition_bytes: int = 8 * 1024 * 1024
    # Events stamped further ahead than this (clock skew) or older than this are rejected.
    max_future_s: float = 300.0
    max_age_s: float = 7 * 24 * 3600.0
    # How soon the group notices a dead member (SIGKILL, power loss) and hands its
    # partitions on; the broker's group.min.session.timeout.ms (6 s) is the floor.
    session_timeout_ms: int = 10_000
    # How long to wait at start for the topic's metadata before giving up with an error.
    topic_wait_s: float = 60.0
    # A dead-letter transaction left open by a consumer that died is aborted by the broker
    # after this long; read_committed readers of the dead-letter topic wait at it until then.
    # Longer than a batch's dead letters take to send, short enough not to stall those readers.
    dead_letter_transaction_timeout_ms: int = 15_000
    # Wait between retries when the database is unavailable.
    retry_backoff_s: float = 1.0
    retry_backoff_max_s: float = 30.0

    def __post_init__(self) -> None:
        if self.max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {self.max_batch}")
        if self.max_latency_ms < 1:
            raise ValueError(f"max_latency_ms must be >= 1, got {self.max_latency_ms}")
        if self.fetch_partition_bytes < 1024:
            raise ValueError(f"fetch_partition_bytes must be >= 1024, got {self.fetch_partition_bytes}")
        if self.dead_letter_transaction_timeout_ms < 1000:
            raise ValueError(
                f"dead_letter_transaction_timeout_ms must be >= 1000, got {self.dead_letter_transaction_timeout_ms}"
            )
        if self.max_future_s < 0 or self.max_age_s <= 0:
            raise ValueError("max_future_s must be >= 0 and max_age_s > 0")
