"""Hypothesis strategies for envelopes: well-formed protobuf with hostile values in every field."""

from __future__ import annotations

import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from cloud.consumer.settings import ConsumerSettings
from cloud.consumer.validation import validate
from cloud.ingest.applier import EventApplier
from cloud.ingest.registry import SiteRegistry
from shared.config import SiteConfig
from shared.schema import pb
from shared.schema.envelope import EnvelopeError

# Every reason the decoder and the consumer's validation give.
REASONS = {
    "too_large",
    "malformed",
    "unsupported_version",
    "missing_ids",
    "missing_seq",
    "bad_time",
    "no_payload",
    "out_of_range",
    "bad_text",
    "too_long",
    "unknown_site",
    "unknown_camera",
    "future_time",
    "too_old",
}

UINT64 = st.integers(0, 2**64 - 1) | st.sampled_from([0, 1, 2**31, 2**63 - 1, 2**63, 2**64 - 1])
UINT32 = st.integers(0, 2**32 - 1)
INT64 = st.integers(-(2**63), 2**63 - 1)
# Floats stay hostile in both modes (NaN, infinities, subnormals): the writers must cope.
FLOAT32 = st.floats(width=32)
DOUBLE = st.floats()
TEXT = st.text(max_size=12) | st.sampled_from(["", "\x00", "a" * 65, "é" * 200])
# In range for the store, at its edges too.
SAFE_UINT64 = st.integers(0, 2**20) | st.just(2**63 - 1)
SAFE_UINT32 = st.integers(0, 2**31 - 1)
SAFE_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=64)


class _Values:
    """Field strategies of one mode: `hostile` reaches every limit, plain stays storable."""

    def __init__(self, hostile: bool) -> None:
        self.hostile = hostile
        self.uint64 = UINT64 if hostile else SAFE_UINT64
        self.uint32 = UINT32 if hostile else SAFE_UINT32
        self.text = TEXT if hostile else SAFE_TEXT

    def ids(self, valid: list[str]) -> st.SearchStrategy[str]:
        return st.sampled_from(valid) | self.text if self.hostile else st.sampled_from(valid)


def _point() -> st.SearchStrategy[pb.Point2]:
    return st.builds(pb.Point2, x=DOUBLE, y=DOUBLE)


def _embedding(v: _Values) -> st.SearchStrategy[pb.Embedding]:
    return st.builds(
        pb.Embedding,
        vector_f16=st.binary(max_size=1100),
        dim=v.uint32,
        model_id=v.text,
        quality=FLOAT32,
        samples=v.uint32,
    )


def _payloads(v: _Values, lines: list[str], zones: list[str]) -> st.SearchStrategy[tuple[str, Any]]:
    maybe: Any = st.none()
    update = st.builds(
        pb.TrackUpdate,
        track_id=v.uint64,
        bbox=st.builds(pb.BBox, x1=FLOAT32, y1=FLOAT32, x2=FLOAT32, y2=FLOAT32),
        confidence=FLOAT32,
        image_foot=_point() | maybe,
        floor_point=_point() | maybe,
        floor_id=v.ids(["ground"]),
        embedding=_embedding(v) | maybe,
    )
    closed = st.builds(
        pb.TrackClosed,
        track_id=v.uint64,
        first_seen_ns=INT64,
        last_seen_ns=INT64,
        observations=v.uint32,
        mean_confidence=FLOAT32,
        first_floor_point=_point() | maybe,
        last_floor_point=_point() | maybe,
        floor_id=v.ids(["ground"]),
        embedding=_embedding(v) | maybe,
    )
    crossing = st.builds(
        pb.LineCrossing,
        line_id=v.ids(lines),
        direction=st.integers(0, 3),
        track_id=v.uint64,
        floor_point=_point() | maybe,
    )
    transition = st.builds(
        pb.ZoneTransition,
        zone_id=v.ids(zones),
        event=st.integers(0, 3),
        track_id=v.uint64,
        entered_time_ns=INT64,
        floor_point=_point() | maybe,
    )
    status = st.builds(
        pb.CameraStatus,
        state=st.integers(0, 5),
        fps=FLOAT32,
        frames=v.uint64,
        dropped_frames=v.uint64,
        lag_ms=FLOAT32,
        model_versions=st.dictionaries(v.text, v.text, max_size=3),
        message=st.text(max_size=600) if v.hostile else SAFE_TEXT,
    )
    return st.one_of(
        st.tuples(st.just("track_update"), update),
        st.tuples(st.just("track_closed"), closed),
        st.tuples(st.just("line_crossing"), crossing),
        st.tuples(st.just("zone_transition"), transition),
        st.tuples(st.just("camera_status"), status),
    )


def envelopes(
    site_id: str, camera_id: str, lines: list[str], zones: list[str], now_ns: int
) -> st.SearchStrategy[pb.Envelope]:
    """Half hostile in every field, half storable but odd (NaN, edge values, any text), so many reach the writers."""

    @st.composite
    def build(draw: st.DrawFn) -> pb.Envelope:
        v = _Values(hostile=draw(st.booleans()))
        kind, payload = draw(_payloads(v, lines, zones))
        times = st.integers(now_ns - 10**12, now_ns + 10**11)
        env = pb.Envelope(
            schema_version=draw(st.sampled_from([1, 0, 2]) if v.hostile else st.just(1)),
            site_id=draw(v.ids([site_id])),
            camera_id=draw(v.ids([camera_id])),
            edge_id=draw(v.text),
            seq=draw(v.uint64 if v.hostile else st.integers(1, 2**63 - 1)),
            event_time_ns=draw(times | INT64 if v.hostile else times),
            publish_time_ns=draw(INT64),
        )
        getattr(env, kind).CopyFrom(payload)
        return env

    return build()


def assert_validated_are_storable(session: Session, site: SiteConfig, max_examples: int) -> None:
    """Whatever validation accepts, the applier stores; whatever it refuses carries a known reason."""
    now_ns = time.time_ns()
    registry = SiteRegistry([site])
    applier = EventApplier(registry)
    strategy = envelopes(
        site.site.id, site.cameras[0].id, [ln.id for ln in site.lines], [z.id for z in site.zones], now_ns
    )
    accepted = 0

    @settings(max_examples=max_examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def check(env: pb.Envelope) -> None:
        nonlocal accepted
        try:
            valid = validate(env.SerializeToString(), registry, ConsumerSettings(), now_ns)
        except EnvelopeError as exc:
            assert exc.reason in REASONS and exc.detail, exc
            return
        accepted += 1
        try:
            applier.apply(session, [valid])
            session.flush()
        finally:
            session.rollback()

    check()
    # Aimed well enough that the writers are really exercised.
    assert accepted >= max_examples // 10, accepted
