"""Prometheus metrics of event delivery: is the broker reachable, and is anything being lost."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge


@dataclass(frozen=True)
class PublishMetrics:
    sent: Counter
    spooled: Counter
    dropped: Counter
    spool_bytes: Gauge
    broker_connected: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry = REGISTRY) -> PublishMetrics:
        """Register the metrics; a registry holds them once, so tests pass private registries."""
        return cls(
            sent=Counter(
                "mallflow_publish_events_sent", "Events acknowledged by the Kafka broker (acks=all).", registry=registry
            ),
            spooled=Counter(
                "mallflow_publish_events_spooled",
                "Events written to the on-disk spool because the broker was unavailable.",
                registry=registry,
            ),
            dropped=Counter(
                "mallflow_publish_events_dropped",
                "Events lost on purpose: the bounded spool or send queue overflowed.",
                registry=registry,
            ),
            spool_bytes=Gauge("mallflow_publish_spool_bytes", "Bytes the on-disk spool occupies.", registry=registry),
            broker_connected=Gauge(
                "mallflow_publish_broker_connected",
                "1 while events go to the broker, 0 while they go to the spool.",
                registry=registry,
            ),
        )
