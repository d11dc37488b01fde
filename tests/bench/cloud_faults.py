"""Fault soak of the cloud consumer: SIGKILLs, broker and PostgreSQL restarts, bad messages, and
the end state must be the fault-free run's.

    source deploy/local/env.sh && deploy/local/services.sh up
    nice -n 10 .venv/bin/python tests/bench/cloud_faults.py [--events 100000] [--bad 10000] \\
        [--kills 10] [--broker-restarts 3] [--pg-restarts 3] [--seed 18]

The stream: the events the real edge agent publishes for the 60-frame PETS09 clip (the
integration tests' `clip_events`), repeated back to back as the history of `--sites` sites
(each repetition with its seqs, times and track ids moved on, so it is new to the consumer),
the sites' envelopes interleaved and keyed by site, with `--bad` malformed, truncated or
wrong-version messages mixed in at seeded positions.

It runs on a broker and a PostgreSQL cluster of its own (ports 9096 and 5435), so that the
restarts disturb neither the shared services nor an integration test's outage broker:
1. the fault-free run: `mallflow cloud run` reads the whole topic into one database;
2. the soak: the same command, another group, another database, while this script
   SIGKILLs it `--kills` times (and starts it again, as its supervisor would), restarts the
   broker `--broker-restarts` times and PostgreSQL `--pg-restarts` times, each fault at a
   seeded point of the stream's progress and only after the consumer moved on from the last.
Then the two databases' totals side by side, and the dead-letter topic's records of the soak
against the bad messages injected: the source offsets named in its headers must be exactly
those of the injected messages, each once. Exit status 1 when anything differs.
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from cloud.consumer.settings import ConsumerSettings
from cloud.consumer.validation import validate
from cloud.ingest.registry import SiteRegistry
from shared.assets.datasets import fetch_vtest
from shared.config import SiteConfig
from shared.schema import decode_envelope, pb
from shared.schema.envelope import EnvelopeError
from shared.schema.topics import DEAD_LETTER_TOPIC

# tests/support, as pytest's pythonpath has it: the command runs as a plain script.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support.cloud_run import cloud_run_command, write_site_yaml
from support.db import applied_seqs, create_database, drop_database, totals
from support.outage_broker import OutageBroker
from support.outage_postgres import OutagePostgres
from support.pets09_clip import clip_events, cut_clip, pets09_site

SOAK_KAFKA_PORT = 9096
SOAK_KAFKA_CONTROLLER_PORT = 19096
SOAK_PG_CLUSTER = "mallflow_soak"
SOAK_PG_PORT = 5435
NS = 1_000_000_000
# Track ids of one clip span less than this: each repetition's are moved past the last's.
TRACK_ID_STRIDE = 1_000_000
BAD_KINDS = ("malformed", "truncated", "wrong_version")

console = Console()


# ---------------------------------------------------------------- the stream


def repeated(clip: list[pb.Envelope], site_id: str, rep: int, span_ns: int, base_ns: int) -> list[pb.Envelope]:
    """Repetition `rep` of the clip as site `site_id`: seqs, times and track ids moved on, so that
    it reads as the next stretch of the same cameras, not a redelivery."""
    seq_step = max(e.seq for e in clip)
    shift = base_ns + rep * span_ns
    out = []
    for original in clip:
        env = pb.Envelope()
        env.CopyFrom(original)
        env.site_id = site_id
        env.seq += rep * seq_step
        env.event_time_ns += shift
        env.publish_time_ns += shift
        kind = env.WhichOneof("payload")
        payload = getattr(env, kind)
        if hasattr(payload, "track_id"):
            payload.track_id += rep * TRACK_ID_STRIDE
        if kind == "track_closed":
            payload.first_seen_ns += shift
            payload.last_seen_ns += shift
        elif kind == "zone_transition" and payload.entered_time_ns:
            payload.entered_time_ns += shift
        out.append(env)
    return out


def good_stream(clip: list[pb.Envelope], sites: list[str], n: int) -> list[tuple[str, bytes]]:
    """`n` envelopes of the sites, interleaved one by one (each site's in seq order), keyed by site.

    The repetitions end a minute before now, well inside the consumer's accepted event ages."""
    per_site = -(-n // len(sites))
    reps = -(-per_site // len(clip))
    first = min(e.event_time_ns for e in clip)
    span_ns = max(e.event_time_ns for e in clip) - first + NS
    base_ns = time.time_ns() - 60 * NS - reps * span_ns - first
    streams = [
        [env.SerializeToString() for rep in range(reps) for env in repeated(clip, site, rep, span_ns, base_ns)][
            :per_site
        ]
        for site in sites
    ]
    out = [(site, stream[i]) for i in range(per_site) for site, stream in zip(sites, streams, strict=True)]
    return out[:n]


def bad_message(kind: str, rng: random.Random, good: list[tuple[str, bytes]]) -> tuple[str, bytes]:
    site, value = good[rng.randrange(len(good))]
    if kind == "malformed":
        return site, rng.randbytes(rng.randint(1, 300))
    if kind == "truncated":
        return site, value[: rng.randint(1, len(value) - 1)]
    env = decode_envelope(value)
    env.schema_version = rng.choice([0, 2, 3, 9, 2**31])
    return site, env.SerializeToString()


def bad_messages(
    n: int, rng: random.Random, good: list[tuple[str, bytes]], registry: SiteRegistry
) -> list[tuple[str, bytes, str]]:
    """`n` messages the consumer must dead-letter, kinds in turn; one that would pass validation
    (random bytes that parse, a cut at a field boundary that leaves a whole envelope) is drawn again."""
    settings, now = ConsumerSettings(), time.time_ns()
    out = []
    for i in range(n):
        kind = BAD_KINDS[i % len(BAD_KINDS)]
        while True:
            key, value = bad_message(kind, rng, good)
            try:
                validate(value, registry, settings, now)
            except EnvelopeError:
                out.append((key, value, kind))
                break
    return out


# ---------------------------------------------------------------- Kafka


def create_topics(bootstrap: str, names: dict[str, int]) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(name, partitions, 1) for name, partitions in names.items()])
    finally:
        admin.close()


def produce(bootstrap: str, topic: str, messages: list[tuple[str, bytes, bool]]) -> set[tuple[int, int]]:
    """Every (key, value, bad) in order; the (partition, offset) of each bad one."""
    # One request in flight: a retried batch cannot overtake the next (per-camera order is the seq gate's premise).
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=20,
        batch_size=256 * 1024,
        max_in_flight_requests_per_connection=1,
    )
    futures = []
    for key, value, bad in messages:
        future = producer.send(topic, value, key=key.encode())
        if bad:
            futures.append(future)
    producer.flush()
    producer.close()
    return {(m.partition, m.offset) for m in (f.get(timeout=60) for f in futures)}


