"""KafkaSink against real brokers: ordered delivery, and no loss across broker outages.

The outage tests stop and start a dedicated broker (port 9094), never the shared one.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from support.kafka_io import consume
from support.outage_broker import OutageBroker

from edge.publish import DeliverySettings, DiskSpool, KafkaSink
from shared.messaging import KafkaSettings
from shared.schema import partition_key, pb

pytestmark = pytest.mark.integration

SITE = "site-a"
CAMERAS = ("cam-1", "cam-2")
T0_NS = 1_700_000_000_000_000_000


def fast_delivery(spool_dir: Path) -> DeliverySettings:
    """Short timeouts so an outage is noticed and ridden out within seconds."""
    return DeliverySettings(
        spool_dir=spool_dir,
        request_timeout_ms=2_000,
        delivery_timeout_ms=4_000,
        retry_backoff_min_ms=200,
        retry_backoff_max_ms=1_000,
        connect_timeout_ms=1_000,
    )


class Camera:
    """Numbers envelopes 1, 2, 3, … like a camera's SequenceCounter."""

    def __init__(self, camera_id: str) -> None:
        self.camera_id = camera_id
        self.seq = 0

    def envelope(self) -> pb.Envelope:
        self.seq += 1
        env = pb.Envelope(
            schema_version=1,
            site_id=SITE,
            camera_id=self.camera_id,
            edge_id="edge-1",
            seq=self.seq,
            event_time_ns=T0_NS + self.seq * 1_000_000,
            publish_time_ns=T0_NS + self.seq * 1_000_000,
        )
        env.track_update.track_id = self.seq % 7 + 1
        return env


@dataclass
class Stream:
    cameras: tuple[Camera, ...] = field(default_factory=lambda: tuple(Camera(c) for c in CAMERAS))

    def send(self, sink: KafkaSink, n: int, rate_hz: float | None = None) -> None:
        """n envelopes round-robin over the cameras, optionally paced."""
        for i in range(n):
            sink.send(self.cameras[i % len(self.cameras)].envelope())
            if rate_hz:
                time.sleep(1 / rate_hz)

    def sent(self) -> dict[str, set[int]]:
        return {c.camera_id: set(range(1, c.seq + 1)) for c in self.cameras}


def check_delivery(received: list[tuple[bytes, pb.Envelope]], expected: dict[str, set[int]]) -> int:
    """At least once and in order per camera; returns the number of duplicates."""
    assert {key for key, _ in received} == {partition_key(SITE)}
    per_camera: dict[str, list[int]] = {}
    for _, env in received:
        per_camera.setdefault(env.camera_id, []).append(env.seq)
    assert {cam: set(seqs) for cam, seqs in per_camera.items()} == expected
    for seqs in per_camera.values():
        # A replay may repeat events, but no event ever overtakes an earlier one.
        first_seen = list(dict.fromkeys(seqs))
        assert first_seen == sorted(first_seen)
    return sum(n - 1 for n in Counter((env.camera_id, env.seq) for _, env in received).values())


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.1)


def metric(registry: CollectorRegistry, name: str) -> float:
    value = registry.get_sample_value(name)
    assert value is not None, name
    return value


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def make_sink(tmp_path: Path, registry: CollectorRegistry) -> Iterator[Callable[[str, str], KafkaSink]]:
    """Sinks on the test's spool directory, closed at the end of the test."""
    sinks: list[KafkaSink] = []

    def make(bootstrap: str, topic: str) -> KafkaSink:
        sink = KafkaSink(
            KafkaSettings(bootstrap_servers=bootstrap),
            fast_delivery(tmp_path / "spool"),
            topic=topic,
            # A registry holds one sink's metrics: the first sink reports to the test's, later ones elsewhere.
            registry=registry if not sinks else CollectorRegistry(),
        )
        sinks.append(sink)
        return sink

    yield make
    for sink in sinks:
        sink.close(timeout_s=2)


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


