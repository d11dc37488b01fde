"""Cloud ingest scales out by sites: several `mallflow cloud run` processes in one consumer
group share a multi-partition topic, join, die and come back mid-stream, and the database
ends exactly where one fault-free consumer leaves it, stitching included."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from support.kafka_io import site_ids_spread

from cloud.hooks import batch_hooks
from cloud.ingest.applier import EventApplier
from cloud.ingest.registry import SiteRegistry
from cloud.storage import create_db_engine, session_factory, upgrade
from cloud.storage.models import (
    FootfallMinute,
    HeatmapCell,
    LineCrossing,
    Occupancy,
    Tracklet,
    Visitor,
    VisitorsDay,
    ZoneVisit,
)
from cloud.storage.sites import sync_sites
from shared.config import SiteConfig, parse_site_config
from shared.schema import decode_envelope, partition_key, pb

pytestmark = pytest.mark.integration

PARTITIONS = 4
SITES_PER_PARTITION = 2
# Records per transaction: small enough that the stream outlasts a join and a kill.
MAX_BATCH = "20"
NS = 1_000_000_000


def _renamed(value: Any, old: str, new: str) -> Any:
    if isinstance(value, dict):
        return {k: _renamed(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_renamed(v, old, new) for v in value]
    return new if value == old else value


def site_variant(base: SiteConfig, site_id: str) -> SiteConfig:
    raw = _renamed(base.model_dump(mode="json"), "cam-main", f"{site_id}-cam")
    raw["site"]["id"] = site_id
    return parse_site_config(raw)


def restamped(clip_events: list[bytes], site_id: str, shift_ns: int) -> list[bytes]:
    """The clip as another mall's camera saw it, `shift_ns` earlier."""
    out = []
    for data in clip_events:
        env = pb.Envelope.FromString(data)
        env.site_id, env.camera_id = site_id, f"{site_id}-cam"
        env.event_time_ns -= shift_ns
        if env.publish_time_ns:
            env.publish_time_ns -= shift_ns
        if env.HasField("track_closed"):
            env.track_closed.first_seen_ns -= shift_ns
            env.track_closed.last_seen_ns -= shift_ns
        if env.HasField("zone_transition") and env.zone_transition.entered_time_ns:
            env.zone_transition.entered_time_ns -= shift_ns
        out.append(env.SerializeToString())
    return out


def site_totals(session: Session) -> dict[str, dict[str, object]]:
    """Per site: what the applier and the stitcher wrote."""

    def per_site(model: type, value: Any = None) -> dict[str, Any]:
        column = func.count() if value is None else func.sum(value)
        return dict(session.execute(select(model.site_id, column).group_by(model.site_id)).all())  # type: ignore[attr-defined]

    crossings, tracklets, visits = per_site(LineCrossing), per_site(Tracklet), per_site(ZoneVisit)
    footfall, heat = per_site(FootfallMinute, FootfallMinute.count), per_site(HeatmapCell, HeatmapCell.seconds)
    visitors, visitor_days = per_site(Visitor), per_site(VisitorsDay, VisitorsDay.visitors)
    out: dict[str, dict[str, object]] = {}
    for site_id in tracklets:
        out[site_id] = {
            "crossings": crossings.get(site_id, 0),
            "tracklets": tracklets[site_id],
            "zone_visits": visits.get(site_id, 0),
            "footfall": footfall.get(site_id),
            "heat_s": round(heat.get(site_id) or 0, 6),
            "visitors": visitors.get(site_id, 0),
            "visitor_days": visitor_days.get(site_id),
            "occupancy": sorted(
                (o.scope, o.scope_id, o.count)
                for o in session.scalars(select(Occupancy).where(Occupancy.site_id == site_id))
            ),
            # Stitching's decisions themselves, not only how many visitors they made.
            "assignments": sorted(
                (t.camera_id, t.track_id, t.visitor_id)
                for t in session.scalars(select(Tracklet).where(Tracklet.site_id == site_id))
            ),
        }
    return out