def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    # Read committed: dead letters are written in transactions, and the end is the last stable offset.
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None, isolation_level="read_committed"
    )
    try:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        return {tp.partition: offset for tp, offset in consumer.end_offsets(parts).items()}
    finally:
        consumer.close()


def dead_letter_sources(bootstrap: str, topic: str, start: dict[int, int]) -> list[str]:
    """The `mallflow-source` header of each dead letter from `start` on, one per record."""
    end = end_offsets(bootstrap, topic)
    # Read committed: dead letters are written in transactions, and the end is the last stable offset.
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None, isolation_level="read_committed"
    )
    try:
        parts = [TopicPartition(topic, p) for p in end]
        consumer.assign(parts)
        for tp in parts:
            consumer.seek(tp, start.get(tp.partition, 0))
        sources: list[str] = []
        deadline = time.monotonic() + 120
        while any(consumer.position(tp) < end[tp.partition] for tp in parts):
            if time.monotonic() > deadline:
                raise RuntimeError(f"could not read {topic} to its end")
            for records in consumer.poll(timeout_ms=500).values():
                sources += [dict(r.headers)["mallflow-source"].decode() for r in records]
        return sources
    finally:
        consumer.close()


def committed_behind(bootstrap: str, group: str, topic: str) -> int:
    """Records of the topic the group has not committed past (0: it consumed everything)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        offsets = admin.list_group_offsets(group)[group]
        committed = {tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic}
    finally:
        admin.close()
    return sum(end - committed.get(p, 0) for p, end in end_offsets(bootstrap, topic).items())


# ---------------------------------------------------------------- the runs


def progress(engine: Engine) -> int | None:
    """Envelopes applied so far, None while the database cannot be reached."""
    try:
        with Session(engine) as session:
            return applied_seqs(session)
    except SQLAlchemyError:
        return None


def db_totals(url: str) -> dict[str, object]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with Session(engine) as session:
            return totals(session)
    finally:
        engine.dispose()


@dataclass
class Fault:
    kind: str  # kill, broker, postgres
    at: int  # envelopes applied when it is due
    done: bool = False
    seconds: float = 0.0


@dataclass
class Soak:
    faults: list[Fault]
    incarnations: int = 0
    unplanned_exits: list[int] = field(default_factory=list)  # return codes of exits nobody caused
    stalled: bool = False


def schedule(args: argparse.Namespace, rng: random.Random, good: int) -> list[Fault]:
    kinds = ["kill"] * args.kills + ["broker"] * args.broker_restarts + ["postgres"] * args.pg_restarts
    rng.shuffle(kinds)
    # Between 5 % and 95 % of the stream: the consumer is in full flow at each.
    points = sorted(rng.randint(good // 20, good * 19 // 20) for _ in kinds)
    return [Fault(kind, at) for kind, at in zip(kinds, points, strict=True)]


def fault_free_run(command: list[str], log: Path) -> None:
    with log.open("w") as out:
        done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"the fault-free run failed ({done.returncode}); see {log}")


def soak_run(
    command: list[str],
    url: str,
    target: int,
    faults: list[Fault],
    broker: OutageBroker,
    postgres: OutagePostgres,
    rng: random.Random,
    logs: Path,
    stall_s: float,
) -> Soak:
    """Run the consumer as its supervisor would (started again whenever it ends before the stream
    is applied) and inject each fault once the stream reached its point."""
    soak = Soak(faults)
    engine = create_engine(url, poolclass=NullPool)
    pending = list(faults)
    killed = False

    def start() -> subprocess.Popen[bytes]:
        soak.incarnations += 1
        log = (logs / f"soak-{soak.incarnations:02d}.log").open("wb")
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

    proc = start()
    last, last_change = 0, time.monotonic()
    # Each fault waits for progress past the one before: the consumer recovered in between.
    moved_on_from = -1
    try:
        while True:
            now = progress(engine)
            if now is not None and now != last:
                last, last_change = now, time.monotonic()
            code = proc.poll()
            if code is not None:
                if code == 0 and last >= target:
                    # Faults still pending: the stream was too short for them (reported as not done).
                    return soak
                if not killed:
                    soak.unplanned_exits.append(code)
                killed = False
                proc = start()
            if time.monotonic() - last_change > stall_s:
                soak.stalled = True
                return soak
            if pending and now is not None and now >= pending[0].at and now > moved_on_from:
                fault = pending.pop(0)
                started = time.monotonic()
                if fault.kind == "kill":
                    # Anywhere in the batch cycle: mid-transaction, between the database commit and the offsets'.
                    time.sleep(rng.uniform(0, 0.3))
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    killed = True
                elif fault.kind == "broker":
                    broker.stop()
                    time.sleep(rng.uniform(0.5, 3.0))
                    broker.start()
                else:
                    postgres.stop()
                    time.sleep(rng.uniform(0.5, 3.0))
                    postgres.start()
                fault.seconds, fault.done = time.monotonic() - started, True
                after = progress(engine)
                moved_on_from = now if after is None else after
                console.print(
                    f"  fault {len(faults) - len(pending):2d}/{len(faults)}: {fault.kind:8} at {now:>7} of {target}"
                    f" applied (due at {fault.at}), {fault.seconds:.1f} s"
                )
                last_change = time.monotonic()
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        engine.dispose()


# ---------------------------------------------------------------- report


def show(key: str, value: object) -> str:
    if key == "occupancy" and isinstance(value, list):
        return f"{len(value)} scopes, sum {sum(count for *_, count in value)}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000, help="good envelopes in the stream")
    parser.add_argument("--bad", type=int, default=10_000, help="malformed, truncated or wrong-version messages")
    parser.add_argument("--sites", type=int, default=4)
    parser.add_argument("--kills", type=int, default=10, help="SIGKILLs of the consumer")
    parser.add_argument("--broker-restarts", type=int, default=3)
    parser.add_argument("--pg-restarts", type=int, default=3)
    parser.add_argument("--seed", type=int, default=18)
    # Small transactions make the soak long enough for its faults, and give each SIGKILL many
    # batch boundaries to fall between; the fault-free run uses the service's default.
    parser.add_argument("--max-batch", type=int, default=20, help="records per transaction of the soak")
    parser.add_argument("--clean-max-batch", type=int, default=2000, help="records per transaction, fault-free run")
    parser.add_argument("--stall", type=float, default=300.0, help="give up after this many seconds without progress")
    parser.add_argument("--keep", action="store_true", help="keep the databases, topics and logs afterwards")
    args = parser.parse_args()
    wall = time.monotonic()
    rng = random.Random(args.seed)

    console.print("edge events of the 60-frame PETS09 clip …")
    work = Path(tempfile.mkdtemp(prefix="mallflow-faults-"))
    clip = [
        decode_envelope(b) for b in clip_events(cut_clip(fetch_vtest(), work / "vtest-60.avi", 60), work / "edge-state")
    ]
    site_ids = [f"pets09-{i + 1}" for i in range(args.sites)]
    sites: list[SiteConfig] = [pets09_site(site_id) for site_id in site_ids]
    registry = SiteRegistry(sites)
    good = good_stream(clip, site_ids, args.events)
    bad = bad_messages(args.bad, rng, good, registry)
    messages: list[tuple[str, bytes, bool]] = [(key, value, False) for key, value in good]
    for key, value, _ in bad:
        messages.insert(rng.randint(0, len(messages)), (key, value, True))
    console.print(
        f"{len(good):,} envelopes of {len(sites)} sites ({len(clip)} per clip repetition) and {len(bad):,} bad "
        f"({', '.join(f'{n:,} {k}' for k, n in sorted(Counter(k for *_, k in bad).items()))}), seed {args.seed}"
    )

    broker = OutageBroker(SOAK_KAFKA_PORT, SOAK_KAFKA_CONTROLLER_PORT)
    postgres = OutagePostgres(SOAK_PG_CLUSTER, SOAK_PG_PORT)
    broker.reset()  # data a stopped earlier run left behind
    broker.start()
    postgres.start()
    # The consumer's default dead-letter topic: the broker is the soak's own, reset above.
    topic, dlq = f"soak.{uuid.uuid4().hex[:8]}", DEAD_LETTER_TOPIC
    create_topics(broker.bootstrap, {topic: 12, dlq: 3})
    bad_offsets = produce(broker.bootstrap, topic, messages)
    expected_sources = {f"{topic}/{p}/{o}" for p, o in bad_offsets}
    console.print(f"produced {len(messages):,} messages to {topic} on {broker.bootstrap}")
    clean_db = create_database(postgres.url, "mallflow_soak_clean")
    soak_db = create_database(postgres.url, "mallflow_soak_faults")
    configs = [write_site_yaml(site, work / f"{site.site.id}.yaml") for site in sites]
    target = sum(max(decode_envelope(v).seq for s, v in good if s == site) for site in site_ids)
    try:
        console.print("fault-free run …")
        started = time.monotonic()
        fault_free_run(
            cloud_run_command(
                configs,
                broker.bootstrap,
                clean_db,
                topic,
                f"clean-{uuid.uuid4()}",
                max_batch=args.clean_max_batch,
                idle_exit_s=10,
            ),
            work / "fault-free.log",
        )
        clean_s = time.monotonic() - started
        clean_dead = dead_letter_sources(broker.bootstrap, dlq, {})
        soak_dlq_start = end_offsets(broker.bootstrap, dlq)
        console.print(f"  {clean_s:.0f} s; soak with faults …")
        group = f"soak-{uuid.uuid4()}"
        started = time.monotonic()
        soak = soak_run(
            cloud_run_command(
                configs,
                broker.bootstrap,
                soak_db,
                topic,
                group,
                max_batch=args.max_batch,
                idle_exit_s=30,
            ),
            soak_db,
            target,
            schedule(args, rng, target),
            broker,
            postgres,
            rng,
            work,
            args.stall,
        )
        soak_s = time.monotonic() - started
        soak_dead = dead_letter_sources(broker.bootstrap, dlq, soak_dlq_start)
        behind = committed_behind(broker.bootstrap, group, topic)
        clean, faulty = db_totals(clean_db), db_totals(soak_db)
    finally:
        if not args.keep:
            drop_database(postgres.url, clean_db)
            drop_database(postgres.url, soak_db)

    table = Table(title=f"fault soak, seed {args.seed}")
    table.add_column("")
    table.add_column("fault-free run", justify="right")
    table.add_column("with faults", justify="right")
    table.add_column("", justify="center")
    ok = True
    for key in clean:
        same = clean[key] == faulty[key]
        ok &= same
        table.add_row(key, show(key, clean[key]), show(key, faulty[key]), "=" if same else "DIFFERS")
    distinct = set(soak_dead)
    dup = len(soak_dead) - len(distinct)
    # Each injected message dead-lettered once: the committed records name exactly their offsets.
    dlq_ok = distinct == expected_sources and dup == 0
    table.add_row(
        "dead letters (committed records)",
        f"{len(clean_dead):,}",
        f"{len(soak_dead):,}",
        "=" if len(clean_dead) == len(soak_dead) == len(bad) else "DIFFERS",
    )
    table.add_row(
        "dead letters (distinct sources)",
        f"{len(set(clean_dead)):,}",
        f"{len(distinct):,}",
        "=" if dlq_ok else "DIFFERS",
    )
    table.add_row("bad messages injected", f"{len(bad):,}", f"{len(bad):,}", "")
    table.add_row("records not committed", "", f"{behind:,}", "")
    table.add_row("wall time", f"{clean_s:.0f} s", f"{soak_s:.0f} s", "")
    console.print(table)
    done = Counter(f.kind for f in soak.faults if f.done)
    console.print(
        f"faults: {done['kill']} SIGKILLs, {done['broker']} broker restarts, {done['postgres']} PostgreSQL restarts "
        f"(asked {args.kills}/{args.broker_restarts}/{args.pg_restarts}); {soak.incarnations} consumer processes, "
        f"unplanned exits: {soak.unplanned_exits or 'none'}; duplicate dead letters: {dup}"
        + (f"; STALLED (no progress for {args.stall:.0f} s)" if soak.stalled else "")
    )
    ok &= dlq_ok and set(clean_dead) == expected_sources and len(clean_dead) == len(bad)
    ok &= behind == 0 and not soak.stalled
    ok &= done == Counter(kill=args.kills, broker=args.broker_restarts, postgres=args.pg_restarts)
    if not_done := sum(not f.done for f in soak.faults):
        console.print(
            f"{not_done} faults not done: the stream was applied before they were due "
            "(more --events or a smaller --max-batch)"
        )
    console.print(f"logs in {work}; total wall time {time.monotonic() - wall:.0f} s")
    if not args.keep:
        broker.reset()
        postgres.stop()
    console.print("[green]PASS[/green]" if ok else "[red]FAIL[/red]")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
