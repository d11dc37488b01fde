"""Cloud ingest throughput: Kafka → consumer service → PostgreSQL, against kafka-python's ceiling and naive ORM inserts.

    source deploy/local/env.sh && deploy/local/services.sh up
    .venv/bin/python tests/bench/cloud_ingest.py [--events 100000] [--repeats 3]

All three read the same synthetic stream (the edge's mix of payloads for a 20-camera
site) in this run, each repeat one after the other:
* the consumer service: batches of up to ConsumerSettings.max_batch (5000), one transaction
  per batch, the batch sorted into per-table row sets and each written once (COPY + INSERT …
  SELECT … ON CONFLICT),
  seq-gated idempotence, offsets committed after the transaction; into a fresh database;
* the ceiling: a bare kafka-python consumer that only polls the topic, as many records a
  poll as the service (no decoding, no database);
* the baseline: decode each message and `session.add()` + `commit()` one ORM row per
  event (on a sample: its rate does not depend on the sample size).
Each gets events/s on the wall clock and events per CPU-second of this process (where the
consumer runs; Linux process time), medians of the repeats, both counted from the end of
the first batch (the service's first transaction, the ceiling's first poll): connecting,
joining the group and the first fetch are start-up, not the per-event cost. For the service also per
CPU-second of consumer, PostgreSQL and the broker together (/proc), the per-core figure
on a machine where they would not wait on each other. The headline is the service's
events per consumer CPU-second as a share of kafka-python's: the part of the cost that
is the consumer's own.

Then scale-out: the same number of events as 24 sites of 10 cameras, two per partition of a
12-partition topic (the events topic's count), read by 1 and by 2 real `mallflow cloud run`
processes in one consumer group (stitching hooks included), each into a fresh database and
a fresh topic that gets the events once the group is stable with all of them. Timed from
the first publish to the last event in the database's per-camera progress: events/s on the
wall clock and per CPU-second of the consumer processes together, what each process
applied, and where the machine's cores went in that window (consumers, PostgreSQL, broker,
this script — the publishing —, other processes, idle) from /proc.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import yaml
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.partitioner.default import murmur2
from prometheus_client import CollectorRegistry
from sqlalchemy import create_engine, make_url, text

from cloud.consumer.collector import tune_for_batches
from cloud.consumer.metrics import ConsumerMetrics
from cloud.consumer.service import ConsumerService
from cloud.consumer.settings import ConsumerSettings
from cloud.ingest.applier import ApplyResult
from cloud.ingest.registry import SiteRegistry
from cloud.storage import create_db_engine, session_factory, upgrade
from cloud.storage.models import LineCrossing
from cloud.storage.sites import sync_sites
from shared.config import SiteConfig
from shared.messaging import KafkaSettings
from shared.schema import decode_envelope, partition_key, pb

# Run as a script: the suite's support package is beside this folder.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support.kafka_io import site_ids_spread

BOOTSTRAP = os.environ.get("MALLFLOW_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
PG = os.environ.get("MALLFLOW_PG_URL", "postgresql+psycopg://mallflow:mallflow@127.0.0.1:5433/mallflow")
CAMERAS = 20


def site(site_id: str = "bench", cameras: int = CAMERAS) -> SiteConfig:
    return SiteConfig.model_validate(
        {
            "site": {"id": site_id},
            "floors": [{"id": "f1", "extent": [0, 0, 100, 100], "heatmap_cell_m": 1.0}],
            "cameras": [{"id": f"cam-{i}", "source": "/dev/null", "floor": "f1"} for i in range(cameras)],
            "lines": [{"id": f"door-{i}", "camera": f"cam-{i}", "points": [[0, 0], [10, 0]]} for i in range(cameras)],
            "zones": [
                {"id": f"zone-{i}", "camera": f"cam-{i}", "polygon": [[0, 0], [10, 0], [10, 10]]}
                for i in range(cameras)
            ],
        }
    )


def stream(n: int, site_id: str = "bench", cameras: int = CAMERAS) -> list[bytes]:
    """Per camera: mostly track updates, with crossings, zone transitions and closes mixed in."""
    t0 = time.time_ns() - 3600 * 10**9
    out = []
    for i in range(n):
        cam, seq = i % cameras, i // cameras + 1
        env = pb.Envelope(
            schema_version=1,
            site_id=site_id,
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
    return sum(_cpu_by_process().values())


def _cpu_by_process() -> dict[tuple[str, int], float]:
    """CPU seconds so far of each of PostgreSQL's processes and the broker's, by (kind, pid)."""
    ticks = os.sysconf("SC_CLK_TCK")
    out: dict[tuple[str, int], float] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        kind = "PostgreSQL" if b"postgres" in cmdline else "broker" if b"kafka.Kafka" in cmdline else None
        if kind is not None:
            out[(kind, int(proc.name))] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return out


def _cpu_since(before: dict[tuple[str, int], float]) -> dict[str, float]:
    """CPU seconds per kind since `before`, process by process: a backend that ended in
    between drops out of both sides instead of taking its whole life's CPU off the total."""
    out = {"PostgreSQL": 0.0, "broker": 0.0}
    for key, cpu in _cpu_by_process().items():
        out[key[0]] += cpu - before.get(key, 0.0)
    return out


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
        # (wall, this process's CPU, PostgreSQL's and the broker's CPU, events) once the first
        # batch is applied: the window starts there, as the ceiling's does after its first poll.
        start: list[tuple[float, float, float, int]] = []

        def first_batch(session: object, result: ApplyResult) -> None:
            if not start:
                start.append((time.perf_counter(), time.process_time(), _service_cpu_s(), result.applied))

        service.hooks.append(first_batch)
        thread = threading.Thread(target=service.run, kwargs={"idle_exit_s": 2.0})
        thread.start()
        while service.applied < n and thread.is_alive():
            time.sleep(0.05)
        end, cpu_end, services_end = time.perf_counter(), time.process_time(), _service_cpu_s()
        service.stop.set()
        thread.join()
        assert service.applied == n, f"applied {service.applied} of {n}"
        wall_start, cpu_start, services_start, first = start[0]
        timed, consumer_cpu = n - first, cpu_end - cpu_start
        return Run(
            timed / (end - wall_start), timed / consumer_cpu, timed / (consumer_cpu + services_end - services_start)
        )
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
        got, first, cpu_start, wall_start = 0, 0, 0.0, 0.0
        while got < n:
            polled = consumer.poll(timeout_ms=500, max_records=settings.max_batch)
            batch = sum(len(records) for records in polled.values())
            if batch and not got:
                first, cpu_start, wall_start = batch, time.process_time(), time.perf_counter()
            got += batch
        timed = n - first
        return Run(timed / (time.perf_counter() - wall_start), timed / (time.process_time() - cpu_start))
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


