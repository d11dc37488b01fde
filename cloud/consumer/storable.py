"""Values the database can store: checked per field against the columns (cloud/storage/models.py).

Two passes. The exact walk (`_storable`) follows every set field and names what is wrong.
In front of it a flat check per message type reads all fields of one limit in a single
C call (operator.attrgetter) and only says yes or no: a good message (nearly all) costs a
few calls instead of a Python loop over its fields, and a bad one gets the exact walk.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter, methodcaller
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from shared.schema import pb
from shared.schema.envelope import EnvelopeError

# What the columns hold (cloud/storage/models.py): BIGINT and INTEGER are signed, text
# columns have lengths, and PostgreSQL text cannot hold NUL. A message the database would
# refuse must go to the dead-letter topic, not stall the partition on a failing batch.
_MAX_UNSIGNED = {FieldDescriptor.TYPE_UINT64: 2**63 - 1, FieldDescriptor.TYPE_UINT32: 2**31 - 1}
_MAX_TEXT = {"site_id": 64, "camera_id": 64, "edge_id": 128, "line_id": 64, "zone_id": 64, "floor_id": 64}
_MAX_TEXT_DEFAULT = 128


# How each field of each message type is checked, worked out once per type: reflection per
# message would cost more than the rest of validation.
_MESSAGE, _MAP, _UNSIGNED, _TEXT, _FREE_TEXT = range(5)
_plans: dict[str, dict[str, tuple[int, int]]] = {}


def _plan(descriptor: Any) -> dict[str, tuple[int, int]]:
    plan = _plans.get(descriptor.full_name)
    if plan is None:
        plan = {}
        for field in descriptor.fields:
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                if field.message_type.GetOptions().map_entry:
                    plan[field.name] = (_MAP, 0)
                elif _plan(field.message_type):
                    # Boxes and points hold only floats: nothing in them to check.
                    plan[field.name] = (_MESSAGE, 0)
            elif field.type in _MAX_UNSIGNED:
                plan[field.name] = (_UNSIGNED, _MAX_UNSIGNED[field.type])
            elif field.type == FieldDescriptor.TYPE_STRING:
                # A status message is free text: only NUL is refused (it is cut to its column).
                limit = _MAX_TEXT.get(field.name, _MAX_TEXT_DEFAULT)
                plan[field.name] = (_FREE_TEXT, 0) if field.name == "message" else (_TEXT, limit)
        _plans[descriptor.full_name] = plan
    return plan


def _storable(msg: Message, path: str = "") -> None:
    plan = _plan(msg.DESCRIPTOR)
    for field, value in msg.ListFields():
        kind, limit = plan.get(field.name, (-1, 0))
        if kind == _MESSAGE:
            _storable(value, f"{path}{field.name}.")
        elif kind == _UNSIGNED and value > limit:
            raise EnvelopeError("out_of_range", f"{path}{field.name} = {value} exceeds {limit}")
        elif kind == _TEXT and (len(value) > limit or "\x00" in value):
            _text(f"{path}{field.name}", value, limit)
        elif kind == _FREE_TEXT and "\x00" in value:
            raise EnvelopeError("bad_text", f"{path}{field.name} contains a NUL character")
        elif kind == _MAP:
            for key, item in value.items():
                _text(f"{path}{field.name}[{key!r}]", key, _MAX_TEXT_DEFAULT)
                _text(f"{path}{field.name}[{key!r}]", item, _MAX_TEXT_DEFAULT)


def _text(name: str, value: str, limit: int) -> None:
    if "\x00" in value:
        raise EnvelopeError("bad_text", f"{name} contains a NUL character")
    if len(value) > limit:
        raise EnvelopeError("too_long", f"{name} is {len(value)} characters, more than {limit}")


@dataclass(frozen=True)
class _Flat:
    """A conservative check of one payload type and its envelope in a few C calls: the
    unsigned values per limit (a seq past 2**31 must not send every batch to the exact
    check), every text against the smallest text limit (an edge id of 65-128 characters
    does), no NUL in any. A submessage with checks of its own (an embedding) sends the
    message to the walk when it is set; so does a type with free text or a map."""

    # Per unsigned limit: the envelope's values, the payload's values, the limit.
    unsigned: tuple[tuple[Callable[[Any], tuple[int, ...]], Callable[[Any], tuple[int, ...]], int], ...]
    envelope_text: Callable[[Any], tuple[str, ...]]
    payload_text: Callable[[Any], tuple[str, ...]]
    text_limit: int
    nested: tuple[str, ...]

    def ok(self, env: pb.Envelope, payload: Any) -> bool:
        for envelope_values, payload_values, limit in self.unsigned:
            if max(envelope_values(env) + payload_values(payload), default=0) > limit:
                return False
        values = self.envelope_text(env) + self.payload_text(payload)
        if max(map(len, values)) > self.text_limit or "\x00" in "".join(values):
            return False
        return not any(map(payload.HasField, self.nested))


def _getter(names: list[str]) -> Callable[[Any], Any]:
    if not names:
        return lambda msg: ()
    # A one-name attrgetter returns the value, not a tuple: ask for the first name twice.
    return attrgetter(*names, names[0])


def _flat(own: list[tuple[str, int, int]], payload: Any) -> _Flat | None:
    checks = []
    nested = []
    for field, (kind, limit) in _plan(payload).items():
        if kind in (_MAP, _FREE_TEXT):
            return None
        if kind == _MESSAGE:
            nested.append(field)
        else:
            checks.append((field, kind, limit))
    limits = sorted({lim for _, kind, lim in own + checks if kind == _UNSIGNED})
    return _Flat(
        tuple(
            (
                _getter([n for n, kind, lim in own if kind == _UNSIGNED and lim == limit]),
                _getter([n for n, kind, lim in checks if kind == _UNSIGNED and lim == limit]),
                limit,
            )
            for limit in limits
        ),
        _getter([n for n, kind, _ in own if kind == _TEXT]),
        _getter([n for n, kind, _ in checks if kind == _TEXT]),
        min(lim for _, kind, lim in own + checks if kind == _TEXT),
        tuple(nested),
    )


def _flat_checks() -> dict[str, _Flat]:
    """Per payload type, its flat check (types holding a map are left to the walk)."""
    descriptor = pb.Envelope.DESCRIPTOR
    payloads = {f.name: f for f in descriptor.oneofs_by_name["payload"].fields}
    own = [(name, kind, limit) for name, (kind, limit) in _plan(descriptor).items() if name not in payloads]
    assert all(kind in (_UNSIGNED, _TEXT) for _, kind, _ in own)
    out = {}
    for name, field in payloads.items():
        flat = _flat(own, field.message_type)
        if flat is not None:
            out[name] = flat
    return out


_FLAT = _flat_checks()


def check_storable(env: pb.Envelope) -> None:
    """Raise EnvelopeError(reason, detail) for the first value the database could not store."""
    kind = env.WhichOneof("payload")
    flat = _FLAT.get(kind) if kind else None
    if flat is None or not flat.ok(env, getattr(env, kind)):
        _storable(env)


_payload_kind = methodcaller("WhichOneof", "payload")


def all_storable(envs: Sequence[pb.Envelope]) -> bool:
    """True when check_storable surely passes every envelope; False when one may fail (the
    caller then checks them one by one). The flat checks run once over each payload type's
    envelopes of the batch (C iterators, no Python step per envelope), the walk only where a
    submessage with checks is set or the type has no flat check."""
    by_kind: defaultdict[str, list[pb.Envelope]] = defaultdict(list)
    for env, kind in zip(envs, map(_payload_kind, envs), strict=True):
        by_kind[kind].append(env)
    walk: list[pb.Envelope] = []
    for kind, group in by_kind.items():
        flat = _FLAT.get(kind)
        if flat is None:
            walk += group
            continue
        payloads = list(map(attrgetter(kind), group))
        for envelope_values, payload_values, limit in flat.unsigned:
            unsigned = chain(
                chain.from_iterable(map(envelope_values, group)), chain.from_iterable(map(payload_values, payloads))
            )
            if max(unsigned, default=0) > limit:
                return False
        texts = list(
            chain(
                chain.from_iterable(map(flat.envelope_text, group)),
                chain.from_iterable(map(flat.payload_text, payloads)),
            )
        )
        if max(map(len, texts)) > flat.text_limit or "\x00" in "".join(texts):
            return False
        for name in flat.nested:
            if any(map(methodcaller("HasField", name), payloads)):
                walk += [env for env, payload in zip(group, payloads, strict=True) if payload.HasField(name)]
    try:
        for env in walk:
            _storable(env)
    except EnvelopeError:
        return False
    return True
