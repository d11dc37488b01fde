"""Everything that makes a message unusable, with a reason code for the dead-letter topic."""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from cloud.consumer.settings import ConsumerSettings
from cloud.ingest.registry import SiteRegistry
from shared.schema import pb
from shared.schema.envelope import EnvelopeError, decode_envelope

NS = 1_000_000_000
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


def validate(data: bytes | None, registry: SiteRegistry, settings: ConsumerSettings, now_ns: int) -> pb.Envelope:
    """The decoded envelope, or EnvelopeError(reason, detail)."""
    if data is None:
        raise EnvelopeError("empty", "the record has no value (tombstone)")
    env = decode_envelope(data)
    _storable(env)
    if env.site_id not in registry:
        raise EnvelopeError("unknown_site", f"site {env.site_id!r} is not configured in this consumer")
    if not registry.has_camera(env.site_id, env.camera_id):
        raise EnvelopeError("unknown_camera", f"site {env.site_id!r} has no camera {env.camera_id!r}")
    if env.event_time_ns > now_ns + settings.max_future_s * NS:
        raise EnvelopeError(
            "future_time", f"event_time_ns {env.event_time_ns} is more than {settings.max_future_s:g} s ahead"
        )
    if env.event_time_ns < now_ns - settings.max_age_s * NS:
        raise EnvelopeError("too_old", f"event_time_ns {env.event_time_ns} is older than {settings.max_age_s:g} s")
    return env
