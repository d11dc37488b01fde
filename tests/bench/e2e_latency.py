"""End-to-end latency: frame capture → its row visible in PostgreSQL, through the real Kafka broker.

    source deploy/local/env.sh && deploy/local/services.sh up
    .venv/bin/python tests/bench/e2e_latency.py [--frames 300] [--repeats 3]

The edge agent reads vtest.avi paced at the footage's real rate (7 fps), each frame stamped
with the wall clock when it is released, as a live camera delivers it; it publishes to
Kafka (acks=all, idempotent, lz4) and the consumer service (a thread of this process, its
default batching: 2000 records or 200 ms) applies batches to a fresh PostgreSQL database.
A poller reads `camera_progress` (written in each batch's transaction) every 5 ms; each
change gives one sample: the time it became visible minus the newest event time the batch
applied (a consumer hook notes it), i.e. the capture time of the latest frame reported. Line crossings are reported too; their event time is the first frame on the
new side, so they include the line's settle time (settle_s 0.25 s: 3 frames at 7 fps, 0.29 s) by design.

Baseline, measured in the same run: one small record produced (acks=all) and consumed on
the same broker, so the ratio says what detection, tracking, batching and the database add.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from numpy.typing import NDArray
from prometheus_client import CollectorRegistry
from sqlalchemy import create_engine, func, make_url, select, text
from sqlalchemy.orm import Session

from cloud.consumer.metrics import ConsumerMetrics
from cloud.consumer.service import ConsumerService
from cloud.consumer.settings import ConsumerSettings
from cloud.ingest.applier import ApplyResult
from cloud.ingest.registry import SiteRegistry
from cloud.storage import create_db_engine, session_factory, upgrade
from cloud.storage.models import CameraProgress, LineCrossing
from cloud.storage.sites import sync_sites
from edge.agent.agent import AgentSettings, EdgeAgent
from edge.frames import Frame
from edge.inference.factory import create_detector, create_embedder
from edge.publish.delivery import DeliverySettings
from edge.publish.kafka_sink import KafkaSink
from edge.sources.base import FrameSource
from edge.sources.factory import open_source
from shared.config import load_site_config
from shared.messaging import KafkaSettings

REPO = Path(__file__).resolve().parents[2]
PG = os.environ.get("MALLFLOW_PG_URL", "postgresql+psycopg://mallflow:mallflow@127.0.0.1:5433/mallflow")
BOOTSTRAP = os.environ.get("MALLFLOW_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")


class PacedSource(FrameSource):
    """A file played as a live camera: frames released at the footage's rate, stamped on release."""

    def __init__(self, inner: FrameSource, limit: int) -> None:
        super().__init__(inner.spec)
        self.inner, self.limit = inner, limit
        self.fps = inner.fps

    def _read(self) -> tuple[NDArray[np.uint8], int | None] | None:
        raise NotImplementedError  # __iter__ is overridden

    def __iter__(self) -> Iterator[Frame]:
        started = time.monotonic()
        for i, frame in enumerate(self.inner):
            if i >= self.limit:
                return
            time.sleep(max(0.0, started + i / self.fps - time.monotonic()))
            yield Frame(frame.camera_id, frame.index, time.time_ns(), frame.image)

    def close(self) -> None:
        self.inner.close()


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def kafka_round_trip(topic: str, repeats: int) -> list[float]:
    producer = KafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", linger_ms=0)
    consumer = KafkaConsumer(topic, bootstrap_servers=BOOTSTRAP, auto_offset_reset="latest", group_id=None)
    consumer.poll(timeout_ms=1000)  # joins and positions at the end
    samples = []
    for _ in range(repeats):
        sent = time.perf_counter()
        producer.send(topic, b"x" * 200).get(timeout=10)
        while not consumer.poll(timeout_ms=1000):
            pass
        samples.append((time.perf_counter() - sent) * 1000)
    producer.close()
    consumer.close()
    return samples


