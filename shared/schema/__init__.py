"""Wire schema: generated protobuf bindings (v1/), envelope codec, topics, compatibility check."""

from shared.schema.envelope import (
    MAX_ENVELOPE_BYTES,
    SCHEMA_VERSION,
    EnvelopeError,
    decode_envelope,
    pack_embedding,
    unpack_embedding,
)
from shared.schema.topics import ALERTS_TOPIC, DEAD_LETTER_TOPIC, EVENTS_TOPIC, TYPE_HEADER, partition_key
from shared.schema.v1 import events_pb2 as pb

__all__ = [
    "ALERTS_TOPIC",
    "DEAD_LETTER_TOPIC",
    "EVENTS_TOPIC",
    "MAX_ENVELOPE_BYTES",
    "SCHEMA_VERSION",
    "TYPE_HEADER",
    "EnvelopeError",
    "decode_envelope",
    "pack_embedding",
    "partition_key",
    "pb",
    "unpack_embedding",
]
