"""Kafka topic names and the partitioning rule, shared by producers and consumers.

Every event of a site is keyed by its site id, so the default partitioner sends a
site to exactly one partition: per-camera order holds (one producer per camera,
idempotent, in-order retries) and one consumer of the group sees every camera of
the site, which cross-camera stitching needs.
"""

from __future__ import annotations

from dataclasses import dataclass

EVENTS_TOPIC = "mallflow.events.v1"
DEAD_LETTER_TOPIC = "mallflow.events.v1.dlq"
ALERTS_TOPIC = "mallflow.alerts.v1"
# Header of every alerts-topic record: the full name of its message (mallflow.v1.GalleryAlert,
# mallflow.v1.OccupancyAlert), since the topic carries more than one.
TYPE_HEADER = "mallflow-type"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    retention_ms: int


# Partition counts bound consumer parallelism; 12 divides evenly among 1, 2, 3, 4 and 6 consumers.
DEFAULT_TOPICS = (
    TopicSpec(EVENTS_TOPIC, partitions=12, retention_ms=7 * 24 * 3600 * 1000),
    TopicSpec(DEAD_LETTER_TOPIC, partitions=3, retention_ms=30 * 24 * 3600 * 1000),
    TopicSpec(ALERTS_TOPIC, partitions=3, retention_ms=7 * 24 * 3600 * 1000),
)


def partition_key(site_id: str) -> bytes:
    return site_id.encode("utf-8")
