"""Values the database can store: checked per field against the columns (cloud/storage/models.py).

Two passes. The exact walk (`_storable`) follows every set field and names what is wrong.
In front of it a flat check per message type reads all fields of one limit in a single
C call (operator.attrgetter) and only says yes or no: a good message (nearly all) costs a
few calls instead of a Python loop over its fields, and a bad one gets the exact walk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, groupby
from operator import attrgetter, itemgetter, methodcaller
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from cloud.ingest.heads import Head, read_heads
from shared.schema import pb
from shared.schema.envelope import EnvelopeError

# What the columns hold (cloud/storage/models.py): BIGINT and INTEGER are signed, text
# columns have lengths, and PostgreSQL text cannot hold NUL. A message the database would
# refuse must go to the dead-letter topic, not stall the partition on a failing batch.
_MAX_UNSIGNED = {FieldDescriptor.TYPE_UINT64: 2**63 - 1, FieldDescriptor.TYPE_UINT32: 2**31 - 1}
_MAX_TEXT = {"site_id": 64, "camera_id": 64, "edge_id": 128, "line_id": 64, "zone_id": 64, "floor_id": 64}
_MAX_TEXT_DEFAULT = 128


# Fields no column holds, left unchecked: the schema version is held against the supported
# ones before anything is stored (shared/schema/envelope.py), and of a track update (most
# events) only the floor point's heatmap cell is kept (cloud/ingest/applier.py), its floor
# id serving as a lookup key. Checking them would refuse events for values never stored.
_NOT_STORED = {pb.Envelope.DESCRIPTOR.full_name: frozenset({"schema_version", "track_update"})}

# How each field of each message type is checked, worked out once per type: reflection per
# message would cost more than the rest of validation.
_MESSAGE, _MAP, _UNSIGNED, _TEXT, _FREE_TEXT = range(5)
_plans: dict[str, dict[str, tuple[int, int]]] = {}


def _plan(descriptor: Any) -> dict[str, tuple[int, int]]:
    plan = _plans.get(descriptor.full_name)
    if plan is None:
        plan = {}
        unstored = _NOT_STORED.get(descriptor.full_name, frozenset())
        for field in descriptor.fields:
            if field.name in unstored:
                continue
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
    """A conservative check of one message type's own fields in a few C calls: the unsigned
    values per limit (a seq past 2**31 must not send every batch to the exact check), every
    text against the smallest text limit (an edge id of 65-128 characters does), no NUL in
    any. A submessage with checks of its own (an embedding) sends the message to the walk
    when it is set; so does a type with free text or a map (it has no flat check)."""

    # Per unsigned limit: the type's values, the limit.
    unsigned: tuple[tuple[Callable[[Any], tuple[int, ...]], int], ...]
    text: Callable[[Any], tuple[str, ...]] | None
    text_limit: int
    nested: tuple[str, ...]

    def all_ok(self, msgs: Sequence[Any]) -> bool:
        """True when no message's own fields can fail (nested ones are the caller's)."""
        for values, limit in self.unsigned:
            if max(chain.from_iterable(map(values, msgs)), default=0) > limit:
                return False
        if self.text is None:
            return True
        return _texts_fit(chain.from_iterable(map(self.text, msgs)), self.text_limit)


def _texts_fit(texts: Iterable[str], limit: int) -> bool:
    """No text longer than `limit` or holding NUL, judged over the distinct values: a batch
    repeats a few ids thousands of times."""
    distinct = set(texts)
    return not distinct or (max(map(len, distinct)) <= limit and "\x00" not in "".join(distinct))


def _getter(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    # A one-name attrgetter returns the value, not a tuple: ask for the first name twice.
    return attrgetter(*names, names[0])


def _flat(plan: dict[str, tuple[int, int]]) -> _Flat | None:
    if any(kind in (_MAP, _FREE_TEXT) for kind, _ in plan.values()):
        return None
    limits = sorted({limit for kind, limit in plan.values() if kind == _UNSIGNED})
    texts = [name for name, (kind, _) in plan.items() if kind == _TEXT]
    return _Flat(
        tuple(
            (_getter([name for name, (kind, lim) in plan.items() if kind == _UNSIGNED and lim == limit]), limit)
            for limit in limits
        ),
        _getter(texts) if texts else None,
        min((limit for kind, limit in plan.values() if kind == _TEXT), default=0),
        tuple(name for name, (kind, _) in plan.items() if kind == _MESSAGE),
    )


# The envelope's fields a head holds: checked from the heads, not read again.
_HEAD_FIELDS = ("site_id", "camera_id", "seq")
_MAX_SEQ = _MAX_UNSIGNED[pb.Envelope.DESCRIPTOR.fields_by_name["seq"].type]
_MAX_ID = min(_MAX_TEXT["site_id"], _MAX_TEXT["camera_id"])
_site = itemgetter(0)
_camera = itemgetter(1)
_seq = itemgetter(2)
_envelope = itemgetter(4)
_kind = itemgetter(5)
_payload = itemgetter(6)


def _flat_checks() -> tuple[_Flat, dict[str, _Flat], frozenset[str]]:
    """The envelope's own flat check, per payload type its flat check (types holding a map
    or free text are left to the walk), and the payload types nothing of which is stored."""
    descriptor = pb.Envelope.DESCRIPTOR
    payloads = {f.name: f for f in descriptor.oneofs_by_name["payload"].fields}
    plan = _plan(descriptor)
    own = {name: check for name, check in plan.items() if name not in payloads and name not in _HEAD_FIELDS}
    envelope = _flat(own)
    assert envelope is not None and not envelope.nested
    out = {}
    for name, field in payloads.items():
        flat = _flat(_plan(field.message_type))
        if flat is not None and name in plan:
            out[name] = flat
    return envelope, out, frozenset(payloads) - set(plan)


_ENVELOPE, _FLAT, _UNSTORED_PAYLOADS = _flat_checks()


def check_storable(env: pb.Envelope) -> None:
    """Raise EnvelopeError(reason, detail) for the first value the database could not store."""
    if env.WhichOneof("payload") is None or not all_storable([env], read_heads([env])):
        _storable(env)


def all_storable(envs: Sequence[pb.Envelope], heads: Sequence[Head]) -> bool:
    """True when check_storable surely passes every envelope; False when one may fail (the
    caller then checks them one by one). `heads`: the envelopes' heads (cloud/ingest/heads.py).
    The flat checks run once over the batch's envelopes and once over each payload type's
    payloads (C iterators, no Python step per envelope), the walk only where a submessage
    with checks is set or the type has no flat check."""
    if max(map(_seq, heads), default=0) > _MAX_SEQ or not _ENVELOPE.all_ok(envs):
        return False
    if not _texts_fit(chain(map(_site, heads), map(_camera, heads)), _MAX_ID):
        return False
    walk: list[pb.Envelope] = []
    # Payloads nothing of which is stored (track updates: most events) are dropped before the
    # sort that groups the rest by type.
    stored = [head for head in heads if head[5] not in _UNSTORED_PAYLOADS]
    for kind, group in groupby(sorted(stored, key=_kind), key=_kind):
        of_kind = list(group)
        flat = _FLAT.get(kind)
        if flat is None:
            walk += map(_envelope, of_kind)
            continue
        payloads = list(map(_payload, of_kind))
        if not flat.all_ok(payloads):
            return False
        for name in flat.nested:
            if any(map(methodcaller("HasField", name), payloads)):
                walk += [head[4] for head in of_kind if head[6].HasField(name)]
    try:
        for env in walk:
            _storable(env)
    except EnvelopeError:
        return False
    return True