def test_sink_delivers_every_event_in_order(
    kafka_bootstrap: str, kafka_topic: str, make_sink: Callable[[str, str], KafkaSink], registry: CollectorRegistry
) -> None:
    sink = make_sink(kafka_bootstrap, kafka_topic)
    stream = Stream()
    stream.send(sink, 1000)
    assert sink.flush(timeout_s=20)
    stats = sink.stats
    assert (stats.sent, stats.spooled, stats.dropped, stats.pending) == (1000, 0, 0, 0)
    assert metric(registry, "mallflow_publish_events_sent_total") == 1000
    assert metric(registry, "mallflow_publish_broker_connected") == 1

    received = consume(kafka_bootstrap, kafka_topic)
    assert check_delivery(received, stream.sent()) == 0


def test_events_spooled_by_a_previous_run_are_replayed_first(
    kafka_bootstrap: str, kafka_topic: str, make_sink: Callable[[str, str], KafkaSink], tmp_path: Path
) -> None:
    stream = Stream()
    offline = make_sink(closed_port(), kafka_topic)
    stream.send(offline, 300)
    offline.close(timeout_s=2)
    assert (offline.stats.sent, offline.stats.spooled) == (0, 300)

    online = make_sink(kafka_bootstrap, kafka_topic)
    stream.send(online, 300)
    wait_until(lambda: online.stats.sent >= 600, 20, "the spool and the new events to be delivered")

    received = consume(kafka_bootstrap, kafka_topic)
    assert check_delivery(received, stream.sent()) == 0
    online.close(timeout_s=5)
    with DiskSpool(tmp_path / "spool", max_bytes=2**30) as spool:
        assert spool.stats.records == 0


def test_no_event_is_lost_when_the_broker_dies_mid_stream(
    outage_broker: OutageBroker,
    outage_topic: str,
    make_sink: Callable[[str, str], KafkaSink],
    registry: CollectorRegistry,
    tmp_path: Path,
) -> None:
    sink = make_sink(outage_broker.bootstrap, outage_topic)
    stream = Stream()
    stream.send(sink, 200, rate_hz=400)
    assert sink.flush(timeout_s=10)
    assert sink.stats.sent == 200

    # Keep streaming while the broker goes down.
    stopping = threading.Thread(target=outage_broker.stop)
    stopping.start()
    stream.send(sink, 400, rate_hz=200)
    stopping.join()
    stream.send(sink, 200, rate_hz=200)
    wait_until(lambda: sink.stats.pending == 0, 15, "unacknowledged events to reach the spool")
    assert sink.spool.stats.records > 0
    assert metric(registry, "mallflow_publish_broker_connected") == 0
    assert metric(registry, "mallflow_publish_spool_bytes") > 0

    outage_broker.start()
    stream.send(sink, 200, rate_hz=200)
    wait_until(lambda: sink.spool.stats.records == 0 and sink.stats.pending == 0, 30, "the spool to be replayed")
    assert sink.flush(timeout_s=10)
    sink.close(timeout_s=5)
    stats = sink.stats
    assert stats.dropped == 0
    assert stats.spooled > 0
    assert metric(registry, "mallflow_publish_events_spooled_total") == stats.spooled

    received = consume(outage_broker.bootstrap, outage_topic)
    duplicates = check_delivery(received, stream.sent())
    print(f"{len(received)} received for 1000 sent: {duplicates} duplicates, {stats.spooled} spooled")
    with DiskSpool(tmp_path / "spool", max_bytes=2**30) as spool:
        assert spool.stats.records == 0


def test_sink_created_while_the_broker_is_down_spools_then_delivers(
    outage_broker: OutageBroker, outage_topic: str, make_sink: Callable[[str, str], KafkaSink]
) -> None:
    outage_broker.stop()
    started = time.monotonic()
    sink = make_sink(outage_broker.bootstrap, outage_topic)
    assert time.monotonic() - started < 0.5, "constructing the sink must not wait for the broker"
    stream = Stream()
    stream.send(sink, 300)
    assert sink.flush(timeout_s=5)
    assert (sink.stats.sent, sink.stats.spooled, sink.stats.pending) == (0, 300, 0)

    outage_broker.start()
    stream.send(sink, 100)
    wait_until(lambda: sink.stats.sent >= 400, 30, "delivery once the broker is back")
    sink.close(timeout_s=5)
    assert sink.spool.stats.records == 0

    received = consume(outage_broker.bootstrap, outage_topic)
    check_delivery(received, stream.sent())