def fault_free_totals(sites: list[SiteConfig], events: list[bytes], tmp_path: Path) -> dict[str, dict[str, object]]:
    """One consumer's result, without a broker in between: each site's stream applied in
    order, in batches of the consumers' size, with the consumers' hooks (stitching)."""
    url = f"sqlite:///{tmp_path / 'fault-free.db'}"
    upgrade(url)
    registry = SiteRegistry(sites)
    applier, hooks = EventApplier(registry), batch_hooks(registry)
    envelopes = [decode_envelope(b) for b in events]
    sessions = session_factory(create_db_engine(url))
    with sessions.begin() as session:
        sync_sites(session, registry.sites())
    for i in range(0, len(envelopes), int(MAX_BATCH)):
        with sessions.begin() as session:
            result = applier.apply(session, envelopes[i : i + int(MAX_BATCH)])
            for hook in hooks:
                hook(session, result)
    with sessions() as session:
        return site_totals(session)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Consumer:
    """One `mallflow cloud run` process, with its Prometheus port to ask what it applied."""

    def __init__(self, name: str, command: list[str], logs: Path) -> None:
        self.name = name
        self.port = free_port()
        self.log = logs / f"{name}.log"
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [*command, "--metrics-port", str(self.port)], stdout=out, stderr=subprocess.STDOUT, text=True
            )

    def applied(self) -> int:
        """Envelopes this process applied so far (0 until its metrics server is up)."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=2) as response:
                text = response.read().decode()
        except OSError:
            return 0
        return int(
            sum(
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith("mallflow_cloud_events_applied_total{")
            )
        )

    def wait_until_applying(self, more_than: int = 0, timeout_s: float = 60.0) -> int:
        deadline = time.monotonic() + timeout_s
        while (applied := self.applied()) <= more_than:
            assert self.proc.poll() is None, f"{self.name} exited: {self.log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, f"{self.name} applied nothing: {self.log.read_text()[-2000:]}"
            time.sleep(0.1)
        return applied

    def finished(self, timeout_s: float) -> int:
        """Wait for an --idle-exit; the count it reports."""
        self.proc.wait(timeout=timeout_s)
        output = self.log.read_text()
        assert self.proc.returncode == 0, output[-2000:]
        last = [line for line in output.splitlines() if line.startswith("applied ")][-1]
        return int(last.split()[1])


@pytest.fixture
def events_topic(kafka_bootstrap: str) -> Iterator[str]:
    name = f"test.scale.{uuid.uuid4().hex[:12]}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        admin.create_topics([NewTopic(name=name, num_partitions=PARTITIONS, replication_factor=1)])
        yield name
    finally:
        admin.delete_topics([name])
        admin.close()


def publish(bootstrap: str, topic: str, streams: dict[str, list[bytes]], part: slice) -> dict[str, set[int]]:
    """Every site's events in `part`, interleaved as live malls publish them; the partitions each site's went to."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", max_request_size=2 * 1024 * 1024)
    chunks = {site_id: stream[part] for site_id, stream in streams.items()}
    sent = []
    for i in range(max(len(c) for c in chunks.values())):
        for site_id, chunk in chunks.items():
            if i < len(chunk):
                sent.append((site_id, producer.send(topic, chunk[i], key=partition_key(site_id))))
    producer.flush()
    producer.close()
    partitions: dict[str, set[int]] = {}
    for site_id, future in sent:
        partitions.setdefault(site_id, set()).add(future.get(timeout=10).partition)
    return partitions


def wait_for_members(
    admin: KafkaAdminClient, group: str, unlike: frozenset[str], timeout_s: float = 60.0
) -> frozenset[str]:
    """The group's members once it is stable with two of them, other than `unlike`, each holding partitions."""
    deadline = time.monotonic() + timeout_s
    while True:
        info = admin.describe_groups([group])[group]
        members = frozenset(m["member_id"] for m in info["members"])
        if info["group_state"] == "Stable" and len(members) == 2 and members != unlike:
            return members
        assert time.monotonic() < deadline, f"group {group}: {info['group_state']}, {len(members)} members"
        time.sleep(0.2)


