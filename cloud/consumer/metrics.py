"""Prometheus metrics of the consumer service."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram


class ConsumerMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.applied = Counter("mallflow_cloud_events_applied_total", "Envelopes applied", ["type"], registry=registry)
        self.duplicates = Counter(
            "mallflow_cloud_events_duplicate_total", "Redelivered envelopes recognised by seq", registry=registry
        )
        self.rejected = Counter(
            "mallflow_cloud_events_rejected_total",
            "Messages sent to the dead-letter topic",
            ["reason"],
            registry=registry,
        )
        self.batch_seconds = Histogram(
            "mallflow_cloud_batch_seconds", "Time to apply and commit one batch", registry=registry
        )
        self.lag_seconds = Gauge(
            "mallflow_cloud_event_lag_seconds", "Capture-to-commit delay of the newest event applied", registry=registry
        )
        self.db_errors = Counter(
            "mallflow_cloud_db_errors_total",
            "Batches rolled back and retried after a database error",
            registry=registry,
        )
