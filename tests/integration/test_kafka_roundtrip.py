"""Envelopes built with the generated classes survive a trip through the real broker."""

from __future__ import annotations

import pytest
from kafka import KafkaConsumer, KafkaProducer

from shared.messaging import KafkaSettings, ensure_topics
from shared.schema import EVENTS_TOPIC, decode_envelope, partition_key, pb
from shared.schema.topics import DEFAULT_TOPICS

pytestmark = pytest.mark.integration


def _envelopes(site: str, camera: str, n: int) -> list[pb.Envelope]:
    out = []
    for i in range(1, n + 1):
        env = pb.Envelope(
            schema_version=1,
            site_id=site,
            camera_id=camera,
            edge_id="edge-1",
            seq=i,
            event_time_ns=1_700_000_000_000_000_000 + i * 1_000_000,
        )
        if i % 2:
            env.track_update.track_id = i
            env.track_update.bbox.x1 = float(i)
            env.track_update.floor_point.x = -3.5
        else:
            env.line_crossing.line_id = "door"
            env.line_crossing.direction = pb.DIRECTION_OUT
        out.append(env)
    return out


def test_produce_consume_round_trip(kafka_bootstrap: str, kafka_topic: str) -> None:
    sent = _envelopes("site-a", "cam-1", 50) + _envelopes("site-b", "cam-9", 50)
    producer = KafkaProducer(
        bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True, compression_type="lz4"
    )
    for env in sent:
        producer.send(kafka_topic, key=partition_key(env.site_id), value=env.SerializeToString())
    producer.flush()
    producer.close()

    consumer = KafkaConsumer(
        kafka_topic,
        bootstrap_servers=kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=10_000,
        group_id=None,
    )
    received = []
    partitions: dict[str, set[int]] = {}
    for msg in consumer:
        env = decode_envelope(msg.value)
        received.append(env)
        partitions.setdefault(env.site_id, set()).add(msg.partition)
        if len(received) == len(sent):
            break
    consumer.close()

    assert sorted(e.SerializeToString() for e in received) == sorted(e.SerializeToString() for e in sent)
    # Keyed by site: one partition per site, so per-camera order is preserved.
    assert all(len(p) == 1 for p in partitions.values())
    for site in ("site-a", "site-b"):
        seqs = [e.seq for e in received if e.site_id == site]
        assert seqs == sorted(seqs)


def test_project_topics_exist_with_their_partition_counts(kafka_bootstrap: str) -> None:
    ensure_topics(KafkaSettings(bootstrap_servers=kafka_bootstrap))
    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap)
    try:
        for spec in DEFAULT_TOPICS:
            assert len(consumer.partitions_for_topic(spec.name) or ()) == spec.partitions
        assert EVENTS_TOPIC in consumer.topics()
    finally:
        consumer.close()
