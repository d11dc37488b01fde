"""Everything that makes a message unusable, with a reason code for the dead-letter topic."""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter

from cloud.consumer.settings import ConsumerSettings
from cloud.consumer.storable import all_storable, check_storable
from cloud.ingest.registry import SiteRegistry
from shared.schema import pb
from shared.schema.envelope import EnvelopeError, decode_envelope, decode_envelopes

NS = 1_000_000_000
_site_camera = attrgetter("site_id", "camera_id")
_event_time = attrgetter("event_time_ns")


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


def _all_good(envs: list[pb.Envelope], registry: SiteRegistry, settings: ConsumerSettings, now_ns: int) -> bool:
    """True when every envelope surely passes _check (False: one may not), each check run
    once over the whole batch."""
    if not set(map(_site_camera, envs)) <= registry.cameras():
        return False
    times = list(map(_event_time, envs))
    if max(times) > now_ns + settings.max_future_s * NS or min(times) < now_ns - settings.max_age_s * NS:
        return False
    return all_storable(envs)


def validate_batch(
    values: Sequence[bytes | None], registry: SiteRegistry, settings: ConsumerSettings, now_ns: int
) -> list[pb.Envelope | EnvelopeError]:
    """validate() of each value, in order, answered per batch: parsing is per message, the
    checks run over the batch at once; only a batch with a bad envelope is checked message
    by message, to name it and its reason."""
    present = [v for v in values if v is not None]
    decoded = iter(decode_envelopes(present))
    out = [_empty() if v is None else next(decoded) for v in values]
    envs = [o for o in out if isinstance(o, pb.Envelope)]
    if not envs or _all_good(envs, registry, settings, now_ns):
        return out
    checked: list[pb.Envelope | EnvelopeError] = []
    for o in out:
        if isinstance(o, pb.Envelope):
            try:
                o = _check(o, registry, settings, now_ns)
            except EnvelopeError as exc:
                o = exc
        checked.append(o)
    return checked
