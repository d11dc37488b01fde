"""Galleries on the PETS09 pipeline: the real edge agent over the split view, two days of the same people.

Day 1 is what the system saw yesterday; an operator enrols a ground-truth person's
visitor from it. Day 2 is the same footage again (the same people come back), and the
checks are made against the ground-truth identities of the day-2 tracks.
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import yaml
from kafka import KafkaConsumer, KafkaProducer
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.pets09_identities import TrackKey, run_agent, shifted, track_identities

from cloud.analytics.buckets import TimeRange
from cloud.analytics.dwell import dwell
from cloud.analytics.footfall import footfall
from cloud.analytics.occupancy import occupancy_history
from cloud.analytics.retention import apply_retention
from cloud.analytics.visitors import unique_visitors
from cloud.consumer.service import ConsumerService
from cloud.consumer.settings import ConsumerSettings
from cloud.galleries.alerts import AlertDispatcher, KafkaAlertPublisher
from cloud.galleries.entries import Source, enroll
from cloud.galleries.vectors import aggregate, decode, similarity
from cloud.hooks import batch_hooks
from cloud.ingest.applier import EventApplier
from cloud.ingest.registry import SiteRegistry
from cloud.storage import create_db_engine, session_factory, upgrade
from cloud.storage.models import (
    GalleryAudit,
    GalleryEmbedding,
    GalleryEntry,
    GalleryMatch,
    LineCrossing,
    Tracklet,
    Visitor,
    ZoneVisit,
)
from cloud.storage.sites import sync_sites
from edge.evaluation.mot import MotSequence
from shared.config import SiteConfig, parse_site_config
from shared.messaging.settings import KafkaSettings
from shared.schema import partition_key, pb

EXAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "examples"
NS = 1_000_000_000
DAY_NS = 86_400 * NS
HOUR_NS = 3600 * NS
# Day-2 tracks and seqs sit past day 1's, as an agent that kept running would number them.
TRACK_OFFSET = 1_000_000
FPS = 7.0


@pytest.fixture(scope="module")
def site(vtest_video: Path) -> SiteConfig:
    raw = yaml.safe_load((EXAMPLES / "pets09-split.yaml").read_text())
    for camera in raw["cameras"]:
        camera["source"] = str(vtest_video)
    raw["galleries"] = [{"name": "staff", "purpose": "staff"}, {"name": "vip", "purpose": "vip"}]
    return parse_site_config(raw)


@pytest.fixture(scope="module")
def start_ns() -> int:
    # Two hours ago on the hour: recent enough for the consumer's sanity checks on both days.
    return (time.time_ns() // HOUR_NS - 2) * HOUR_NS


@pytest.fixture(scope="module")
def footage(
    site: SiteConfig, start_ns: int, pets09_gt: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[list[pb.Envelope], list[pb.Envelope], dict[TrackKey, int | None]]:
    """(day 1, day 2, ground-truth identity of every track of either day)."""
    envelopes = run_agent(site, tmp_path_factory.mktemp("edge-state"), start_ns)
    identities = track_identities(site, envelopes, MotSequence.load(pets09_gt), start_ns, FPS)
    seq_offset = max(e.seq for e in envelopes)
    day1 = shifted(envelopes, -DAY_NS, 0, 0)
    day2 = shifted(envelopes, 0, TRACK_OFFSET, seq_offset)
    return day1, day2, identities | {(cam, track + TRACK_OFFSET): who for (cam, track), who in identities.items()}


def _ingest(session: Session, site: SiteConfig, envelopes: list[pb.Envelope]) -> None:
    registry = SiteRegistry([site])
    applier, hooks = EventApplier(registry), batch_hooks(registry)
    for i in range(0, len(envelopes), 100):
        result = applier.apply(session, envelopes[i : i + 100])
        for hook in hooks:
            hook(session, result)
        session.commit()


def _visitors(session: Session, identities: dict[TrackKey, int | None]) -> dict[str, set[int | None]]:
    """Ground-truth people in each visitor."""
    out: dict[str, set[int | None]] = defaultdict(set)
    for t in session.scalars(select(Tracklet)):
        if t.visitor_id is not None:
            out[t.visitor_id].add(identities.get((t.camera_id, t.track_id)))
    return out


def _subject(session: Session, identities: dict[TrackKey, int | None], before_ns: int) -> tuple[int, str]:
    """The person to enrol: stitched whole before `before_ns` (one visitor, theirs alone, seen
    at least twice), and of those the least like anyone else.

    Stitching errors would make "that person's visits" ill-defined, and PETS09's people
    look much alike to OSNet x0.25 (some pairs of different people score 0.99): how often
    an enrolled person is confused with others is measured over everyone by
    tests/bench/gallery_matches.py, not here.
    """
    people = _visitors(session, identities)
    vectors: dict[str, list[np.ndarray]] = defaultdict(list)
    for visitor_id, blob in session.execute(select(Tracklet.visitor_id, Tracklet.embedding)):
        vector = decode(blob) if blob else None
        if visitor_id is not None and vector is not None:
            vectors[visitor_id].append(vector)
    earlier = {
        v.visitor_id: v.tracklets for v in session.scalars(select(Visitor).where(Visitor.last_seen_ns < before_ns))
    }
    candidates = []
    for visitor, sightings in earlier.items():
        who = people[visitor]
        person = next(iter(who)) if len(who) == 1 else None
        if person is None or sightings < 2 or sum(person in people[v] for v in earlier) != 1:
            continue
        entry = np.stack(vectors[visitor])
        closest = max(
            similarity(aggregate(vectors[v]), entry) for v in earlier if person not in people[v] and len(vectors[v]) > 1
        )
        candidates.append((closest, person, visitor))
    assert candidates, f"no person was stitched whole: { {v: people[v] for v in earlier} }"
    _, person, visitor = min(candidates)
    return person, visitor


def test_staff_enrolment_removes_that_person_and_nothing_else(
    site: SiteConfig,
    start_ns: int,
    footage: tuple[list[pb.Envelope], list[pb.Envelope], dict[TrackKey, int | None]],
    tmp_path: Path,
) -> None:
    day1, day2, identities = footage
    url = f"sqlite:///{tmp_path / 'staff.db'}"
    upgrade(url)
    with session_factory(create_db_engine(url))() as session:
        sync_sites(session, [site])
        _ingest(session, site, day1)
        person, visitor = _subject(session, identities, start_ns)
        entry = enroll(session, site, "staff", Source(visitor_id=visitor), "badge-0042", "ops@mall", start_ns - HOUR_NS)
        session.commit()
        _ingest(session, site, day2)

        today = TimeRange(start_ns, start_ns + HOUR_NS)
        theirs = {key for key, who in identities.items() if who == person}
        crossings = session.scalars(select(LineCrossing).where(LineCrossing.event_ns >= start_ns)).all()
        visits = session.scalars(select(ZoneVisit).where(ZoneVisit.entered_ns >= start_ns)).all()
        assert any((c.camera_id, c.track_id) in theirs for c in crossings), "the subject crossed no line"
        # Exactly the subject's rows are flagged: recognised today, after being counted.
        assert {(c.camera_id, c.track_id) for c in crossings if c.staff} == {
            (c.camera_id, c.track_id) for c in crossings if (c.camera_id, c.track_id) in theirs
        }
        assert {(v.camera_id, v.track_id, v.zone_id) for v in visits if v.staff} == {
            (v.camera_id, v.track_id, v.zone_id) for v in visits if (v.camera_id, v.track_id) in theirs
        }

        everyone = footfall(session, site, today, "hour", all_lines=True)
        without = footfall(session, site, today, "hour", all_lines=True, exclude_staff=True)
        expected: dict[tuple[str, str], int] = defaultdict(int)
        for c in crossings:
            if (c.camera_id, c.track_id) not in theirs:
                expected[(c.line_id, c.direction)] += 1
        assert {(s.line_id, s.direction): s.total for s in without.series if s.total} == dict(expected)
        assert sum(s.total for s in everyone.series) == len(crossings)

        kept = [v.dwell_s for v in visits if v.dwell_s is not None and (v.camera_id, v.track_id) not in theirs]
        report = dwell(session, site, today, exclude_staff=True)
        assert sum(z.visits for z in report.zones) == len(kept)
        assert sum(z.visits for z in dwell(session, site, today).zones) == sum(v.dwell_s is not None for v in visits)

        all_visitors = unique_visitors(session, site, today)
        assert unique_visitors(session, site, today, exclude_staff=True).total == all_visitors.total - 1
        peaks = occupancy_history(session, site, today, "minute", exclude_staff=True)
        plain = occupancy_history(session, site, today, "minute")
        assert all(a <= b for a, b in zip(peaks.site.peaks, plain.site.peaks, strict=True))

        # Yesterday too: enrolling the visitor said that visit was staff.
        yesterday = TimeRange(start_ns - DAY_NS, start_ns - DAY_NS + HOUR_NS)
        assert unique_visitors(session, site, yesterday, exclude_staff=True).total == (
            unique_visitors(session, site, yesterday).total - 1
        )

        # Past its expiry the entry matches no one, and retention purges it with its vectors.
        session.get(GalleryEntry, ("pets09-split", entry.entry_id)).expires_ns = start_ns + DAY_NS  # type: ignore[union-attr]
        session.commit()
        day3 = shifted(day2, DAY_NS, TRACK_OFFSET, max(e.seq for e in day2))
        _ingest(session, site, day3)
        tomorrow = TimeRange(start_ns + DAY_NS, start_ns + DAY_NS + HOUR_NS)
        assert not session.scalars(
            select(LineCrossing).where(LineCrossing.event_ns >= tomorrow.start_ns, LineCrossing.staff)
        ).all()
        assert (
            unique_visitors(session, site, tomorrow, exclude_staff=True).total
            == unique_visitors(session, site, tomorrow).total
        )
        result = apply_retention(session, site, start_ns + DAY_NS + 1)
        session.commit()
        assert result.gallery_entries == 1
        assert session.scalars(select(GalleryEmbedding)).all() == []
        assert [a.action for a in session.scalars(select(GalleryAudit).order_by(GalleryAudit.id))] == [
            "enroll",
            "expire",
        ]


def _produce(bootstrap: str, topic: str, envelopes: list[pb.Envelope]) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for env in envelopes:
        producer.send(topic, key=partition_key(env.site_id), value=env.SerializeToString())
    producer.flush()
    producer.close()


def _alerts(bootstrap: str, topic: str) -> list[pb.GalleryAlert]:
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=3000, group_id=None
    )
    out = [pb.GalleryAlert.FromString(r.value) for r in consumer]
    consumer.close()
    return out


def _consume(registry: SiteRegistry, url: str, bootstrap: str, topic: str, group: str) -> None:
    service = ConsumerService(
        registry,
        create_db_engine(url),
        KafkaSettings(bootstrap_servers=bootstrap),
        ConsumerSettings(group_id=group, topic=topic, dead_letter_topic=topic + ".dlq"),
        hooks=batch_hooks(registry),
    )
    service.run(idle_exit_s=3.0)


def test_vip_gets_one_alert_per_visit_on_kafka(
    site: SiteConfig,
    start_ns: int,
    footage: tuple[list[pb.Envelope], list[pb.Envelope], dict[TrackKey, int | None]],
    kafka_bootstrap: str,
    kafka_topic: str,
    dead_letter_topic: str,
    pg_url: str,
) -> None:
    day1, day2, identities = footage
    alerts_topic = dead_letter_topic
    registry = SiteRegistry([site])
    upgrade(pg_url)
    engine = create_db_engine(pg_url)
    with session_factory(engine).begin() as session:
        sync_sites(session, [site])
    _produce(kafka_bootstrap, kafka_topic, day1)
    _consume(registry, pg_url, kafka_bootstrap, kafka_topic, "vip-test")
    with session_factory(engine)() as session:
        person, visitor = _subject(session, identities, start_ns)
        enroll(session, site, "vip", Source(visitor_id=visitor), "VIP 7", "concierge", start_ns - HOUR_NS)
        session.commit()
    _produce(kafka_bootstrap, kafka_topic, day2)
    _consume(registry, pg_url, kafka_bootstrap, kafka_topic, "vip-test")
    publisher = KafkaAlertPublisher(KafkaSettings(bootstrap_servers=kafka_bootstrap), alerts_topic)
    dispatcher = AlertDispatcher(registry, engine, publisher)
    first = dispatcher.deliver_once()
    # The whole topic again, as a consumer group reset would replay it: no second alert.
    _consume(registry, pg_url, kafka_bootstrap, kafka_topic, "vip-test-replay")
    again = dispatcher.deliver_once()
    publisher.close()

    alerts = _alerts(kafka_bootstrap, alerts_topic)
    with session_factory(engine)() as session:
        people = _visitors(session, identities)
        matched = {
            m.visitor_id
            for m in session.scalars(select(GalleryMatch).where(GalleryMatch.gallery == "vip", GalleryMatch.matched))
            if m.decided_by == "matcher"
        }
    todays = {v for v, who in people.items() if person in who} - {visitor}
    assert first.published == len(alerts) >= 1 and again.published == 0
    assert sorted(a.visitor_id for a in alerts) == sorted(matched)
    assert len({a.alert_id for a in alerts}) == len(alerts)
    # Every alert is a visit of the VIP's, and every visit of theirs today got one.
    assert set(matched) == todays
    assert all(a.label == "VIP 7" and a.site_id == "pets09-split" and a.gallery == "vip" for a in alerts)