def one_run(frames: int, topic: str, db_url: str) -> tuple[list[float], list[float]]:
    os.environ.setdefault("MALLFLOW_DATA_DIR", str(Path.home() / ".cache" / "mallflow" / "data"))
    site = load_site_config(REPO / "deploy" / "examples" / "pets09.yaml")
    camera = site.camera("cam-main")
    engine = create_db_engine(db_url)
    with session_factory(engine).begin() as session:
        sync_sites(session, [site])
    consumer = ConsumerService(
        SiteRegistry([site]),
        engine,
        KafkaSettings(bootstrap_servers=BOOTSTRAP),
        ConsumerSettings(group_id=f"bench-{uuid.uuid4()}", topic=topic, dead_letter_topic=f"{topic}.dlq"),
        ConsumerMetrics(CollectorRegistry()),
    )
    consumer_thread = threading.Thread(target=consumer.run, kwargs={"idle_exit_s": 120.0}, daemon=True)
    consumer_thread.start()
    # A new consumer group takes a few seconds to join: measured is steady state, not start-up.
    time.sleep(8.0)
    # Newest event time applied by each batch, by the camera's seq after it: a batch's last
    # envelope may be a track that closed seconds after it was last seen.
    newest_by_seq: dict[int, int] = {}

    def remember(session: Session, result: ApplyResult) -> None:
        seq = session.scalar(select(func.max(CameraProgress.last_seq)))
        if seq is not None and result.latest_event_ns:
            newest_by_seq[seq] = max(result.latest_event_ns.values())

    consumer.hooks.append(remember)
    samples: list[float] = []
    seen_crossings: set[tuple[str, int]] = set()
    crossing_samples: list[float] = []
    done = threading.Event()

    def poll() -> None:
        last = None
        with engine.connect() as conn:
            while not done.is_set():
                now = time.time_ns()
                row = conn.execute(select(CameraProgress.last_seq, CameraProgress.last_event_ns)).first()
                if row is not None and row != last and row[0] in newest_by_seq:
                    samples.append((now - newest_by_seq[row[0]]) / 1e6)
                    last = row
                for cam, seq, event_ns in conn.execute(
                    select(LineCrossing.camera_id, LineCrossing.seq, LineCrossing.event_ns)
                ):
                    if (cam, seq) not in seen_crossings:
                        seen_crossings.add((cam, seq))
                        crossing_samples.append((now - event_ns) / 1e6)
                conn.rollback()
                time.sleep(0.005)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    with tempfile.TemporaryDirectory() as state:
        # The agent's own sink, with a registry per run (the default one takes each metric once).
        sink = KafkaSink(
            KafkaSettings(bootstrap_servers=BOOTSTRAP),
            delivery=DeliverySettings(spool_dir=Path(state) / "spool"),
            topic=topic,
            registry=CollectorRegistry(),
        )
        threads = max(1, (os.cpu_count() or 2) // 2)
        agent = EdgeAgent(
            site,
            [camera.id],
            create_detector(threads=threads),
            create_embedder(threads=threads),
            sink,
            AgentSettings(edge_id="bench", state_dir=Path(state) / "seq"),
            opener=lambda spec: PacedSource(open_source(spec, "opencv"), frames),
        )
        agent.run()
        sink.close()
    time.sleep(3.0)  # the last batches land
    done.set()
    poller.join()
    consumer.stop.set()
    consumer_thread.join(timeout=30)
    engine.dispose()
    return samples, crossing_samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=300, help="frames per run (7 fps: 300 frames = 43 s)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    admin_db = create_engine(PG, isolation_level="AUTOCOMMIT")
    kafka_admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    progress: list[float] = []
    crossings: list[float] = []
    baseline: list[float] = []
    per_run = []
    for run in range(args.repeats):
        topic = f"bench-latency-{uuid.uuid4().hex[:8]}"
        kafka_admin.create_topics([NewTopic(topic, 1, 1), NewTopic(f"{topic}.dlq", 1, 1)])
        name = f"mallflow_bench_latency_{uuid.uuid4().hex[:8]}"
        with admin_db.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(PG).set(database=name).render_as_string(hide_password=False)
        try:
            upgrade(url)
            baseline += kafka_round_trip(topic + ".dlq", 50)
            p, c = one_run(args.frames, topic, url)
            progress += p
            crossings += c
            per_run.append(statistics.median(p))
            print(f"run {run + 1}: {len(p)} samples, p50 {statistics.median(p):.0f} ms, {len(c)} crossings", flush=True)
        finally:
            with admin_db.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            kafka_admin.delete_topics([topic, f"{topic}.dlq"])
    base = statistics.median(baseline)
    print("\n| path | samples | p50 ms | p95 ms | p99 ms | max ms | p50 / baseline |\n|---|---|---|---|---|---|---|")
    for label, values in (
        ("baseline: Kafka produce (acks=all) → consume", baseline),
        ("frame capture → newest event's batch visible in PostgreSQL", progress),
        ("line crossing (first frame on the new side) → row visible", crossings),
    ):
        print(
            f"| {label} | {len(values)} | {percentile(values, 50):.0f} | {percentile(values, 95):.0f} | "
            f"{percentile(values, 99):.0f} | {max(values):.0f} | {percentile(values, 50) / base:.1f}× |"
        )
    print(f"\nper-run p50 (ms): {', '.join(f'{v:.0f}' for v in per_run)}")


if __name__ == "__main__":
    main()
