"""Everything that makes a message unusable, with a reason code for the dead-letter topic."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter, itemgetter
from typing import cast

from cloud.consumer.settings import ConsumerSettings
from cloud.consumer.storable import all_storable, check_storable
from cloud.ingest.heads import Head, payload_kinds, read_heads
from cloud.ingest.registry import SiteRegistry
from shared.schema import pb
from shared.schema.envelope import SUPPORTED_VERSIONS, EnvelopeError, decode_envelope, parse_envelopes

NS = 1_000_000_000
_schema_version = attrgetter("schema_version")
_site_camera = itemgetter(0, 1)
_seq = itemgetter(2)
_event_time = itemgetter(3)


def _decode(data: bytes | None) -> pb.Envelope:
    if data is None:
        raise _empty()
    return decode_envelope(data)


def _empty() -> EnvelopeError:
    return EnvelopeError("empty", "the record has no value (tombstone)")


def _check(env: pb.Envelope, registry: SiteRegistry, settings: ConsumerSettings, now_ns: int) -> pb.Envelope:
    check_storable(env)
    site_id, camera_id, time_ns = env.site_id, env.camera_id, env.event_time_ns
    if not registry.has_camera(site_id, camera_id):
        if site_id not in registry:
            raise EnvelopeError("unknown_site", f"site {site_id!r} is not configured in this consumer")
        raise EnvelopeError("unknown_camera", f"site {site_id!r} has no camera {camera_id!r}")
    if time_ns > now_ns + settings.max_future_s * NS:
        raise EnvelopeError("future_time", f"event_time_ns {time_ns} is more than {settings.max_future_s:g} s ahead")
    if time_ns < now_ns - settings.max_age_s * NS:
        raise EnvelopeError("too_old", f"event_time_ns {time_ns} is older than {settings.max_age_s:g} s")
    return env


def validate(data: bytes | None, registry: SiteRegistry, settings: ConsumerSettings, now_ns: int) -> pb.Envelope:
    """The decoded envelope, or EnvelopeError(reason, detail)."""
    return _check(_decode(data), registry, settings, now_ns)


def _all_good(
    envs: list[pb.Envelope], heads: list[Head], registry: SiteRegistry, settings: ConsumerSettings, now_ns: int
) -> bool:
    """True when every envelope surely passes decode_envelope's field checks and _check
    (False: one may not), each check run once over the whole batch. Ids the registry knows
    are non-empty (the site config's id rule)."""
    if not set(map(_schema_version, envs)) <= SUPPORTED_VERSIONS:
        return False
    if not set(map(_site_camera, heads)) <= registry.cameras() or min(map(_seq, heads)) < 1:
        return False
    times = list(map(_event_time, heads))
    if max(times) > now_ns + settings.max_future_s * NS or min(times) < max(1, now_ns - settings.max_age_s * NS):
        return False
    return all_storable(envs, heads)


@dataclass(frozen=True)
class CheckedBatch:
    """validate() of each value, in order, and the heads of the good envelopes among them."""

    results: list[pb.Envelope | EnvelopeError]
    heads: list[Head]


def check_batch(
    values: Sequence[bytes | None], registry: SiteRegistry, settings: ConsumerSettings, now_ns: int
) -> CheckedBatch:
    """validate() of each value, answered per batch: parsed in one C iteration, each field
    read once and each check run over the batch at once; only a batch with a bad envelope
    is checked message by message, to name it and its reason."""
    envs = parse_envelopes(cast(Sequence[bytes], values)) if None not in values else None
    if envs is not None:
        kinds = payload_kinds(envs)
        if None not in kinds:
            heads = read_heads(envs, kinds)
            if not envs or _all_good(envs, heads, registry, settings, now_ns):
                return CheckedBatch([*envs], heads)
    checked: list[pb.Envelope | EnvelopeError] = []
    for v in values:
        try:
            checked.append(validate(v, registry, settings, now_ns))
        except EnvelopeError as exc:
            checked.append(exc)
    return CheckedBatch(checked, read_heads([o for o in checked if isinstance(o, pb.Envelope)]))


def validate_batch(
    values: Sequence[bytes | None], registry: SiteRegistry, settings: ConsumerSettings, now_ns: int
) -> list[pb.Envelope | EnvelopeError]:
    """validate() of each value, in order (see check_batch)."""
    return check_batch(values, registry, settings, now_ns).results
