"""Encode and decode :class:`Envelope` messages with the checks every consumer needs."""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter, methodcaller

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


_schema_version = attrgetter("schema_version")
_site_id = attrgetter("site_id")
_camera_id = attrgetter("camera_id")
_seq = attrgetter("seq")
_event_time_ns = attrgetter("event_time_ns")
_payload = methodcaller("WhichOneof", "payload")


def _all_sound(envs: list[pb.Envelope]) -> bool:
    """decode_envelope's field checks, each run once over a batch (C iterators)."""
    return (
        set(map(_schema_version, envs)) <= SUPPORTED_VERSIONS
        and all(map(_site_id, envs))
        and all(map(_camera_id, envs))
        and all(map(_seq, envs))
        and min(map(_event_time_ns, envs)) > 0
        and all(map(_payload, envs))
    )


def decode_envelopes(values: Sequence[bytes]) -> list[pb.Envelope | EnvelopeError]:
    """decode_envelope of each value, in order, the envelope or its error: parsed one by one,
    the field checks run once over the batch; a batch with an unsound envelope is decoded
    again message by message, to name it and what is wrong."""
    envs: list[pb.Envelope] = []
    for data in values:
        env = pb.Envelope()
        try:
            if len(data) > MAX_ENVELOPE_BYTES:
                raise DecodeError("too large")
            env.ParseFromString(data)
        except DecodeError:
            return [_decoded_or_error(v) for v in values]
        envs.append(env)
    if envs and not _all_sound(envs):
        return [_decoded_or_error(v) for v in values]
    return [*envs]


def _decoded_or_error(data: bytes) -> pb.Envelope | EnvelopeError:
    try:
        return decode_envelope(data)
    except EnvelopeError as exc:
        return exc


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