# The scale-out part: the production topic's partition count, sites spread evenly over it
# (as site_ids are keys, by the producer's hash), fewer cameras each for many sites.
SCALE_PARTITIONS = 12
SCALE_SITES_PER_PARTITION = 2
SCALE_CAMERAS = 10


def create_scale_topic() -> str:
    topic = f"bench.scale.{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    admin.create_topics([NewTopic(topic, SCALE_PARTITIONS, 1)])
    admin.close()
    return topic


def publish_sites(topic: str, streams: dict[str, list[bytes]]) -> None:
    """The sites' streams interleaved, as live malls publish, keyed by site id. Each key's
    partition is worked out once (kafka-python's default partitioner, as the edge's
    producer's): hashing it again for every record in pure Python would be most of the
    publishing's CPU, which runs inside the timed window."""
    keys = {site_id: partition_key(site_id) for site_id in streams}
    partitions = {site_id: (murmur2(key) & 0x7FFFFFFF) % SCALE_PARTITIONS for site_id, key in keys.items()}
    producer = KafkaProducer(bootstrap_servers=BOOTSTRAP, linger_ms=20, batch_size=512 * 1024, compression_type="lz4")
    for i in range(max(len(v) for v in streams.values())):
        for site_id, values in streams.items():
            if i < len(values):
                producer.send(topic, values[i], key=keys[site_id], partition=partitions[site_id])
    producer.flush()
    producer.close()


