"""EnvelopeFactory: every payload decodes, seq increases, NaN floor points stay unset."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge.analytics.events import Direction, LineCrossingEvent, ZoneEvent, ZoneEventKind
from edge.publish import Appearance, EnvelopeFactory, SequenceCounter, TrackSummary
from edge.publish.envelopes import StreamFigures
from edge.sources.reconnect import SourceState
from shared.schema import SCHEMA_VERSION, decode_envelope, pb, unpack_embedding

NOW_NS = 1_700_000_000_500_000_000
T_NS = 1_700_000_000_000_000_000
NAN = math.nan


@pytest.fixture
def counter(tmp_path: Path) -> Iterator[SequenceCounter]:
    with SequenceCounter(tmp_path, "cam-1") as c:
        yield c


@pytest.fixture
def factory(counter: SequenceCounter) -> EnvelopeFactory:
    return EnvelopeFactory(
        "site-a", "cam-1", "edge-1", counter, floor_id="ground", model_id="osnet@1", clock=lambda: NOW_NS
    )


def roundtrip(envelope: pb.Envelope) -> pb.Envelope:
    return decode_envelope(envelope.SerializeToString())


def figures(**overrides: Any) -> StreamFigures:
    values: dict[str, Any] = {"fps": 1.0, "frames": 0, "dropped_frames": 0, "lag_ms": 0.0} | overrides
    return StreamFigures(**values)


def update(factory: EnvelopeFactory, **overrides: Any) -> pb.Envelope:
    args: dict[str, Any] = {
        "track_id": 7,
        "xyxy": (10.0, 20.0, 30.0, 80.0),
        "confidence": 0.9,
        "image_foot": (20.0, 80.0),
        "floor_point": (1.5, -2.0),
        "embedding": None,
        "time_ns": T_NS,
    }
    return factory.track_update(**{**args, **overrides})


SUMMARY = TrackSummary(
    track_id=7,
    first_seen_ns=T_NS - 5_000_000_000,
    last_seen_ns=T_NS,
    observations=40,
    mean_confidence=0.8,
    first_image_foot=(5.0, 90.0),
    last_image_foot=(200.0, 95.0),
    first_floor_point=(0.0, 1.0),
    last_floor_point=(NAN, 2.0),
)


@pytest.mark.parametrize(
    ("build", "payload", "event_time_ns"),
    [
        pytest.param(lambda f: update(f), "track_update", T_NS, id="track-update"),
        pytest.param(lambda f: f.track_closed(SUMMARY), "track_closed", T_NS, id="track-closed"),
        pytest.param(
            lambda f: f.line_crossing(LineCrossingEvent("door", Direction.IN, 7, T_NS - 1, (1.0, 2.0), (3.0, 4.0))),
            "line_crossing",
            T_NS - 1,
            id="line-crossing",
        ),
        pytest.param(
            lambda f: f.zone_transition(ZoneEvent("shop", ZoneEventKind.EXIT, 7, T_NS, entered_time_ns=T_NS - 9)),
            "zone_transition",
            T_NS,
            id="zone-exit",
        ),
        pytest.param(
            lambda f: f.camera_status("online", figures(fps=10.0, frames=100, dropped_frames=2), time_ns=T_NS),
            "camera_status",
            T_NS,
            id="camera-status",
        ),
    ],
)
def test_every_payload_decodes_with_the_envelope_fields(
    factory: EnvelopeFactory, build: Any, payload: str, event_time_ns: int
) -> None:
    env = roundtrip(build(factory))
    assert env.WhichOneof("payload") == payload
    assert (env.schema_version, env.site_id, env.camera_id, env.edge_id) == (
        SCHEMA_VERSION,
        "site-a",
        "cam-1",
        "edge-1",
    )
    assert (env.seq, env.event_time_ns, env.publish_time_ns) == (1, event_time_ns, NOW_NS)


def test_seq_increases_across_payload_kinds(factory: EnvelopeFactory) -> None:
    envs = [
        update(factory),
        factory.track_closed(SUMMARY),
        factory.line_crossing(LineCrossingEvent("door", Direction.OUT, 7, T_NS, (1.0, 2.0))),
        update(factory, track_id=8),
    ]
    assert [e.seq for e in envs] == [1, 2, 3, 4]


def test_track_update_fields(factory: EnvelopeFactory) -> None:
    u = roundtrip(update(factory)).track_update
    assert u.track_id == 7
    assert (u.bbox.x1, u.bbox.y1, u.bbox.x2, u.bbox.y2) == (10.0, 20.0, 30.0, 80.0)
    assert u.confidence == pytest.approx(0.9)
    assert (u.image_foot.x, u.image_foot.y) == (20.0, 80.0)
    assert (u.floor_point.x, u.floor_point.y, u.floor_id) == (1.5, -2.0, "ground")
    assert not u.HasField("embedding")


def test_track_update_takes_numpy_rows(factory: EnvelopeFactory) -> None:
    xyxy = np.array([[10, 20, 30, 80]], dtype=np.float32)
    u = update(factory, track_id=np.int64(3), xyxy=xyxy[0], confidence=np.float32(0.5)).track_update
    assert (u.track_id, u.bbox.x2, u.confidence) == (3, 30.0, 0.5)


@pytest.mark.parametrize(
    ("floor_point", "expected"),
    [
        pytest.param((1.5, -2.0), (1.5, -2.0), id="calibrated"),
        pytest.param(None, None, id="uncalibrated"),
        pytest.param((NAN, NAN), None, id="nan"),
        pytest.param((1.0, NAN), None, id="half-nan"),
        pytest.param((math.inf, 1.0), None, id="inf"),
    ],
)
def test_floor_point_is_unset_unless_finite(
    factory: EnvelopeFactory, floor_point: tuple[float, float] | None, expected: tuple[float, float] | None
) -> None:
    envs = [
        update(factory, floor_point=floor_point).track_update,
        factory.line_crossing(LineCrossingEvent("door", Direction.IN, 7, T_NS, (0.0, 0.0), floor_point)).line_crossing,
        factory.zone_transition(
            ZoneEvent("shop", ZoneEventKind.ENTER, 7, T_NS, floor_point=floor_point)
        ).zone_transition,
    ]
    for payload in envs:
        point = payload.floor_point
        assert payload.HasField("floor_point") == (expected is not None)
        if expected is not None:
            assert (point.x, point.y) == expected
    # A floor id only accompanies floor coordinates.
    assert envs[0].floor_id == ("ground" if expected else "")


def test_embedding_is_packed_normalised_with_the_model_id(factory: EnvelopeFactory) -> None:
    vector = np.arange(1, 513, dtype=np.float32)
    emb = roundtrip(update(factory, embedding=Appearance(vector, quality=0.7, samples=12))).track_update.embedding
    assert (emb.dim, emb.model_id, emb.samples) == (512, "osnet@1", 12)
    assert emb.quality == pytest.approx(0.7)
    np.testing.assert_allclose(unpack_embedding(emb), vector / np.linalg.norm(vector), atol=1e-3)


def test_track_closed_carries_the_summary(factory: EnvelopeFactory) -> None:
    summary = replace(SUMMARY, embedding=Appearance(np.ones(4), 0.5))
    closed = roundtrip(factory.track_closed(summary)).track_closed
    assert (closed.track_id, closed.first_seen_ns, closed.last_seen_ns, closed.observations) == (
        7,
        T_NS - 5_000_000_000,
        T_NS,
        40,
    )
    assert closed.mean_confidence == pytest.approx(0.8)
    assert (closed.first_image_foot.x, closed.last_image_foot.y) == (5.0, 95.0)
    assert (closed.first_floor_point.x, closed.first_floor_point.y, closed.floor_id) == (0.0, 1.0, "ground")
    assert not closed.HasField("last_floor_point")  # it was NaN
    assert closed.embedding.dim == 4


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        pytest.param(ZoneEvent("shop", ZoneEventKind.ENTER, 3, T_NS), (pb.ZONE_EVENT_ENTER, 0), id="enter"),
        pytest.param(
            ZoneEvent("shop", ZoneEventKind.EXIT, 3, T_NS, entered_time_ns=T_NS - 60),
            (pb.ZONE_EVENT_EXIT, T_NS - 60),
            id="exit",
        ),
    ],
)
def test_zone_transition(factory: EnvelopeFactory, event: ZoneEvent, expected: tuple[int, int]) -> None:
    z = roundtrip(factory.zone_transition(event)).zone_transition
    assert (z.zone_id, z.track_id, z.event, z.entered_time_ns) == ("shop", 3, *expected)


@pytest.mark.parametrize(
    ("direction", "expected"), [(Direction.IN, pb.DIRECTION_IN), (Direction.OUT, pb.DIRECTION_OUT)]
)
def test_line_crossing_direction(factory: EnvelopeFactory, direction: Direction, expected: int) -> None:
    c = roundtrip(factory.line_crossing(LineCrossingEvent("door", direction, 4, T_NS, (0.0, 0.0)))).line_crossing
    assert (c.line_id, c.direction, c.track_id) == ("door", expected, 4)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (SourceState.ONLINE, pb.CAMERA_STATE_ONLINE),
        (SourceState.RECONNECTING, pb.CAMERA_STATE_RECONNECTING),
        ("offline", pb.CAMERA_STATE_OFFLINE),
        ("ended", pb.CAMERA_STATE_ENDED),
    ],
)
def test_camera_status(factory: EnvelopeFactory, state: SourceState | str, expected: int) -> None:
    env = factory.camera_status(
        state,
        StreamFigures(
            fps=3.5, frames=10, dropped_frames=1, lag_ms=12.5, thinned_frames=9, source_fps=7.0, overloaded=True
        ),
        time_ns=T_NS,
        model_versions={"detector": "yolox@ab"},
        message="ok",
    )
    s = roundtrip(env).camera_status
    assert (s.state, s.fps, s.frames, s.dropped_frames, s.lag_ms, dict(s.model_versions), s.message) == (
        expected,
        3.5,
        10,
        1,
        12.5,
        {"detector": "yolox@ab"},
        "ok",
    )
    assert (s.thinned_frames, s.source_fps, s.overloaded) == (9, 7.0, True)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        pytest.param(lambda f: update(f, track_id=-1), "track_id must be >= 0", id="untracked"),
        pytest.param(lambda f: update(f, xyxy=(1.0, 2.0, 3.0)), "xyxy must be 4 finite", id="short-box"),
        pytest.param(lambda f: update(f, xyxy=(1.0, NAN, 3.0, 4.0)), "xyxy must be 4 finite", id="nan-box"),
        pytest.param(lambda f: update(f, confidence=1.5), r"confidence must be within \[0, 1\]", id="confidence"),
        pytest.param(lambda f: update(f, image_foot=(NAN, 1.0)), "image_foot must be finite", id="nan-foot"),
        pytest.param(lambda f: update(f, time_ns=0), "event time must be a positive epoch", id="zero-time"),
        pytest.param(
            lambda f: update(f, embedding=Appearance(np.zeros(8), 0.5)), "zero or non-finite", id="zero-embedding"
        ),
        pytest.param(lambda f: update(f, embedding=Appearance(np.ones(8), 2.0)), "embedding quality", id="quality"),
        pytest.param(
            lambda f: update(f, embedding=Appearance(np.ones(8), 0.5, 0)), "samples must be >= 1", id="samples"
        ),
        pytest.param(
            lambda f: f.camera_status("broken", figures(), time_ns=T_NS),
            "state 'broken' is not one of",
            id="state",
        ),
        pytest.param(lambda f: figures(fps=-1.0), "fps must be finite and >= 0", id="fps"),
        pytest.param(lambda f: figures(source_fps=NAN), "source_fps must be finite and >= 0", id="source-fps"),
        pytest.param(lambda f: figures(frames=-3), "frames must be >= 0, got -3", id="frames"),
        pytest.param(lambda f: figures(thinned_frames=-1), "thinned_frames must be >= 0", id="thinned"),
        pytest.param(lambda f: figures(lag_ms=NAN), "lag_ms must be finite", id="lag"),
    ],
)
def test_invalid_input_is_rejected_before_drawing_a_seq(factory: EnvelopeFactory, build: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build(factory)
    assert update(factory).seq == 1


def test_embedding_needs_a_model_id(counter: SequenceCounter) -> None:
    factory = EnvelopeFactory("site-a", "cam-1", "edge-1", counter)
    with pytest.raises(ValueError, match="needs the factory's model_id"):
        update(factory, embedding=Appearance(np.ones(8), 0.5))


@pytest.mark.parametrize(
    ("site", "camera", "edge", "message"),
    [
        pytest.param("", "cam-1", "edge-1", "site_id must not be empty", id="site"),
        pytest.param("site-a", "cam-1", "", "edge_id must not be empty", id="edge"),
        pytest.param("site-a", "cam-2", "edge-1", "belongs to camera 'cam-1', not 'cam-2'", id="other-camera"),
    ],
)
def test_factory_arguments(counter: SequenceCounter, site: str, camera: str, edge: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EnvelopeFactory(site, camera, edge, counter)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"track_id": -2}, "track_id must be >= 0", id="track-id"),
        pytest.param({"first_seen_ns": 0}, "first_seen_ns must be a positive", id="first-seen"),
        pytest.param({"last_seen_ns": T_NS - 6_000_000_000}, "is before first_seen_ns", id="order"),
        pytest.param({"observations": 0}, "observations must be >= 1", id="observations"),
        pytest.param({"mean_confidence": 1.2}, r"mean_confidence must be within \[0, 1\]", id="confidence"),
    ],
)
def test_track_summary_validation(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(SUMMARY, **changes)
