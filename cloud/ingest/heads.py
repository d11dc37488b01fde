"""The fields of an envelope that validation and the applier both read, read once per batch.

Each read of an upb message's field is a C call building a fresh Python object, and each
pass over a batch of freshly parsed messages walks memory the cache no longer holds; at
tens of thousands of events a second those reads are a large part of the consumer's own
time. Validation reads them once into heads, and the applier takes the heads as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter, methodcaller
from typing import Any, cast

from shared.schema import pb

# site_id, camera_id, seq, event_time_ns, envelope, payload kind, payload
Head = tuple[str, str, int, int, pb.Envelope, str, Any]

_fields = attrgetter("site_id", "camera_id", "seq", "event_time_ns")
_payload_kind = methodcaller("WhichOneof", "payload")


def payload_kinds(envelopes: Sequence[pb.Envelope]) -> list[str | None]:
    return list(map(_payload_kind, envelopes))


def read_heads(envelopes: Sequence[pb.Envelope], kinds: Sequence[str | None] | None = None) -> list[Head]:
    """One head per envelope, in order: C iterations, no Python step per envelope. `kinds`:
    the envelopes' payload kinds where the caller has read them."""
    if not envelopes:
        return []
    kinds = payload_kinds(envelopes) if kinds is None else kinds
    if None in kinds:
        raise ValueError("an envelope has no payload (decoding refuses those: decode_envelope)")
    sites, cameras, seqs, times = zip(*map(_fields, envelopes), strict=True)
    payloads = map(getattr, envelopes, cast(Sequence[str], kinds))
    return list(zip(sites, cameras, seqs, times, envelopes, kinds, payloads, strict=True))
