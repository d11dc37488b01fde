"""The cloud half of `mallflow demo`: ingest in process or from Kafka, report, serve."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

from cloud.analytics.buckets import TimeRange
from cloud.api.auth import KeyRing, Role
from cloud.api.settings import ApiSettings
from cloud.ingest.in_process import InProcessIngest
from cloud.ingest.registry import SiteRegistry
from cloud.stitching.hook import StitchingHook
from cloud.storage import create_db_engine, session_factory, upgrade
from cloud.storage.sites import clear_site_data, sync_sites
from shared.config import load_site_config
from shared.embedded import CloudHalf, DemoOptions, EnvelopeHandler


def _prepare(options: DemoOptions) -> SiteRegistry:
    registry = SiteRegistry([load_site_config(options.config)])
    upgrade(options.db_url)
    with session_factory(create_db_engine(options.db_url)).begin() as session:
        sync_sites(session, registry.sites())
    return registry


class CloudDemoHalf(CloudHalf):
    def reset(self, options: DemoOptions) -> None:
        site_id = _prepare(options).sites()[0].site.id
        with session_factory(create_db_engine(options.db_url)).begin() as session:
            clear_site_data(session, site_id)

    def ingest(self, options: DemoOptions) -> AbstractContextManager[EnvelopeHandler]:
        return self._ingest(options)

    @contextmanager
    def _ingest(self, options: DemoOptions) -> Iterator[EnvelopeHandler]:
        registry = _prepare(options)
        with InProcessIngest(registry, create_db_engine(options.db_url), hooks=[StitchingHook(registry)]) as ingest:
            yield ingest
        rejected = ", ".join(f"{k}={v}" for k, v in sorted(ingest.rejected.items())) or "none rejected"
        print(f"[demo] cloud: applied {ingest.applied} events in {ingest.batches} batches, {rejected}")

    def consume(self, options: DemoOptions, idle_exit_s: float) -> str:
        from cloud.consumer.service import ConsumerService
        from cloud.consumer.settings import ConsumerSettings
        from shared.messaging.settings import KafkaSettings

        registry = _prepare(options)
        service = ConsumerService(
            registry,
            create_db_engine(options.db_url),
            KafkaSettings.from_env(options.bootstrap),
            ConsumerSettings(group_id="mallflow-demo"),
            hooks=[StitchingHook(registry)],
        )
        service.run(idle_exit_s=idle_exit_s)
        return f"applied {service.applied} events in {service.batches} batches, {service.rejected} rejected"

    def summary(self, options: DemoOptions, start_ns: int, end_ns: int) -> None:
        from cloud.cli.report_cmd import print_site_report

        site = load_site_config(options.config)
        with session_factory(create_db_engine(options.db_url))() as session:
            print_site_report(session, site, TimeRange(start_ns, end_ns), f"{site.site.id}: this demo run")

    def serve(self, options: DemoOptions, host: str, port: int, api_key: str | None) -> None:
        from cloud.api.server import serve

        keys = KeyRing.parse(f"{Role.ADMIN.value}:{api_key}") if api_key else KeyRing()
        serve(options.db_url, host, port, ApiSettings(keys=keys, anonymous_read=not keys))
