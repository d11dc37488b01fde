"""Cloud ingest throughput: Kafka → consumer service → PostgreSQL, against kafka-python's ceiling and naive ORM inserts.

    source deploy/local/env.sh && deploy/local/services.sh up
    .venv/bin/python tests/bench/cloud_ingest.py [--events 100000] [--repeats 3]

All three read the same synthetic stream (the edge's mix of payloads for a 20-camera
site) in this run, each repeat one after the other:
* the consumer service: batches of up to 2000, one transaction per batch, the batch sorted
  into per-table row sets and each written once (COPY + INSERT … SELECT … ON CONFLICT),
  seq-gated idempotence, offsets committed after the transaction; into a fresh database;
* the ceiling: a bare kafka-python consumer that only polls the topic (no decoding, no
  database);
* the baseline: decode each message and `session.add()` + `commit()` one ORM row per
  event (on a sample: its rate does not depend on the sample size).
Each gets events/s on the wall clock and events per CPU-second of this process (where the
consumer runs; Linux process time), medians of the repeats. For the service also per
CPU-second of consumer, PostgreSQL and the broker together (/proc), the per-core figure
on a machine where they would not wait on each other. The headline is the service's
events per consumer CPU-second as a share of kafka-python's: the part of the cost that
is the consumer's own.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from prometheus_client import CollectorRegistry
from sqlalchemy import create_engine, make_url, text

from cloud.consumer.metrics import ConsumerMetrics
from cloud.consumer.service import ConsumerService
from cloud.consumer.settings import ConsumerSettings
from cloud.ingest.registry import SiteRegistry
from cloud.storage import create_db_engine, session_factory, upgrade
from cloud.storage.models import LineCrossing
from shared.config import SiteConfig
from shared.messaging import KafkaSettings
from shared.schema import decode_envelope, pb

BOOTSTRAP = os.environ.get("MALLFLOW_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
PG = os.environ.get("MALLFLOW_PG_URL", "postgresql+psycopg://mallflow:mallflow@127.0.0.1:5433/mallflow")
CAMERAS = 20


def site() -> SiteConfig:
    return SiteConfig.model_validate(
        {
            "site": {"id": "bench"},
            "floors": [{"id": "f1", "extent": [0, 0, 100, 100], "heatmap_cell_m": 1.0}],
            "cameras": [{"id": f"cam-{i}", "source": "/dev/null", "floor": "f1"} for i in range(CAMERAS)],
            "lines": [{"id": f"door-{i}", "camera": f"cam-{i}", "points": [[0, 0], [10, 0]]} for i in range(CAMERAS)],
            "zones": [
                {"id": f"zone-{i}", "camera": f"cam-{i}", "polygon": [[0, 0], [10, 0], [10, 10]]}
                for i in range(CAMERAS)
            ],
        }
    )


def stream(n: int) -> list[bytes]:
    """Per camera: mostly track updates, with crossings, zone transitions and closes mixed in."""
    t0 = time.time_ns() - 3600 * 10**9
    out = []
    for i in range(n):
        cam, seq = i % CAMERAS, i // CAMERAS + 1
        env = pb.Envelope(
            schema_version=1,
            site_id="bench",
            camera_id=f"cam-{cam}",
            edge_id="e",
            seq=seq,
            event_time_ns=t0 + seq * 50_000_000,
            publish_time_ns=t0 + seq * 50_000_000,
        )
        kind = seq % 20
        if kind == 0:
            env.line_crossing.line_id = f"door-{cam}"
            env.line_crossing.direction = pb.DIRECTION_IN if seq % 40 else pb.DIRECTION_OUT
            env.line_crossing.track_id = seq
        elif kind == 1:
            env.zone_transition.zone_id = f"zone-{cam}"
            env.zone_transition.event = pb.ZONE_EVENT_ENTER
            env.zone_transition.track_id = seq
        elif kind == 2:
            env.zone_transition.zone_id = f"zone-{cam}"
            env.zone_transition.event = pb.ZONE_EVENT_EXIT
            env.zone_transition.track_id = seq - 1
            env.zone_transition.entered_time_ns = env.event_time_ns - 50_000_000
        elif kind == 3:
            tc = env.track_closed
            tc.track_id, tc.first_seen_ns, tc.last_seen_ns, tc.observations = seq, t0, env.event_time_ns, 10
        else:
            tu = env.track_update
            tu.track_id = seq % 50
            tu.bbox.x2, tu.bbox.y2, tu.confidence = 10, 30, 0.9
            tu.floor_point.x, tu.floor_point.y = (seq % 97) * 1.0, (seq % 89) * 1.0
            tu.floor_id = "f1"
        out.append(env.SerializeToString())
    return out


def fresh_database() -> str:
    name = f"mallflow_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = make_url(PG).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    return url


def drop_database(url: str) -> None:
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def produce(values: list[bytes]) -> str:
    topic = f"bench.{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    admin.create_topics([NewTopic(topic, 1, 1)])
    admin.close()
    producer = KafkaProducer(bootstrap_servers=BOOTSTRAP, linger_ms=20, batch_size=512 * 1024, compression_type="lz4")
    for v in values:
        producer.send(topic, v, key=b"bench")
    producer.flush()
    producer.close()
    return topic


def _service_cpu_s() -> float:
    """CPU seconds so far of PostgreSQL's processes and the Kafka broker (processes that
    exited meanwhile are not counted: the consumer's connections live through the run)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        if b"postgres" in cmdline or b"kafka.Kafka" in cmdline:
            fields = stat.rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


