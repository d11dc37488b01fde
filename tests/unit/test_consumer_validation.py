"""The consumer's validation: each unusable message gets its reason (the dead-letter header) and a detail."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cloud.consumer.settings import ConsumerSettings
from cloud.consumer.validation import validate, validate_batch
from cloud.ingest.registry import SiteRegistry
from shared.config import SiteConfig
from shared.schema import pb
from shared.schema.envelope import EnvelopeError

NOW_NS = 1_750_000_000 * 1_000_000_000
NS = 1_000_000_000


def envelope(change: Callable[[pb.Envelope], object] = lambda e: None) -> bytes:
    env = pb.Envelope(
        schema_version=1, site_id="pets09", camera_id="cam-main", edge_id="e", seq=5, event_time_ns=NOW_NS
    )
    env.line_crossing.CopyFrom(pb.LineCrossing(line_id="mid-vertical", direction=pb.DIRECTION_IN, track_id=3))
    change(env)
    return env.SerializeToString()


def _set(path: str, value: object) -> Callable[[pb.Envelope], None]:
    def change(env: pb.Envelope) -> None:
        *parents, name = path.split(".")
        msg = env
        for p in parents:
            msg = getattr(msg, p)
        setattr(msg, name, value)

    return change


REJECTIONS = [
    (None, "empty", "tombstone"),
    (b"\xff\xff\xff", "malformed", "not a mallflow.v1.Envelope"),
    (envelope(_set("schema_version", 2)), "unsupported_version", "schema_version 2"),
    (envelope(_set("edge_id", "e" * 70_000)), "too_large", "exceeds the 65536-byte limit"),
    (envelope(_set("camera_id", "")), "missing_ids", "site_id and camera_id are required"),
    (envelope(_set("seq", 0)), "missing_seq", "seq must be >= 1"),
    (envelope(_set("event_time_ns", 0)), "bad_time", "not a positive epoch time"),
    (envelope(lambda e: e.ClearField("line_crossing")), "no_payload", "carries no payload"),
    (envelope(_set("seq", 2**63)), "out_of_range", "seq = 9223372036854775808 exceeds"),
    (envelope(_set("line_crossing.track_id", 2**64 - 1)), "out_of_range", "line_crossing.track_id"),
    (envelope(_set("line_crossing.line_id", "a" * 65)), "too_long", "line_crossing.line_id is 65 characters"),
    (envelope(_set("edge_id", "e\x00")), "bad_text", "edge_id contains a NUL"),
    (
        envelope(lambda e: e.camera_status.model_versions.update({"detector": "x\x00"})),
        "bad_text",
        "camera_status.model_versions['detector'] contains a NUL",
    ),
    (envelope(lambda e: e.camera_status.CopyFrom(pb.CameraStatus(message="\x00"))), "bad_text", "message"),
    (envelope(_set("site_id", "elsewhere")), "unknown_site", "'elsewhere'"),
    (envelope(_set("camera_id", "cam-x")), "unknown_camera", "no camera 'cam-x'"),
    (envelope(_set("event_time_ns", NOW_NS + 301 * NS)), "future_time", "more than 300 s ahead"),
    (envelope(_set("event_time_ns", NOW_NS - 8 * 86400 * NS)), "too_old", "older than"),
]


@pytest.mark.parametrize(("data", "reason", "detail"), REJECTIONS)
def test_rejections(pets09_site: SiteConfig, data: bytes | None, reason: str, detail: str) -> None:
    with pytest.raises(EnvelopeError) as caught:
        validate(data, SiteRegistry([pets09_site]), ConsumerSettings(), NOW_NS)
    assert caught.value.reason == reason
    assert detail in caught.value.detail


@pytest.mark.parametrize(
    "change",
    [
        _set("seq", 2**63 - 1),
        _set("line_crossing.line_id", "a" * 64),
        _set("line_crossing.line_id", "not-configured"),
        lambda e: e.camera_status.CopyFrom(pb.CameraStatus(message="x" * 5000)),
    ],
)
def test_accepted_at_the_limits(pets09_site: SiteConfig, change: Callable[[pb.Envelope], object]) -> None:
    assert validate(envelope(change), SiteRegistry([pets09_site]), ConsumerSettings(), NOW_NS).site_id == "pets09"


def test_a_batch_is_judged_as_each_message_alone(pets09_site: SiteConfig) -> None:
    """Good messages with each kind of bad one, and with all of them: validate_batch answers what
    validate does, in order."""
    registry, settings = SiteRegistry([pets09_site]), ConsumerSettings()
    good = [envelope(_set("seq", i)) for i in range(1, 4)]
    values = [v for data, _, _ in REJECTIONS for v in (*good, data)]
    for batch in (good, values, *([*good, data] for data, _, _ in REJECTIONS)):
        expected: list[object] = []
        for data in batch:
            try:
                expected.append(validate(data, registry, settings, NOW_NS))
            except EnvelopeError as exc:
                expected.append((exc.reason, exc.detail))
        got = [
            (r.reason, r.detail) if isinstance(r, EnvelopeError) else r
            for r in validate_batch(batch, registry, settings, NOW_NS)
        ]
        assert got == expected