def _pid_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of one live process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy_idle_s() -> tuple[float, float]:
    """Busy and idle CPU seconds of the whole machine, all cores (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    ticks = os.sysconf("SC_CLK_TCK")
    return (sum(values[:8]) - idle) / ticks, idle / ticks


@dataclass(frozen=True)
class ScaleRun:
    consumers: int
    events_per_s: float
    per_consumer_cpu_s: float
    # Events each process applied (its exit line), the share it took of the stream.
    applied: tuple[int, ...]
    # CPU seconds in the measured window by where they went, and the window's length.
    cpu_s: dict[str, float]
    window_s: float


def _group_stable_with(admin: KafkaAdminClient, group: str, members: int, procs: list[subprocess.Popen[str]]) -> None:
    deadline = time.monotonic() + 120
    while True:
        info = admin.describe_groups([group])[group]
        if info["group_state"] == "Stable" and len(info["members"]) == members:
            return
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            raise RuntimeError(f"group {group} never had {members} members: {info['group_state']}")
        time.sleep(0.05)


def scale_out_rate(streams: dict[str, list[bytes]], sites: list[SiteConfig], consumers: int, workdir: Path) -> ScaleRun:
    """`consumers` real `mallflow cloud run` processes in one group over a fresh topic. The
    events are published once the group is stable with all of them (had they waited in the
    topic, the first to join would have read most before the others came), and the window runs
    from the first publish to the last event applied, from the database's per-camera progress:
    the publishing is in it, as "this script"."""
    n = sum(len(v) for v in streams.values())
    topic = create_scale_topic()
    url = fresh_database()
    engine = create_db_engine(url)
    # Both would insert the sites at start on a fresh database; done once here instead.
    with session_factory(engine).begin() as session:
        sync_sites(session, sites)
    configs: list[str] = []
    for s in sites:
        path = workdir / f"{s.site.id}.yaml"
        path.write_text(yaml.safe_dump(s.model_dump(mode="json")))
        configs += ["--config", str(path)]
    group = f"bench-scale-{uuid.uuid4()}"
    command = [
        sys.executable, "-m", "shared.cli.main", "cloud", "run", *configs, "--bootstrap", BOOTSTRAP,
        "--db", url, "--topic", topic, "--group", group, "--metrics-port", "0",
        # Stopped by SIGTERM once measured; a consumer that leaves early would skew the split.
        "--idle-exit", "60",
    ]  # fmt: skip

    def applied() -> int:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT coalesce(sum(last_seq), 0) FROM camera_progress")).scalar_one())

    admin = KafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    logs = [(workdir / f"consumer-{i}.log").open("w+") for i in range(consumers)]
    procs = [subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, text=True) for log in logs]
    try:
        _group_stable_with(admin, group, consumers, procs)
        start = time.perf_counter()
        cpu_before = [_pid_cpu_s(p.pid) for p in procs]
        kinds_before, machine_before, own_before = _cpu_by_process(), _machine_busy_idle_s(), time.process_time()
        publish_sites(topic, streams)
        while (done := applied()) < n:
            if any(p.poll() is not None for p in procs):
                raise RuntimeError(f"a consumer exited with {done} of {n} events applied")
            time.sleep(0.05)
        window = time.perf_counter() - start
        consumer_cpu = sum(_pid_cpu_s(p.pid) - before for p, before in zip(procs, cpu_before, strict=True))
        kinds, machine_after = _cpu_since(kinds_before), _machine_busy_idle_s()
        cpu = {"consumers": consumer_cpu, **kinds, "this script": time.process_time() - own_before}
        busy = machine_after[0] - machine_before[0]
        cpu["other processes"] = max(0.0, busy - sum(cpu.values()))
        cpu["idle"] = machine_after[1] - machine_before[1]
        for p in procs:
            p.terminate()  # finishes its batch and prints what it applied
        for p in procs:
            p.wait(timeout=60)
        counts = []
        for log in logs:
            log.seek(0)
            lines = [line for line in log.read().splitlines() if line.startswith("applied ")]
            counts.append(int(lines[-1].split()[1]) if lines else 0)
        return ScaleRun(consumers, n / window, n / consumer_cpu, tuple(counts), cpu, window)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for log in logs:
            log.close()
        admin.close()
        engine.dispose()
        drop_database(url)


def _describe(r: ScaleRun) -> str:
    cores = os.cpu_count() or 1
    where = ", ".join(f"{k} {v / (cores * r.window_s):.0%}" for k, v in r.cpu_s.items())
    split = " + ".join(f"{a:,}" for a in r.applied)
    return (
        f"{r.consumers} consumer{'s' if r.consumers > 1 else ''} {r.events_per_s:,.0f} ev/s "
        f"({r.per_consumer_cpu_s:,.0f} per consumer CPU-s; applied {split}; "
        f"of {cores} cores: {where})"
    )


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
    parser.add_argument("--max-consumers", type=int, default=2, help="scale-out: 1 up to this many consumer processes")
    args = parser.parse_args()
    # This process is set up as `mallflow cloud run` sets up its own; the poll ceiling and the
    # naive baseline run under the same collector settings as the service.
    tune_for_batches()
    values = stream(args.events)
    topic = produce(values)
    print(f"{args.events} events on {topic}, {os.cpu_count()} cores")
    sites = [site(site_id, SCALE_CAMERAS) for site_id in site_ids_spread(SCALE_PARTITIONS, SCALE_SITES_PER_PARTITION)]
    per_site = args.events // len(sites)
    streams = {s.site.id: stream(per_site, s.site.id, SCALE_CAMERAS) for s in sites}
    print(
        f"scale-out: {per_site * len(sites)} events of {len(sites)} sites ({SCALE_CAMERAS} cameras each, "
        f"{SCALE_SITES_PER_PARTITION} per partition) on a fresh {SCALE_PARTITIONS}-partition topic a run, "
        "`mallflow cloud run` processes in one group, published once the group is stable"
    )
    scaled: dict[int, list[ScaleRun]] = {k: [] for k in range(1, args.max_consumers + 1)}
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
        with tempfile.TemporaryDirectory() as workdir:
            # Every other repeat the other way round: a neighbour's load that comes and goes on a
            # shared machine then falls on both sides.
            for k in sorted(scaled, reverse=i % 2 == 1):
                scaled[k].append(scale_out_rate(streams, sites, k, Path(workdir)))
                print(f"repeat {i + 1}: {_describe(scaled[k][-1])}", flush=True)
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
    print(f"scale-out, medians of {args.repeats} ({len(sites)} sites, {SCALE_PARTITIONS} partitions, one group):")
    print(f"{'':32} {'events/s wall':>14} {'per consumer CPU-s':>19}")
    medians = {}
    for k, runs in scaled.items():
        medians[k] = (
            statistics.median(r.events_per_s for r in runs),
            statistics.median(r.per_consumer_cpu_s for r in runs),
        )
        print(f"{f'{k} x mallflow cloud run':32} {medians[k][0]:>14,.0f} {medians[k][1]:>19,.0f}")
        cores = os.cpu_count() or 1
        shares = ", ".join(
            f"{kind} {statistics.median(r.cpu_s[kind] / (cores * r.window_s) for r in runs):.0%}"
            for kind in runs[0].cpu_s
        )
        print(f"{'':32} where the {cores} cores went: {shares}")
    for k in list(scaled)[1:]:
        print(f"{k} consumers / 1, events/s wall: {medians[k][0] / medians[1][0]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