@dataclass(frozen=True)
class Run:
    events_per_s: float
    # Events per CPU-second of the consumer process, and (service only) of consumer + PostgreSQL + broker.
    per_consumer_cpu_s: float
    per_total_cpu_s: float | None = None


def mallflow_rate(topic: str, n: int) -> Run:
    url = fresh_database()
    try:
        service = ConsumerService(
            SiteRegistry([site()]),
            create_db_engine(url),
            KafkaSettings(bootstrap_servers=BOOTSTRAP),
            ConsumerSettings(group_id=f"bench-{uuid.uuid4()}", topic=topic, max_age_s=10 * 24 * 3600.0),
            ConsumerMetrics(CollectorRegistry()),
        )
        start: list[float] = []

        def first_batch(session: object, result: object) -> None:
            if not start:
                start.append(time.perf_counter())

        service.hooks.append(first_batch)
        cpu_before, services_before = time.process_time(), _service_cpu_s()
        thread = threading.Thread(target=service.run, kwargs={"idle_exit_s": 2.0})
        thread.start()
        while service.applied < n and thread.is_alive():
            time.sleep(0.05)
        end = time.perf_counter()
        consumer_cpu, services_cpu = time.process_time() - cpu_before, _service_cpu_s() - services_before
        service.stop.set()
        thread.join()
        assert service.applied == n, f"applied {service.applied} of {n}"
        return Run(n / (end - start[0]), n / consumer_cpu, n / (consumer_cpu + services_cpu))
    finally:
        drop_database(url)


def poll_only_rate(topic: str, n: int) -> Run:
    """kafka-python polling the topic and doing nothing else."""
    settings = ConsumerSettings()
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=BOOTSTRAP,
        group_id=f"bench-poll-{uuid.uuid4()}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_partition_fetch_bytes=settings.fetch_partition_bytes,
    )
    try:
        got, cpu_start, wall_start = 0, 0.0, 0.0
        while got < n:
            polled = consumer.poll(timeout_ms=500, max_records=settings.max_batch)
            batch = sum(len(records) for records in polled.values())
            if batch and not got:
                cpu_start, wall_start = time.process_time(), time.perf_counter()
            got += batch
        return Run(n / (time.perf_counter() - wall_start), n / (time.process_time() - cpu_start))
    finally:
        consumer.close(autocommit=False)


def naive_rate(values: list[bytes]) -> Run:
    url = fresh_database()
    try:
        sessions = session_factory(create_db_engine(url))
        start, cpu_start = time.perf_counter(), time.process_time()
        with sessions() as session:
            for v in values:
                env = decode_envelope(v)
                session.add(
                    LineCrossing(
                        site_id=env.site_id,
                        camera_id=env.camera_id,
                        seq=env.seq,
                        line_id="x",
                        direction="in",
                        track_id=0,
                        event_ns=env.event_time_ns,
                    )
                )
                session.commit()
        return Run(len(values) / (time.perf_counter() - start), len(values) / (time.process_time() - cpu_start))
    finally:
        drop_database(url)


def _median(runs: list[Run]) -> Run:
    totals = [r.per_total_cpu_s for r in runs if r.per_total_cpu_s is not None]
    return Run(
        statistics.median(r.events_per_s for r in runs),
        statistics.median(r.per_consumer_cpu_s for r in runs),
        statistics.median(totals) if totals else None,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--naive-sample", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    values = stream(args.events)
    topic = produce(values)
    print(f"{args.events} events on {topic}, {os.cpu_count()} cores")
    service: list[Run] = []
    ceiling: list[Run] = []
    naive: list[Run] = []
    for i in range(args.repeats):
        ceiling.append(poll_only_rate(topic, args.events))
        service.append(mallflow_rate(topic, args.events))
        naive.append(naive_rate(values[: args.naive_sample]))
        print(
            f"repeat {i + 1}: "
            + ", ".join(
                f"{name} {r.events_per_s:,.0f} ev/s ({r.per_consumer_cpu_s:,.0f} per CPU-s)"
                for name, r in (("service", service[-1]), ("poll alone", ceiling[-1]), ("naive ORM", naive[-1]))
            ),
            flush=True,
        )
    s, c, b = _median(service), _median(ceiling), _median(naive)
    print(f"medians of {args.repeats}:")
    print(f"{'':32} {'events/s wall':>14} {'per consumer CPU-s':>19}")
    for name, r in (
        ("consumer service", s),
        ("kafka-python poll alone", c),
        ("naive per-row ORM", b),
    ):
        print(f"{name:32} {r.events_per_s:>14,.0f} {r.per_consumer_cpu_s:>19,.0f}")
    assert s.per_total_cpu_s is not None
    print(f"consumer service per CPU-second of consumer + PostgreSQL + broker: {s.per_total_cpu_s:,.0f}")
    print(f"service / naive ORM, wall: {s.events_per_s / b.events_per_s:.1f}x")
    print(f"service / kafka-python poll ceiling per CPU-second: {s.per_consumer_cpu_s / c.per_consumer_cpu_s:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
