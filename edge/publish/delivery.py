"""How the edge delivers events to Kafka, spelled out in one place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar


@dataclass(frozen=True)
class DeliverySettings:
    """At-least-once delivery with per-camera order and a bounded local spool.

    Guarantees: acks='all' (a record counts as delivered only once every in-sync replica
    has it) and an idempotent producer (its retries never duplicate or reorder within one
    producer session) with every event of a site on one partition. Whatever the broker
    has not acknowledged when it becomes unreachable goes to the spool under
    `spool_dir`, in order, and is replayed before any newer event: a replay may repeat
    events (consumers dedupe on (camera_id, seq)) but never loses one, unless the spool
    outgrows `spool_max_bytes` and drops its oldest events, counted and logged.
    """

    # Not configurable: weaker acks would break the guarantee above.
    ACKS: ClassVar[str] = "all"

    spool_dir: Path
    spool_max_bytes: int = 1024 * 1024 * 1024
    spool_segment_bytes: int = 8 * 1024 * 1024
    # Batching: wait up to linger_ms to fill batches of up to batch_size bytes (per partition).
    linger_ms: int = 5
    batch_size: int = 64 * 1024
    # One request's wait for the broker, and the bound on all retries of one record:
    # a record unacknowledged after delivery_timeout_ms goes to the spool.
    request_timeout_ms: int = 10_000
    delivery_timeout_ms: int = 30_000
    # Backoff between retries and reconnects, doubling from min to max.
    retry_backoff_min_ms: int = 200
    retry_backoff_max_ms: int = 30_000
    # How long one probe of an unreachable broker may take (bootstrap + topic metadata).
    connect_timeout_ms: int = 5_000
    # Spooled events resent per round trip while replaying.
    replay_batch: int = 1000
    # Events accepted but not yet handed to the producer or the spool; send() blocks up to
    # max_block_ms when this many wait, then drops the event (counted and logged).
    max_queued: int = 100_000
    max_block_ms: int = 1_000
    # On close, keep delivering (and probing an unreachable broker) this long; what is
    # still unacknowledged then stays in the spool for the next run.
    close_timeout_ms: int = 10_000

    def __post_init__(self) -> None:
        for name in (
            "spool_max_bytes",
            "spool_segment_bytes",
            "batch_size",
            "request_timeout_ms",
            "delivery_timeout_ms",
            "retry_backoff_min_ms",
            "retry_backoff_max_ms",
            "connect_timeout_ms",
            "replay_batch",
            "max_queued",
            "close_timeout_ms",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.linger_ms < 0 or self.max_block_ms < 0:
            raise ValueError(f"linger_ms ({self.linger_ms}) and max_block_ms ({self.max_block_ms}) must be >= 0")
        if self.retry_backoff_min_ms > self.retry_backoff_max_ms:
            raise ValueError(
                f"retry_backoff_min_ms ({self.retry_backoff_min_ms}) exceeds retry_backoff_max_ms "
                f"({self.retry_backoff_max_ms})"
            )
        # Kafka's own rule: a record must get at least one full request before it expires.
        if self.delivery_timeout_ms < self.request_timeout_ms + self.linger_ms:
            raise ValueError(
                f"delivery_timeout_ms ({self.delivery_timeout_ms}) must be >= request_timeout_ms + linger_ms "
                f"({self.request_timeout_ms + self.linger_ms})"
            )
