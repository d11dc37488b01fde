"""Kafka helpers for integration tests: fast-failing delivery settings, reading a topic back, a group's progress."""

from __future__ import annotations

import time
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from kafka.partitioner.default import murmur2

from edge.publish import DeliverySettings
from shared.schema import decode_envelope, partition_key, pb


def fast_delivery(spool_dir: Path) -> DeliverySettings:
    """Delivery that gives up on a dead broker within seconds, so outage tests spool quickly."""
    return DeliverySettings(
        spool_dir=spool_dir,
        request_timeout_ms=2_000,
        delivery_timeout_ms=4_000,
        retry_backoff_min_ms=200,
        retry_backoff_max_ms=1_000,
        connect_timeout_ms=1_000,
    )


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


def wait_committed_to_end(bootstrap: str, group_id: str, topic: str, timeout_s: float) -> bool:
    """Whether `group_id` committed every partition of `topic` up to its end within `timeout_s`.

    Lets a test stop a consumer as soon as it has everything, instead of waiting out an idle
    timeout long enough for the slowest recovery. A broker that is away counts as not yet.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if _committed_to_end(bootstrap, group_id, topic):
                return True
        except KafkaError:
            pass
        time.sleep(1.0)
    return False


def _committed_to_end(bootstrap: str, group_id: str, topic: str) -> bool:
    # Given the group id only to read its offsets: never subscribes, so never joins the group.
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        end = consumer.end_offsets(partitions)
        return bool(partitions) and all((consumer.committed(tp) or 0) >= end[tp] for tp in partitions)
    finally:
        consumer.close()


def site_ids_spread(partitions: int, per_partition: int, prefix: str = "mall") -> list[str]:
    """Site ids that the edge's key (the site id) spreads evenly over the partitions: every
    consumer of a group is then handed sites, and its share of the work is its share of the
    partitions, whatever the assignor does."""
    chosen: dict[int, list[str]] = {p: [] for p in range(partitions)}
    n = 0
    while any(len(ids) < per_partition for ids in chosen.values()):
        site_id = f"{prefix}-{n:03d}"
        # kafka-python's default partitioner, which the edge's producer uses.
        partition = (murmur2(partition_key(site_id)) & 0x7FFFFFFF) % partitions
        if len(chosen[partition]) < per_partition:
            chosen[partition].append(site_id)
        n += 1
    return sorted(s for ids in chosen.values() for s in ids)
