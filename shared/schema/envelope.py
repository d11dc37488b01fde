"""Encode and decode :class:`Envelope` messages with the checks every consumer needs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from google.protobuf.message import DecodeError
from numpy.typing import NDArray

from shared.schema.v1 import events_pb2 as pb

SCHEMA_VERSION = 1
SUPPORTED_VERSIONS = frozenset({1})
# Largest envelope a producer may write; real ones are < 2 KiB (an embedding is 1 KiB).
MAX_ENVELOPE_BYTES = 64 * 1024


class EnvelopeError(ValueError):
    """A message that cannot be processed; `reason` is a short machine-friendly code."""

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")


def decode_envelope(data: bytes) -> pb.Envelope:
    """Parse and validate one envelope; raise EnvelopeError naming what is wrong."""
    if len(data) > MAX_ENVELOPE_BYTES:
        raise EnvelopeError("too_large", f"{len(data)} bytes exceeds the {MAX_ENVELOPE_BYTES}-byte limit")
    env = pb.Envelope()
    try:
        env.ParseFromString(data)
    except DecodeError as exc:
        raise EnvelopeError("malformed", f"not a mallflow.v1.Envelope protobuf ({exc})") from None
    if env.schema_version not in SUPPORTED_VERSIONS:
        raise EnvelopeError(
            "unsupported_version",
            f"schema_version {env.schema_version} is not one of {sorted(SUPPORTED_VERSIONS)}",
        )
    if not env.site_id or not env.camera_id:
        raise EnvelopeError("missing_ids", "site_id and camera_id are required")
    if env.seq == 0:
        raise EnvelopeError("missing_seq", "seq must be >= 1 (it is the idempotency key)")
    if env.event_time_ns <= 0:
        raise EnvelopeError("bad_time", f"event_time_ns {env.event_time_ns} is not a positive epoch time")
    if env.WhichOneof("payload") is None:
        raise EnvelopeError("no_payload", "the envelope carries no payload (unknown newer type?)")
    return env


_from_string = pb.Envelope.FromString


def parse_envelopes(values: Sequence[bytes]) -> list[pb.Envelope] | None:
    """Every value parsed in one C iteration, without decode_envelope's field checks; None
    when one is too large or not an Envelope."""
    if values and max(map(len, values)) > MAX_ENVELOPE_BYTES:
        return None
    try:
        return list(map(_from_string, values))
    except DecodeError:
        return None


def pack_embedding(vector: NDArray[np.floating], model_id: str, quality: float, samples: int = 1) -> pb.Embedding:
    """L2-normalise and pack a vector as little-endian float16."""
    v = np.asarray(vector, dtype=np.float32).ravel()
    norm = float(np.linalg.norm(v))
    if norm == 0 or not np.isfinite(norm):
        raise ValueError("cannot pack a zero or non-finite embedding")
    data = (v / norm).astype("<f2").tobytes()
    return pb.Embedding(vector_f16=data, dim=v.size, model_id=model_id, quality=quality, samples=samples)


def unpack_embedding(emb: pb.Embedding) -> NDArray[np.float32]:
    if len(emb.vector_f16) != 2 * emb.dim:
        raise EnvelopeError("bad_embedding", f"embedding says dim={emb.dim} but carries {len(emb.vector_f16)} bytes")
    return np.frombuffer(emb.vector_f16, dtype="<f2").astype(np.float32)
