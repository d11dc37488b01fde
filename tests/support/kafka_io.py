"""Reading a test topic back, for integration tests (imported by their modules)."""

from __future__ import annotations

import time

from kafka import KafkaConsumer, TopicPartition

from shared.schema import decode_envelope, pb


def consume(bootstrap: str, topic: str, timeout_s: float = 20.0) -> list[tuple[bytes, pb.Envelope]]:
    """Everything on the topic (read up to the end offsets), in partition order."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        end = consumer.end_offsets(partitions)
        received: list[tuple[bytes, pb.Envelope]] = []
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            assert time.monotonic() < deadline, f"could not read {topic} to its end within {timeout_s} s"
            for records in consumer.poll(timeout_ms=500).values():
                received += [(msg.key, decode_envelope(msg.value)) for msg in records]
        return received
    finally:
        consumer.close()
