"""The edge half of `mallflow demo`: every camera of the site, to a handler or to Kafka."""

from __future__ import annotations

from edge.agent.assemble import AgentOptions, assemble_agent, enabled_cameras
from edge.publish.memory_sink import InProcessSink
from edge.publish.sink import EventSink
from shared.config import load_site_config
from shared.embedded import DemoOptions, EdgeHalf, EnvelopeHandler
from shared.paths import cache_dir


class EdgeDemoHalf(EdgeHalf):
    def run(self, options: DemoOptions, handler: EnvelopeHandler | None) -> list[str]:
        site = load_site_config(options.config)
        sink: EventSink
        if handler is not None:
            sink = InProcessSink(handler)
        else:
            from edge.publish.delivery import DeliverySettings
            from edge.publish.kafka_sink import KafkaSink
            from shared.messaging.settings import KafkaSettings

            spool = cache_dir() / "edge" / site.site.id / options.edge_id / "spool"
            sink = KafkaSink(KafkaSettings.from_env(options.bootstrap), delivery=DeliverySettings(spool_dir=spool))
        agent = assemble_agent(
            site,
            enabled_cameras(site, [], options.config),
            sink,
            AgentOptions(edge_id=options.edge_id, state_dir=options.state_dir),
        )
        try:
            reports = agent.run()
        finally:
            sink.close(timeout_s=30.0)
        return [r.describe() for r in reports]
