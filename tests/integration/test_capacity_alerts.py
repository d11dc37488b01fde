"""Capacity alerts end to end on real Kafka and PostgreSQL: the edge's events through the consumer
group, alerts raised and cleared in the database, published to the alerts topic once, however
often the events are replayed."""

from __future__ import annotations

import time
import uuid

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from sqlalchemy import select
from support.occupancy_events import NS, CountWalker

from cloud.analytics.occupancy import live_occupancy, rebase
from cloud.capacity.alerts import alert_id
from cloud.capacity.dispatch import OccupancyAlertDispatcher
from cloud.consumer.service import ConsumerService
from cloud.consumer.settings import ConsumerSettings
from cloud.galleries.alerts import KafkaAlertPublisher
from cloud.ingest.registry import SiteRegistry
from cloud.storage import create_db_engine, session_factory, upgrade
from cloud.storage.models import OccupancyAlertRow
from cloud.storage.sites import sync_sites
from shared.config import SiteConfig, parse_site_config
from shared.messaging import KafkaSettings
from shared.schema import TYPE_HEADER, partition_key, pb

pytestmark = pytest.mark.integration

TRIANGLE = [[0, 0], [100, 0], [100, 100]]
SITE: SiteConfig = parse_site_config(
    {
        "site": {"id": "mall", "timezone": "Europe/London"},
        "floors": [{"id": "ground"}],
        "cameras": [{"id": "cam-a", "source": "/dev/null", "floor": "ground"}],
        "lines": [{"id": "door", "camera": "cam-a", "points": [[0, 50], [100, 50]]}],
        "zones": [{"id": "food", "camera": "cam-a", "polygon": TRIANGLE}],
        # The site clears at 2, food at 1.
        "capacity": {"site": 3, "zones": {"food": 2}, "clear_margin": 0.1},
    }
)
RAISED, CLEARED = pb.ALERT_STATE_RAISED, pb.ALERT_STATE_CLEARED


def _produce(bootstrap: str, topic: str, envelopes: list[pb.Envelope]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for env in envelopes:
        producer.send(topic, key=partition_key(env.site_id), value=env.SerializeToString())
    producer.flush()
    producer.close()


def _consume(url: str, bootstrap: str, topic: str, group: str) -> ConsumerService:
    service = ConsumerService(
        SiteRegistry([SITE]),
        create_db_engine(url),
        KafkaSettings(bootstrap_servers=bootstrap),
        ConsumerSettings(group_id=group, topic=topic, dead_letter_topic=topic + ".dlq"),
    )
    service.run(idle_exit_s=3.0)
    return service


def _alerts(bootstrap: str, topic: str, timeout_s: float = 20.0) -> list[tuple[bytes, bytes, pb.OccupancyAlert]]:
    """(key, type header, message) of everything on the topic, to its end."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        end = consumer.end_offsets(partitions)
        out = []
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            assert time.monotonic() < deadline, f"could not read {topic} to its end within {timeout_s} s"
            for records in consumer.poll(timeout_ms=500).values():
                out += [(r.key, dict(r.headers)[TYPE_HEADER], pb.OccupancyAlert.FromString(r.value)) for r in records]
        return out
    finally:
        consumer.close()


def test_alerts_are_raised_cleared_and_published_once_through_replays(
    kafka_bootstrap: str, kafka_topic: str, dead_letter_topic: str, pg_url: str
) -> None:
    alerts_topic = dead_letter_topic
    upgrade(pg_url)
    engine = create_db_engine(pg_url)
    with session_factory(engine).begin() as session:
        sync_sites(session, [SITE])
    start = (time.time_ns() // NS - 120) * NS
    walker = CountWalker(start)
    # food: over at 3 (start + 3 s), cleared at 1 (+5 s), over again at 3 (+7 s); the site over at 4 (+11 s).
    envelopes = walker.walk("zone", "food", [3, 1, 3]) + walker.walk("site", "mall", [4])
    _produce(kafka_bootstrap, kafka_topic, envelopes)
    assert _consume(pg_url, kafka_bootstrap, kafka_topic, "capacity").applied == len(envelopes)
    publisher = KafkaAlertPublisher(KafkaSettings(bootstrap_servers=kafka_bootstrap), alerts_topic)
    dispatcher = OccupancyAlertDispatcher(engine, publisher)
    try:
        assert dispatcher.deliver_once() == 4
        # The edge's spool replays the site's events, and a new group re-reads the whole topic.
        _produce(kafka_bootstrap, kafka_topic, envelopes[-4:])
        assert _consume(pg_url, kafka_bootstrap, kafka_topic, "capacity").applied == 0
        assert _consume(pg_url, kafka_bootstrap, kafka_topic, f"capacity-replay-{uuid.uuid4()}").applied == 0
        assert dispatcher.deliver_once() == 0
        # An operator counts the site again: 2 people, its clear level.
        with session_factory(engine).begin() as session:
            assert rebase(session, SITE, "site", "mall", 2).alert is None
        assert dispatcher.deliver_once() == 1
    finally:
        publisher.close()

    food_1, food_2, site = start + 3 * NS, start + 7 * NS, start + 11 * NS
    published = _alerts(kafka_bootstrap, alerts_topic)
    assert {(key, kind) for key, kind, _ in published} == {(b"mall", b"mallflow.v1.OccupancyAlert")}
    assert [(m.alert_id, m.state, m.count) for _, _, m in published] == [
        (alert_id("zone", "food", food_1), RAISED, 3),
        (alert_id("zone", "food", food_1), CLEARED, 1),
        (alert_id("zone", "food", food_2), RAISED, 3),
        (alert_id("site", "mall", site), RAISED, 4),
        (alert_id("site", "mall", site), CLEARED, 2),
    ]
    with session_factory(engine)() as session:
        rows = session.scalars(select(OccupancyAlertRow).order_by(OccupancyAlertRow.raised_ns)).all()
        assert [(r.scope_id, r.raised_ns, r.peak_count, r.cleared_count) for r in rows] == [
            ("food", food_1, 3, 1),
            ("food", food_2, 3, None),
            ("mall", site, 4, 2),
        ]
        assert all(r.raise_published and (r.cleared_ns is None or r.clear_published) for r in rows)
        live = live_occupancy(session, SITE)
        assert live.site.alert is None and live.zones[0].alert is not None
        assert live.zones[0].alert.alert_id == alert_id("zone", "food", food_2)
