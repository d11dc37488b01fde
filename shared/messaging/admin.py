"""Create Mallflow's topics with explicit partition counts (idempotent)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from shared.messaging.settings import KafkaSettings
from shared.schema.topics import DEFAULT_TOPICS, TopicSpec

log = logging.getLogger(__name__)


def ensure_topics(settings: KafkaSettings, topics: Iterable[TopicSpec] = DEFAULT_TOPICS) -> list[str]:
    """Create the topics that do not exist yet; return the names created."""
    admin = KafkaAdminClient(**settings.client_kwargs(), request_timeout_ms=30_000)
    try:
        existing = set(admin.list_topics())
        missing = [t for t in topics if t.name not in existing]
        created = []
        for spec in missing:
            topic = NewTopic(
                name=spec.name,
                num_partitions=spec.partitions,
                replication_factor=1,
                topic_configs={"retention.ms": str(spec.retention_ms)},
            )
            try:
                admin.create_topics([topic])
                created.append(spec.name)
                log.info("created topic %s with %d partitions", spec.name, spec.partitions)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        admin.close()
