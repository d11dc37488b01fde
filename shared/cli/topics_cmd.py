"""`mallflow topics create`"""

from __future__ import annotations

import argparse

from shared.messaging import KafkaSettings, ensure_topics
from shared.schema.topics import DEFAULT_TOPICS


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("topics", help="manage Mallflow's Kafka topics")
    tsub = p.add_subparsers(dest="topics_command", required=True)
    c = tsub.add_parser("create", help="create missing topics with their partition counts")
    c.add_argument("--bootstrap", default=None, help="host:port[,host:port] (default MALLFLOW_KAFKA_BOOTSTRAP_SERVERS)")
    c.set_defaults(handler=_create)


def _create(args: argparse.Namespace) -> int:
    created = ensure_topics(KafkaSettings.from_env(args.bootstrap))
    for spec in DEFAULT_TOPICS:
        state = "created" if spec.name in created else "exists"
        print(f"{spec.name}: {state} ({spec.partitions} partitions)")
    return 0
