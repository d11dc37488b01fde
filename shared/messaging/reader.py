"""Read a topic's envelopes from the beginning up to its current end (or follow it).

For integrators checking what a site publishes and for the demo; a consumer group is
not used, so reading never moves anybody's committed offsets.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from kafka import KafkaConsumer, TopicPartition

from shared.messaging.settings import KafkaSettings
from shared.schema.envelope import EnvelopeError, decode_envelope
from shared.schema.v1 import events_pb2 as pb


@dataclass(frozen=True)
class ReadRecord:
    partition: int
    offset: int
    envelope: pb.Envelope | None
    # Why the bytes are not a valid envelope (then `envelope` is None).
    error: str | None = None


def read_envelopes(
    settings: KafkaSettings, topic: str, follow: bool = False, idle_timeout_s: float = 10.0
) -> Iterator[ReadRecord]:
    """Every record of `topic`; stops at the end offsets unless `follow` (then after `idle_timeout_s` of silence)."""
    consumer = KafkaConsumer(**settings.client_kwargs(), enable_auto_commit=False, group_id=None)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            raise ValueError(f"topic {topic!r} does not exist on {settings.bootstrap_servers}")
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        end = consumer.end_offsets(partitions)
        last_record = time.monotonic()
        while True:
            if not follow and all(consumer.position(tp) >= end[tp] for tp in partitions):
                return
            if follow and time.monotonic() - last_record > idle_timeout_s:
                return
            for tp, records in consumer.poll(timeout_ms=500).items():
                for msg in records:
                    last_record = time.monotonic()
                    try:
                        yield ReadRecord(tp.partition, msg.offset, decode_envelope(msg.value))
                    except EnvelopeError as exc:
                        yield ReadRecord(tp.partition, msg.offset, None, str(exc))
    finally:
        consumer.close()
