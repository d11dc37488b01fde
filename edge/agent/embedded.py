"""The edge half of `mallflow demo`: every camera of the site, to a handler or to Kafka."""

from __future__ import annotations

from edge.agent.assemble import AgentOptions, agent_dir, assemble_agent, enabled_cameras, kafka_sink
from edge.publish.memory_sink import InProcessSink
from shared.config import load_site_config
from shared.embedded import DemoOptions, EdgeHalf, EnvelopeHandler


class EdgeDemoHalf(EdgeHalf):
    def run(self, options: DemoOptions, handler: EnvelopeHandler | None) -> list[str]:
        site = load_site_config(options.config)
        root = agent_dir(site.site.id, options.edge_id)
        sink = InProcessSink(handler) if handler is not None else kafka_sink(options.bootstrap, root / "spool")
        agent = assemble_agent(
            site,
            enabled_cameras(site, [], options.config),
            sink,
            AgentOptions(edge_id=options.edge_id, state_dir=options.state_dir or root / "state"),
        )
        try:
            reports = agent.run()
        finally:
            sink.close(timeout_s=30.0)
        return [r.describe() for r in reports]
