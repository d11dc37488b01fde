"""`mallflow topics create|read`"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from google.protobuf.json_format import MessageToJson
from rich.console import Console
from rich.table import Table

from shared.messaging import KafkaSettings, ensure_topics
from shared.messaging.reader import read_envelopes
from shared.schema.topics import DEFAULT_TOPICS, EVENTS_TOPIC


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("topics", help="manage Mallflow's Kafka topics")
    tsub = p.add_subparsers(dest="topics_command", required=True)
    c = tsub.add_parser("create", help="create missing topics with their partition counts")
    c.add_argument("--bootstrap", default=None, help="host:port[,host:port] (default MALLFLOW_KAFKA_BOOTSTRAP_SERVERS)")
    c.set_defaults(handler=_create)
    r = tsub.add_parser("read", help="decode a topic's envelopes: a summary per camera, or one JSON line each")
    r.add_argument("--bootstrap", default=None, help="host:port[,host:port] (default MALLFLOW_KAFKA_BOOTSTRAP_SERVERS)")
    r.add_argument("--topic", default=EVENTS_TOPIC)
    r.add_argument("--json", action="store_true", help="print every envelope as a JSON line")
    r.add_argument("--follow", action="store_true", help="keep reading new events until idle for --idle seconds")
    r.add_argument("--idle", type=float, default=10.0)
    r.set_defaults(handler=_read)


def _create(args: argparse.Namespace) -> int:
    created = ensure_topics(KafkaSettings.from_env(args.bootstrap))
    for spec in DEFAULT_TOPICS:
        state = "created" if spec.name in created else "exists"
        print(f"{spec.name}: {state} ({spec.partitions} partitions)")
    return 0


def _read(args: argparse.Namespace) -> int:
    per_camera: dict[tuple[str, str], Counter[str]] = {}
    invalid = 0
    for record in read_envelopes(KafkaSettings.from_env(args.bootstrap), args.topic, args.follow, args.idle):
        env = record.envelope
        if env is None:
            invalid += 1
            print(f"partition {record.partition} offset {record.offset}: {record.error}", file=sys.stderr)
            continue
        if args.json:
            print(MessageToJson(env, indent=None))
            continue
        kind = env.WhichOneof("payload") or "none"
        per_camera.setdefault((env.site_id, env.camera_id), Counter())[kind] += 1
        if kind == "line_crossing":
            direction = "in" if env.line_crossing.direction == 1 else "out"
            per_camera[(env.site_id, env.camera_id)][f"{env.line_crossing.line_id} {direction}"] += 1
    if not args.json:
        table = Table(title=f"{args.topic}: envelopes per camera")
        for col in ("site", "camera", "events"):
            table.add_column(col)
        for (site, camera), counts in sorted(per_camera.items()):
            table.add_row(site, camera, ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
        Console().print(table)
    if invalid:
        print(f"{invalid} record(s) are not valid envelopes", file=sys.stderr)
    return 0
