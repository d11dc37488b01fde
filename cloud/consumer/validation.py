"""Everything that makes a message unusable, with a reason code for the dead-letter topic."""

from __future__ import annotations

from cloud.consumer.settings import ConsumerSettings
from cloud.consumer.storable import check_storable
from cloud.ingest.registry import SiteRegistry
from shared.schema import pb
from shared.schema.envelope import EnvelopeError, decode_envelope

NS = 1_000_000_000


def validate(data: bytes | None, registry: SiteRegistry, settings: ConsumerSettings, now_ns: int) -> pb.Envelope:
    """The decoded envelope, or EnvelopeError(reason, detail)."""
    if data is None:
        raise EnvelopeError("empty", "the record has no value (tombstone)")
    env = decode_envelope(data)
    check_storable(env)
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
