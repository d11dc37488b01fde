"""`mallflow cloud run --config SITE.yaml ...`: the consumer service."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from cloud.cli import report_cmd
from cloud.consumer.settings import ConsumerSettings
from shared.cli.numbers import seconds

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from cloud.capacity.dispatch import OccupancyAlertDispatcher
    from cloud.galleries.alerts import AlertDispatcher, KafkaAlertPublisher
    from cloud.ingest.registry import SiteRegistry
    from shared.messaging.settings import KafkaSettings

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("cloud", help="cloud services (Kafka → stitching/analytics → database)")
    csub = p.add_subparsers(dest="cloud_command", required=True)
    r = csub.add_parser("run", help="consume events of the configured sites into the database")
    r.add_argument("--config", action="append", required=True, type=Path, help="site YAML (repeatable)")
    r.add_argument("--bootstrap", default=None, help="Kafka bootstrap servers (default: MALLFLOW_KAFKA_* settings)")
    r.add_argument("--db", default=None, help="SQLAlchemy URL (default MALLFLOW_DB_URL or the embedded SQLite)")
    r.add_argument("--group", default="mallflow-cloud", help="consumer group id")
    r.add_argument("--topic", default=None, help="events topic (default: mallflow.events.v1)")
    r.add_argument("--max-batch", type=int, default=ConsumerSettings.max_batch, help="records per transaction at most")
    r.add_argument("--session-timeout-ms", type=int, default=10_000, help="how soon a dead consumer is replaced")
    r.add_argument("--metrics-port", type=int, default=9109, help="Prometheus /metrics port (0: off)")
    r.add_argument("--idle-exit", type=seconds, default=None, help="stop after this many seconds without events")
    r.add_argument("--alerts-topic", default=None, help="VIP and capacity alerts topic (default: mallflow.alerts.v1)")
    r.set_defaults(handler=_run)
    report_cmd.add_parser(csub)


def _run(args: argparse.Namespace) -> int:
    from prometheus_client import start_http_server

    from cloud.consumer.collector import tune_for_batches
    from cloud.consumer.metrics import ConsumerMetrics
    from cloud.consumer.service import ConsumerService
    from cloud.hooks import batch_hooks
    from cloud.ingest.registry import SiteRegistry
    from cloud.storage import create_db_engine, session_factory, upgrade
    from cloud.storage.migrate import startup_lock
    from cloud.storage.sites import sync_sites
    from shared.config import load_site_config
    from shared.messaging.settings import KafkaSettings
    from shared.schema.topics import EVENTS_TOPIC

    registry = SiteRegistry(load_site_config(path) for path in args.config)
    engine = create_db_engine(args.db)
    with startup_lock(args.db):
        upgrade(args.db)
        with session_factory(engine).begin() as session:
            sync_sites(session, registry.sites())
    if args.metrics_port:
        start_http_server(args.metrics_port, addr="127.0.0.1")
    kafka = KafkaSettings.from_env(args.bootstrap)
    service = ConsumerService(
        registry,
        engine,
        kafka,
        ConsumerSettings(
            group_id=args.group,
            topic=args.topic or EVENTS_TOPIC,
            max_batch=args.max_batch,
            session_timeout_ms=args.session_timeout_ms,
        ),
        ConsumerMetrics(),
        hooks=batch_hooks(registry),
    )

    def shutdown(signum: int, _frame: FrameType | None) -> None:
        log.warning("signal %d: finishing the current batch", signum)
        service.stop.set()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    publisher, dispatchers = _alert_dispatchers(registry, engine, kafka, args.alerts_topic)
    for dispatcher in dispatchers:
        threading.Thread(target=dispatcher.run, name=type(dispatcher).__name__, daemon=True).start()
    tune_for_batches()
    try:
        service.run(idle_exit_s=args.idle_exit)
    finally:
        for dispatcher in dispatchers:
            # One last round, so alerts of the final batch leave before the process does.
            dispatcher.stop.set()
            try:
                dispatcher.deliver_once()
            except Exception:  # the outbox keeps them for the next run; the other outboxes still get their round
                log.exception("last alert delivery round failed")
        if publisher is not None:
            publisher.close()
    print(f"applied {service.applied} events in {service.batches} batches, {service.rejected} rejected")
    return 0


def _alert_dispatchers(
    registry: SiteRegistry, engine: Engine, kafka: KafkaSettings, topic: str | None
) -> tuple[KafkaAlertPublisher | None, list[AlertDispatcher | OccupancyAlertDispatcher]]:
    """The alert outboxes' dispatchers, sharing one producer: VIP alerts when some site has a vip
    gallery, occupancy alerts when some site has a capacity."""
    from cloud.capacity.dispatch import OccupancyAlertDispatcher
    from cloud.galleries.alerts import AlertDispatcher, KafkaAlertPublisher
    from shared.config.site import GalleryPurpose
    from shared.schema.topics import ALERTS_TOPIC

    sites = registry.sites()
    vip = any(g.purpose is GalleryPurpose.VIP for site in sites for g in site.galleries)
    capacity = any(site.capacity.has_limits for site in sites)
    if not (vip or capacity):
        return None, []
    publisher = KafkaAlertPublisher(kafka, topic or ALERTS_TOPIC)
    dispatchers: list[AlertDispatcher | OccupancyAlertDispatcher] = []
    if vip:
        dispatchers.append(AlertDispatcher(registry, engine, publisher))
    if capacity:
        dispatchers.append(OccupancyAlertDispatcher(engine, publisher))
    return publisher, dispatchers
