"""Publishing: analytics → protobuf envelopes → Kafka (or in process), at least once, with a disk spool."""

from edge.publish.delivery import DeliverySettings
from edge.publish.envelopes import EnvelopeFactory
from edge.publish.kafka_sink import KafkaSink
from edge.publish.memory_sink import InProcessSink
from edge.publish.metrics import PublishMetrics
from edge.publish.sequence import SequenceCounter
from edge.publish.sink import EventSink, SinkStats
from edge.publish.spool import DiskSpool, SpoolBatch, SpoolPosition, SpoolStats
from edge.publish.summary import Appearance, TrackSummary
from edge.publish.update_rate import UpdateThrottle

__all__ = [
    "Appearance",
    "DeliverySettings",
    "DiskSpool",
    "EnvelopeFactory",
    "EventSink",
    "InProcessSink",
    "KafkaSink",
    "PublishMetrics",
    "SequenceCounter",
    "SinkStats",
    "SpoolBatch",
    "SpoolPosition",
    "SpoolStats",
    "TrackSummary",
    "UpdateThrottle",
]
