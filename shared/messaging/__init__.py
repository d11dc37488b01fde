"""Kafka connection settings and topic administration shared by edge and cloud."""

from shared.messaging.admin import ensure_topics
from shared.messaging.settings import KafkaSettings

__all__ = ["KafkaSettings", "ensure_topics"]
