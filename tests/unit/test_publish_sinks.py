"""Sinks without a broker: the in-process sink, and a KafkaSink that can only spool."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from edge.publish import DeliverySettings, DiskSpool, InProcessSink, KafkaSink, SinkStats
from shared.messaging import KafkaSettings
from shared.schema import MAX_ENVELOPE_BYTES, decode_envelope, pb

T0_NS = 1_700_000_000_000_000_000


def envelope(seq: int, camera: str = "cam-1", site: str = "site-a") -> pb.Envelope:
    env = pb.Envelope(
        schema_version=1, site_id=site, camera_id=camera, edge_id="edge-1", seq=seq, event_time_ns=T0_NS + seq
    )
    env.track_update.track_id = 1
    return env


# -- in process ----------------------------------------------------------------------


def test_in_process_sink_hands_envelopes_over_in_order() -> None:
    received: list[pb.Envelope] = []
    with InProcessSink(received.append) as sink:
        for seq in range(1, 6):
            sink.send(envelope(seq))
        assert sink.flush(timeout_s=0)
        assert sink.stats == SinkStats(sent=5, spooled=0, dropped=0, pending=0)
    assert [e.seq for e in received] == [1, 2, 3, 4, 5]
    with pytest.raises(RuntimeError, match="InProcessSink is closed"):
        sink.send(envelope(6))


def test_in_process_sink_serialises_cameras_publishing_from_threads() -> None:
    received: list[tuple[str, int]] = []
    active = threading.Semaphore(1)

    def handler(env: pb.Envelope) -> None:
        assert active.acquire(blocking=False), "handler entered concurrently"
        received.append((env.camera_id, env.seq))
        active.release()

    sink = InProcessSink(handler)
    cameras = [f"cam-{i}" for i in range(4)]
    threads = [threading.Thread(target=lambda c=c: [sink.send(envelope(s, c)) for s in range(1, 201)]) for c in cameras]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for camera in cameras:
        assert [seq for c, seq in received if c == camera] == list(range(1, 201))
    assert sink.stats.sent == 800


def test_in_process_handler_errors_reach_the_caller() -> None:
    def handler(env: pb.Envelope) -> None:
        raise KeyError("consumer bug")

    sink = InProcessSink(handler)
    with pytest.raises(KeyError, match="consumer bug"):
        sink.send(envelope(1))
    assert sink.stats.sent == 0


# -- Kafka, broker unreachable ---------------------------------------------------------


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


def offline_sink(spool_dir: Path, registry: CollectorRegistry, **delivery: Any) -> KafkaSink:
    settings = DeliverySettings(
        spool_dir=spool_dir, connect_timeout_ms=200, retry_backoff_min_ms=100, close_timeout_ms=500, **delivery
    )
    return KafkaSink(KafkaSettings(bootstrap_servers=closed_port()), settings, topic="t", registry=registry)


def metric(registry: CollectorRegistry, name: str) -> float | None:
    return registry.get_sample_value(name)


def test_unreachable_broker_sends_everything_to_the_spool(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    started = time.monotonic()
    sink = offline_sink(tmp_path, registry)
    assert time.monotonic() - started < 0.5, "constructing the sink must not wait for the broker"
    for seq in range(1, 101):
        sink.send(envelope(seq, camera=f"cam-{seq % 2}"))
    assert sink.flush(timeout_s=5)
    assert sink.stats == SinkStats(sent=0, spooled=100, dropped=0, pending=0)
    assert metric(registry, "mallflow_publish_events_spooled_total") == 100
    assert metric(registry, "mallflow_publish_events_sent_total") == 0
    assert metric(registry, "mallflow_publish_broker_connected") == 0
    assert (metric(registry, "mallflow_publish_spool_bytes") or 0) > 0
    sink.close(timeout_s=1)
    with pytest.raises(RuntimeError, match="KafkaSink is closed"):
        sink.send(envelope(101))

    # The next run finds them on disk, in order.
    with DiskSpool(tmp_path, max_bytes=2**30) as spool:
        kept = [decode_envelope(r) for r in spool.peek(1000).records]
    assert [e.seq for e in kept] == list(range(1, 101))


def test_spool_overflow_is_counted_as_dropped(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    # ~60-byte envelopes, 1 KiB segments, 2 KiB bound: at most ~34 fit.
    with offline_sink(tmp_path, registry, spool_max_bytes=2048, spool_segment_bytes=1024) as sink:
        for seq in range(1, 101):
            sink.send(envelope(seq))
        assert sink.flush(timeout_s=5)
        stats = sink.stats
    assert stats.spooled == 100
    assert 60 <= stats.dropped < 100
    assert metric(registry, "mallflow_publish_events_dropped_total") == stats.dropped
    with DiskSpool(tmp_path, max_bytes=2048, segment_bytes=1024) as spool:
        kept = [decode_envelope(r).seq for r in spool.peek(1000).records]
    assert kept == list(range(101 - len(kept), 101))  # the newest survive


@pytest.mark.parametrize(
    ("env", "message"),
    [
        pytest.param(envelope(1, site=""), "has no site_id", id="no-site"),
        pytest.param(
            pb.Envelope(
                site_id="s", camera_id="c", seq=1, camera_status=pb.CameraStatus(message="x" * MAX_ENVELOPE_BYTES)
            ),
            "over the 65536-byte limit",
            id="too-large",
        ),
    ],
)
def test_unsendable_envelopes_are_rejected(tmp_path: Path, env: pb.Envelope, message: str) -> None:
    with offline_sink(tmp_path, CollectorRegistry()) as sink:
        with pytest.raises(ValueError, match=message):
            sink.send(env)
        assert sink.stats.pending == 0


def test_failed_construction_releases_the_spool(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    with offline_sink(tmp_path / "a", registry):
        with pytest.raises(ValueError, match="Duplicated timeseries"):
            offline_sink(tmp_path / "b", registry)
        DiskSpool(tmp_path / "b", max_bytes=2**30).close()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"spool_max_bytes": 0}, "spool_max_bytes must be > 0", id="spool-bytes"),
        pytest.param({"replay_batch": -1}, "replay_batch must be > 0", id="replay-batch"),
        pytest.param({"linger_ms": -5}, r"linger_ms \(-5\) and max_block_ms", id="linger"),
        pytest.param(
            {"retry_backoff_min_ms": 5000, "retry_backoff_max_ms": 1000}, "exceeds retry_backoff_max_ms", id="backoff"
        ),
        pytest.param(
            {"request_timeout_ms": 10_000, "delivery_timeout_ms": 5_000},
            r"delivery_timeout_ms \(5000\) must be >= request_timeout_ms \+ linger_ms \(10005\)",
            id="delivery-timeout",
        ),
    ],
)
def test_delivery_settings_validation(tmp_path: Path, changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DeliverySettings(spool_dir=tmp_path, **changes)


def test_close_keeps_probing_an_unreachable_broker_until_its_timeout(tmp_path: Path) -> None:
    """A broker that returns while the agent shuts down still gets the spool; one that does not, costs the timeout."""
    sink = offline_sink(tmp_path, CollectorRegistry())
    sink.send(envelope(1))
    assert sink.flush(timeout_s=5)
    started = time.monotonic()
    sink.close()
    assert 0.4 <= time.monotonic() - started < 5
    assert sink.spool.stats.records == 1
