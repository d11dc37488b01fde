"""The cloud half of `mallflow demo`: ingest in process or from Kafka, report, serve."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from sqlalchemy import Engine

from cloud.analytics.buckets import TimeRange
from cloud.api.auth import KeyRing, Role
from cloud.api.settings import ApiSettings
from cloud.hooks import batch_hooks
from cloud.ingest.in_process import InProcessIngest
from cloud.ingest.registry import SiteRegistry
from cloud.storage import create_db_engine, session_factory, upgrade
from cloud.storage.sites import clear_site_data, sync_sites
from shared.config import load_site_config
from shared.embedded import CloudHalf, DemoOptions, EnvelopeHandler


class CloudDemoHalf(CloudHalf):
    def __init__(self) -> None:
        self._prepared: dict[DemoOptions, tuple[SiteRegistry, Engine]] = {}

    def _prepare(self, options: DemoOptions) -> tuple[SiteRegistry, Engine]:
        """The site loaded, the database migrated and told about it: once per options."""
        if options not in self._prepared:
            registry = SiteRegistry([load_site_config(options.config)])
            upgrade(options.db_url)
            engine = create_db_engine(options.db_url)
            with session_factory(engine).begin() as session:
                sync_sites(session, registry.sites())
            self._prepared[options] = (registry, engine)
        return self._prepared[options]

    def reset(self, options: DemoOptions) -> None:
        registry, engine = self._prepare(options)
        with session_factory(engine).begin() as session:
            for site in registry.sites():
                clear_site_data(session, site.site.id)

    def ingest(self, options: DemoOptions) -> AbstractContextManager[EnvelopeHandler]:
        return self._ingest(options)

    @contextmanager
    def _ingest(self, options: DemoOptions) -> Iterator[EnvelopeHandler]:
        registry, engine = self._prepare(options)
        with InProcessIngest(registry, engine, hooks=batch_hooks(registry)) as ingest:
            yield ingest
        rejected = ", ".join(f"{k}={v}" for k, v in sorted(ingest.rejected.items())) or "none rejected"
        print(f"[demo] cloud: applied {ingest.applied} events in {ingest.batches} batches, {rejected}")

    def consume(self, options: DemoOptions, idle_exit_s: float) -> str:
        from cloud.consumer.service import ConsumerService
        from cloud.consumer.settings import ConsumerSettings
        from shared.messaging.settings import KafkaSettings

        registry, engine = self._prepare(options)
        service = ConsumerService(
            registry,
            engine,
            KafkaSettings.from_env(options.bootstrap),
            ConsumerSettings(group_id="mallflow-demo"),
            hooks=batch_hooks(registry),
        )
        service.run(idle_exit_s=idle_exit_s)
        return f"applied {service.applied} events in {service.batches} batches, {service.rejected} rejected"

    def summary(self, options: DemoOptions, start_ns: int, end_ns: int) -> None:
        from cloud.cli.report_cmd import print_site_report

        registry, engine = self._prepare(options)
        with session_factory(engine)() as session:
            for site in registry.sites():
                print_site_report(session, site, TimeRange(start_ns, end_ns), f"{site.site.id}: this demo run")

    def serve(self, options: DemoOptions, host: str, port: int, api_key: str | None) -> None:
        from cloud.api.server import serve

        keys = KeyRing.parse(f"{Role.ADMIN.value}:{api_key}") if api_key else KeyRing()
        serve(options.db_url, host, port, ApiSettings(keys=keys, anonymous_read=not keys))
