"""The flat checks in front of the storable-values walk never let through what the walk refuses.

Every checked field of every payload type (envelope fields and submessages included) is
set, one at a time, to a value over its limit, a string with a NUL, and a value right at
its limit; check_storable must answer exactly as the walk does, and the batch-wide
all_storable must never pass a batch holding a refused one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cloud.consumer.storable import _MAP, _MESSAGE, _UNSIGNED, _plan, _storable, all_storable, check_storable
from cloud.ingest.heads import read_heads
from shared.schema import pb
from shared.schema.envelope import EnvelopeError

_PAYLOADS = [f.name for f in pb.Envelope.DESCRIPTOR.oneofs_by_name["payload"].fields]


def _all_storable(envs: list[pb.Envelope]) -> bool:
    return all_storable(envs, read_heads(envs))


def _checked(descriptor: Any, prefix: str = "") -> Iterator[tuple[str, int, int]]:
    for name, (kind, limit) in _plan(descriptor).items():
        if kind == _MESSAGE:
            yield from _checked(descriptor.fields_by_name[name].message_type, f"{prefix}{name}.")
        elif kind != _MAP:
            yield f"{prefix}{name}", kind, limit


def _cases() -> Iterator[tuple[str, str, object, bool]]:
    envelope = pb.Envelope.DESCRIPTOR
    for payload in envelope.oneofs_by_name["payload"].fields:
        if payload.name not in _plan(envelope):
            continue  # nothing of it is stored: test_values_no_column_holds_are_not_refused
        for path, kind, limit in _checked(payload.message_type, f"{payload.name}."):
            yield from ((payload.name, path, *v) for v in _values(kind, limit))
        for name, (kind, limit) in _plan(envelope).items():
            if kind not in (_MESSAGE, _MAP):
                yield from ((payload.name, name, *v) for v in _values(kind, limit))


def _values(kind: int, limit: int) -> list[tuple[object, bool]]:
    """(value, refused?) pairs."""
    if kind == _UNSIGNED:
        return [(limit, False), (limit + 1, True)]
    if limit:
        return [("a" * limit, False), ("a" * (limit + 1), True), ("a\x00", True)]
    return [("x" * 600, False), ("a\x00", True)]


def _verdict(check: Any, env: pb.Envelope) -> str | None:
    try:
        check(env)
    except EnvelopeError as exc:
        return f"{exc.reason}: {exc.detail}"
    return None


@pytest.mark.parametrize(("payload", "path", "value", "refused"), list(_cases()))
def test_flat_check_agrees_with_the_walk(payload: str, path: str, value: object, refused: bool) -> None:
    env = pb.Envelope(schema_version=1, site_id="s", camera_id="c", edge_id="e", seq=1, event_time_ns=1)
    getattr(env, payload).SetInParent()
    *parents, name = path.split(".")
    msg: Any = env
    for p in parents:
        msg = getattr(msg, p)
    setattr(msg, name, value)
    verdict = _verdict(check_storable, env)
    assert verdict == _verdict(_storable, env)
    assert (verdict is not None) == refused
    # In a batch of good envelopes of every type, the batch-wide check (conservative: it may
    # doubt a value right at its limit) never passes a refused one.
    good = [pb.Envelope(schema_version=1, site_id="s", camera_id="c", seq=1, event_time_ns=1) for _ in _PAYLOADS]
    for other, kind in zip(good, _PAYLOADS, strict=True):
        getattr(other, kind).SetInParent()
    assert _all_storable(good)
    if refused:
        assert not _all_storable([*good, env])
    elif isinstance(value, int):
        # Unsigned values are held against their own limit: a large seq is no doubt.
        assert _all_storable([*good, env])


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("schema_version", 2**32 - 1),
        ("track_update.track_id", 2**64 - 1),
        ("track_update.floor_id", "f" * 500),
        ("track_update.floor_id", "f\x00"),
        ("track_update.embedding.model_id", "m" * 500),
    ],
)
def test_values_no_column_holds_are_not_refused(path: str, value: object) -> None:
    """A track update only adds its floor point's seconds to a heatmap cell and the schema
    version is never stored (validation holds it against the supported ones): a value no
    column could hold there is no reason to dead-letter the event."""
    env = pb.Envelope(schema_version=1, site_id="s", camera_id="c", edge_id="e", seq=1, event_time_ns=1)
    env.track_update.SetInParent()
    *parents, name = path.split(".")
    msg: Any = env
    for p in parents:
        msg = getattr(msg, p)
    setattr(msg, name, value)
    assert _verdict(check_storable, env) is None
    assert _verdict(_storable, env) is None
    assert _all_storable([env])