def test_consumers_joining_and_dying_mid_stream_end_at_one_fault_free_consumers_totals(
    kafka_bootstrap: str,
    events_topic: str,
    pg_url: str,
    clip_events: list[bytes],
    pets09_site: SiteConfig,
    tmp_path: Path,
) -> None:
    sites = [site_variant(pets09_site, site_id) for site_id in site_ids_spread(PARTITIONS, SITES_PER_PARTITION)]
    # A minute apart: each mall's footfall lands in its own minutes, as distinct sites' would.
    streams = {s.site.id: restamped(clip_events, s.site.id, i * 60 * NS) for i, s in enumerate(sites)}
    expected = fault_free_totals(sites, [b for s in streams.values() for b in s], tmp_path)
    assert len(expected) == len(sites) and all(t["crossings"] and t["visitors"] for t in expected.values())

    configs: list[str] = []
    for s in sites:
        path = tmp_path / f"{s.site.id}.yaml"
        path.write_text(yaml.safe_dump(s.model_dump(mode="json")))
        configs += ["--config", str(path)]
    upgrade(pg_url)
    group = f"g-{uuid.uuid4()}"
    command = [
        sys.executable, "-m", "shared.cli.main", "cloud", "run", *configs,
        "--bootstrap", kafka_bootstrap, "--db", pg_url, "--topic", events_topic,
        "--group", group, "--max-batch", MAX_BATCH,
        # The broker's floor: a killed member's partitions move on after 6 s.
        "--session-timeout-ms", "6000",
        # Longer than a killed member's session: nobody leaves before its partitions are handed on.
        "--idle-exit", "10",
    ]  # fmt: skip
    total = len(clip_events) * len(sites)
    third = len(clip_events) // 3
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    started: list[Consumer] = []
    try:
        # The stream arrives in three parts, each once the group has changed, so that every
        # member holds partitions with a backlog whatever the machine's speed.
        partitions = publish(kafka_bootstrap, events_topic, streams, slice(0, third))
        # One partition per site (so one consumer at a time sees all its cameras, as stitching
        # needs), spread as site_ids_spread() planned.
        assert {site_id: len(p) for site_id, p in partitions.items()} == dict.fromkeys(streams, 1)
        assert len(set.union(*partitions.values())) == PARTITIONS
        a = Consumer("a", command, tmp_path)
        started.append(a)
        a.wait_until_applying()
        # B joins while A is busy: the group rebalances and A hands over part of its partitions.
        b = Consumer("b", command, tmp_path)
        started.append(b)
        with_b = wait_for_members(admin, group, unlike=frozenset())
        assert publish(kafka_bootstrap, events_topic, streams, slice(third, 2 * third)) == partitions
        b_applied = b.wait_until_applying()
        # Killed mid-stream (a third is still to come): its partitions wait out its session,
        # then go to whoever is in the group.
        b.proc.send_signal(signal.SIGKILL)
        b.proc.wait(timeout=10)
        c = Consumer("c", command, tmp_path)
        started.append(c)
        wait_for_members(admin, group, unlike=with_b)
        assert publish(kafka_bootstrap, events_topic, streams, slice(2 * third, None)) == partitions
        a_applied, c_applied = a.finished(timeout_s=120), c.finished(timeout_s=120)
    finally:
        admin.close()
        for consumer in started:
            if consumer.proc.poll() is None:
                consumer.proc.kill()

    # Partitions were shared: each process applied part of the stream, none of them all of it.
    assert 0 < a_applied < total and 0 < c_applied < total and 0 < b_applied < total
    with session_factory(create_db_engine(pg_url))() as session:
        actual = site_totals(session)
    assert actual.keys() == expected.keys()
    differing = {
        site_id: {k: (actual[site_id][k], v) for k, v in want.items() if actual[site_id][k] != v}
        for site_id, want in expected.items()
    }
    assert not any(differing.values()), f"(got, fault-free) per site: {differing}"
