"""The DeepStream pipeline without the hardware: its plan, per-frame bookkeeping, precomputed ReID and the agent.

The agent runs here on a fake runner that plays what the pipeline's probes hand over
(`FrameResult`s); the real pipeline runs only where DeepStream is installed:
    .venv/bin/python -m pytest -m gpu tests/unit/test_deepstream_pipeline.py
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import replace
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np
import pytest
import yaml
from pydantic import SecretStr
from support.scenes import crossing_people
from support.split_site import split_site_on

from edge.agent.agent import AgentSettings
from edge.agent.perception import CameraPerception
from edge.deepstream.agent import (
    DeepStreamAgent,
    DeepStreamCamera,
    DeepStreamModels,
    EventCallback,
    FramesCallback,
    RateCallback,
)
from edge.deepstream.metadata import muxer_rects, object_embeddings, source_boxes
from edge.deepstream.pipeline import (
    CaptureClock,
    DeepStreamSettings,
    DetectorHead,
    ElementSpec,
    FrameResult,
    PipelinePlan,
    ReidHead,
    SourceHealth,
    SourceSlot,
    build_plan,
    camera_of,
    child_properties,
    crop_to_camera,
    describe,
    detector_interval_for,
    element_graph,
    muxer_properties,
    order_batch,
    source_properties,
    source_slots,
    source_uri,
)
from edge.detections import Detections
from edge.frames import Frame
from edge.inference.base import Embedder
from edge.inference.factory import create_embedder
from edge.inference.precomputed import PrecomputedEmbedder
from edge.publish import InProcessSink
from edge.sources.base import SourceSpec
from edge.sources.reconnect import Backoff, SourceEvent, SourceState
from edge.tracking.botsort import BotSortTracker
from shared.config.site import SiteConfig, Tracking
from shared.config.stream import RtspTransport, StreamSettings, redact_uri
from shared.schema import decode_envelope, pb

HAS_DEEPSTREAM = all(importlib.util.find_spec(m) is not None for m in ("gi", "pyds"))
needs_deepstream = pytest.mark.skipif(not HAS_DEEPSTREAM, reason="DeepStream (gi + pyds) is not installed here")

S = 1_000_000_000
SETTINGS = DeepStreamSettings()


def slot(index: int = 0, live: bool = False, **kw: object) -> SourceSlot:
    uri = "rtsp://cam/1" if live else "file:///v.avi"
    return SourceSlot(index, f"cam-{index}", uri, live, **kw)  # type: ignore[arg-type]


# Plan: sources, element properties, graph


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        # The login goes to rtspsrc as properties (child_properties), never in nvurisrcbin's uri.
        ("rtsp://user:pw@10.0.0.5/stream1", "rtsp://10.0.0.5/stream1"),
        ("rtsps://u%40corp:p%2Fw@cam:322/x?ch=1", "rtsps://cam:322/x?ch=1"),
        ("rtsp://10.0.0.5/stream1", "rtsp://10.0.0.5/stream1"),
        # An '@' in the path is no login.
        ("rtsp://cam/clips/a@b", "rtsp://cam/clips/a@b"),
        ("/data/vtest.avi", "file:///data/vtest.avi"),
        ("file:///data/my video.avi", "file:///data/my%20video.avi"),
    ],
)
def test_source_uri(uri: str, expected: str) -> None:
    assert source_uri(SourceSpec("c", uri)) == expected


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        ([SourceSpec("usb", "v4l2:///dev/video0")], "takes file and rtsp:// sources"),
        ([], "at least one camera"),
        ([SourceSpec("a", "/x.avi"), SourceSpec("a", "/y.avi")], "must be unique"),
    ],
)
def test_source_slots_reject(specs: list[SourceSpec], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        source_slots(specs)


LIVE_KEYS = {"latency", "drop-on-latency", "select-rtp-protocol", "rtsp-reconnect-interval"}


@pytest.mark.parametrize(
    ("source", "backoff", "expected"),
    [
        (slot(), Backoff(), {"file-loop": False, "disable-audio": True}),
        (
            slot(live=True),
            Backoff(initial_s=2.5, max_attempts=0),
            {
                "latency": 200,
                "drop-on-latency": True,
                "rtsp-reconnect-interval": 5,
                "init-rtsp-reconnect-interval": 3,
                "rtsp-reconnect-attempts": -1,
                "select-rtp-protocol": 4,
            },
        ),
        (
            slot(live=True, transport=RtspTransport.UDP, latency_ms=50, stall_s=4.2),
            Backoff(max_attempts=5),
            {"latency": 50, "select-rtp-protocol": 0, "rtsp-reconnect-interval": 5, "rtsp-reconnect-attempts": 5},
        ),
    ],
)
def test_source_properties(source: SourceSlot, backoff: Backoff, expected: dict[str, object]) -> None:
    props = source_properties(source, backoff, SETTINGS)
    assert props["uri"] == source.uri
    assert {k: props[k] for k in expected} == expected
    assert props.keys() >= LIVE_KEYS if source.live else not LIVE_KEYS & props.keys()
    assert ("file-loop" in props) == (not source.live)


# Each camera's `stream:` settings, as the CPU path's rtspsrc takes them (edge/sources/gstreamer.py):
# (camera, source, stream settings, nvurisrcbin properties expected; None: none of the live ones).
STREAM_CAMERAS: list[tuple[str, str, StreamSettings, dict[str, object] | None]] = [
    (
        "entrance",
        "rtsp://10.0.4.12/main",
        StreamSettings(),
        {"latency": 200, "select-rtp-protocol": 4, "rtsp-reconnect-interval": 5},
    ),
    (
        "atrium",
        "rtsp://10.0.4.13/main",
        StreamSettings(transport=RtspTransport.UDP, latency_ms=50, stall_timeout_s=2.5),
        {"latency": 50, "select-rtp-protocol": 0, "rtsp-reconnect-interval": 3},
    ),
    (
        "parking",
        "rtsps://10.0.4.14:322/main",
        StreamSettings(latency_ms=0, stall_timeout_s=30),
        {"latency": 0, "select-rtp-protocol": 4, "rtsp-reconnect-interval": 30},
    ),
    # nvurisrcbin reconnects in whole seconds, at least one.
    (
        "kiosk",
        "rtsp://10.0.4.15/main",
        StreamSettings(latency_ms=1200, stall_timeout_s=0.2),
        {"latency": 1200, "rtsp-reconnect-interval": 1},
    ),
    # The scheme fixes the transport in rtspsrc; the protocol follows it, whatever `transport` says.
    (
        "lift",
        "rtspu://10.0.4.16/main",
        StreamSettings(transport=RtspTransport.TCP),
        {"select-rtp-protocol": 0},
    ),
    (
        "stairs",
        "rtspt://10.0.4.17/main",
        StreamSettings(transport=RtspTransport.UDP),
        {"select-rtp-protocol": 4},
    ),
    # A file ignores them all: no jitter buffer, transport, reconnects or login.
    (
        "replay",
        "/videos/replay.mp4",
        StreamSettings(
            transport=RtspTransport.UDP,
            latency_ms=900,
            stall_timeout_s=1,
            username="op3rator",
            password=SecretStr("s3cret"),
        ),
        None,
    ),
]


@pytest.mark.parametrize(("camera", "uri", "stream", "expected"), STREAM_CAMERAS, ids=[c[0] for c in STREAM_CAMERAS])
def test_each_camera_gets_its_stream_settings(
    camera: str, uri: str, stream: StreamSettings, expected: dict[str, object] | None
) -> None:
    (source,) = source_slots([SourceSpec(camera, uri, stream=stream)])
    props = source_properties(source, Backoff(), SETTINGS)
    if expected is None:
        assert props == {
            "uri": source_uri(SourceSpec(camera, uri)),
            "gpu-id": 0,
            "disable-audio": True,
            "file-loop": False,
        }
        assert child_properties(source) == {}
    else:
        assert {k: props[k] for k in expected} == expected


def test_cameras_of_one_pipeline_keep_their_own_settings() -> None:
    """All the table's cameras in one pipeline: each source element is its own camera's, none another's."""
    specs = [SourceSpec(camera, uri, stream=stream) for camera, uri, stream, _ in STREAM_CAMERAS]
    graph = element_graph(source_slots(specs), Path("/c/d.txt"), None, Backoff(), SETTINGS)
    for (_, _, _, expected), element in zip(STREAM_CAMERAS, graph.sources, strict=True):
        if expected is None:
            assert not LIVE_KEYS & element.properties.keys() and element.children == {}
        else:
            assert {k: element.properties[k] for k in expected} == expected


@pytest.mark.parametrize(
    ("now_s", "stalled"),
    [
        # Per-camera stall timeouts 2.5 s (atrium), 5 s (entrance), 30 s (parking); all last seen at 0.
        (2, []),
        (3, ["atrium"]),
        (6, ["atrium", "entrance"]),
        (31, ["atrium", "entrance", "parking"]),
    ],
)
def test_each_camera_stalls_after_its_own_timeout(now_s: float, stalled: list[str]) -> None:
    specs = [SourceSpec(camera, uri, stream=stream) for camera, uri, stream, _ in STREAM_CAMERAS[:3]]
    specs.append(SourceSpec("replay", "/videos/replay.mp4", stream=StreamSettings(stall_timeout_s=1)))
    health = SourceHealth(source_slots(specs))
    for i in range(len(specs)):
        health.frame(i, 0)
    events = health.stalled(int(now_s * S))
    assert sorted(e.camera_id for e in events) == stalled
    assert all(e.state is SourceState.RECONNECTING and e.message == f"no frame for {now_s} s" for e in events)


# (source, stream login, nvurisrcbin uri, expected user-id, user-pw; None: not set)
LOGINS: list[tuple[str, dict[str, object], str, str, str | None]] = [
    ("rtsp://cam/1", {"username": "op3rator", "password": SecretStr("s3cret")}, "rtsp://cam/1", "op3rator", "s3cret"),
    # A login in the URL goes the same way, percent-decoded as rtspsrc would decode it.
    ("rtsp://op3rator:s3cret@cam/1", {}, "rtsp://cam/1", "op3rator", "s3cret"),
    ("rtsps://op3rator:s%40cr%2Fet@cam:322/x", {}, "rtsps://cam:322/x", "op3rator", "s@cr/et"),
    # A password with URL syntax in it, given where it belongs.
    (
        "rtsp://cam/1",
        {"username": "op3rator", "password": SecretStr("p@ss:w/rd")},
        "rtsp://cam/1",
        "op3rator",
        "p@ss:w/rd",
    ),
    # A username alone is set alone (rtspsrc then sends no Basic auth, as on the CPU path).
    ("rtsp://cam/1", {"username": "op3rator"}, "rtsp://cam/1", "op3rator", None),
    ("http://op3rator:s3cret@cam/mjpg", {}, "http://cam/mjpg", "op3rator", "s3cret"),
]


@pytest.mark.parametrize(
    ("uri", "login", "expected_uri", "user", "password"),
    LOGINS,
    ids=["stream", "url", "url-quoted", "url-syntax-in-password", "username-only", "http"],
)
def test_the_login_is_configured_but_never_shown(
    uri: str, login: dict[str, object], expected_uri: str, user: str, password: str | None
) -> None:
    spec = SourceSpec("door", uri, stream=StreamSettings.model_validate(login))
    plan = build_plan([spec], DetectorHead((416, 416)), Path("/d.txt"), None, Backoff(), SETTINGS)
    (source,) = plan.graph.sources
    # Configured: on the elements nvurisrcbin makes for the URL, not in its uri.
    assert source.properties["uri"] == plan.slots[0].uri == expected_uri
    for factory in ("rtspsrc", "souphttpsrc"):
        props = source.children[factory]
        assert isinstance(props["user-id"], SecretStr) and props["user-id"].get_secret_value() == user
        if password is None:
            assert "user-pw" not in props
        else:
            assert isinstance(props["user-pw"], SecretStr) and props["user-pw"].get_secret_value() == password
    # Never shown: not in the plan's repr or str, the launch line the runtime logs, an error or a status message.
    health = SourceHealth(plan.slots)
    shown = [repr(plan), str(plan), repr(plan.slots), repr(source), describe(plan.graph)]
    quoted = uri if "@" in uri else uri.replace("://", f"://{user}:{password}@")
    gst_error = f"Could not open resource for reading and writing. ({quoted}) auth {password} failed"
    shown.append(plan.redact(gst_error))
    shown += [e.message for e in health.failed(0, gst_error)]
    for text in shown:
        assert user not in text
        if password is not None:
            assert password not in text and "s%40cr%2Fet" not in text


def test_a_status_message_keeps_what_is_no_secret() -> None:
    (source,) = source_slots([SourceSpec("door", "rtsp://op3rator:s3cret@cam/1")])
    (event,) = SourceHealth([source]).failed(0, "Unauthorized (401) from rtsp://op3rator:s3cret@cam/1")
    assert event.message == "Unauthorized (401) from rtsp://***@cam/1"


@pytest.mark.parametrize(
    ("slots", "settings", "batch", "timeout", "live"),
    [
        ([slot(0), slot(1)], SETTINGS, 2, 40_000, False),
        ([slot(0, fps_hint=7.0), slot(1, live=True, fps_hint=25.0)], SETTINGS, 2, 142_857, True),
        ([slot(0)], DeepStreamSettings(batched_push_timeout_us=33_000, muxer_size=(576, 768)), 1, 33_000, False),
    ],
)
def test_muxer_properties(
    slots: list[SourceSlot], settings: DeepStreamSettings, batch: int, timeout: int, live: bool
) -> None:
    props = muxer_properties(slots, settings)
    assert (props["batch-size"], props["batched-push-timeout"], props["live-source"]) == (batch, timeout, live)
    assert (props["height"], props["width"]) == settings.muxer_size


@pytest.mark.parametrize(
    ("reid", "chain"),
    [
        (Path("/c/reid.txt"), ["nvstreammux", "queue", "nvinfer", "queue", "nvinfer", "fakesink"]),
        (None, ["nvstreammux", "queue", "nvinfer", "queue", "fakesink"]),
    ],
)
def test_element_graph(reid: Path | None, chain: list[str]) -> None:
    graph = element_graph([slot(0), slot(1, live=True)], Path("/c/detector.txt"), reid, Backoff(), SETTINGS)
    assert [e.factory for e in graph.chain] == chain
    assert [e.name for e in graph.sources] == ["src-0", "src-1"]
    detector = graph.element("detector").properties
    assert (detector["config-file-path"], detector["unique-id"], detector["batch-size"]) == ("/c/detector.txt", 1, 2)
    if reid is not None:
        assert graph.element("reid").properties["unique-id"] == 2
    with pytest.raises(KeyError, match="no element 'osd'"):
        graph.element("osd")


def test_describe_is_a_launch_line_without_passwords() -> None:
    cameras = [SourceSlot(0, "door", "rtsp://admin:s3cret@10.0.0.5/main", True)]
    line = describe(element_graph(cameras, Path("/c/d.txt"), None, Backoff(max_attempts=3), SETTINGS))
    assert line.startswith("nvurisrcbin name=src-0 uri=rtsp://***@10.0.0.5/main gpu-id=0 disable-audio=true ")
    assert " ! mux.sink_0 nvstreammux name=mux batch-size=1 width=1920 height=1080 " in line
    assert "nvinfer name=detector config-file-path=/c/d.txt unique-id=1" in line
    assert line.endswith("fakesink name=sink sync=false async=false enable-last-sample=false")
    assert "s3cret" not in line


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        # The edge's one rule (shared.config.stream): the whole user:password@ goes.
        ("rtsp://admin:pw@cam/1", "rtsp://***@cam/1"),
        ("rtsps://u:p:q@cam:8554/x", "rtsps://***@cam:8554/x"),
        ("rtsp://admin:p@ss@cam/1", "rtsp://***@cam/1"),
        ("rtsp://cam/1", "rtsp://cam/1"),
        ("rtsp://token@cam/1", "rtsp://***@cam/1"),
        ("file:///v.avi", "file:///v.avi"),
    ],
)
def test_redact_uri(uri: str, expected: str) -> None:
    assert redact_uri(uri) == expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"muxer_size": (0, 1920)}, "muxer_size must be positive"),
        ({"batched_push_timeout_us": 0}, "batched_push_timeout_us must be > 0"),
        ({"detector_interval": -1}, "detector_interval must be >= 0"),
        ({"precision": "bf16"}, "precision must be one of fp32, fp16, int8"),
        ({"queue_buffers": 0}, "queue_buffers must be >= 1"),
    ],
)
def test_settings_reject(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        DeepStreamSettings(**kwargs)  # type: ignore[arg-type]


def _paced_site(cap: float | None, fps_hints: list[float | None]) -> SiteConfig:
    return SiteConfig.model_validate(
        {
            "site": {"id": "ds-pace"},
            "floors": [{"id": "ground"}],
            "cameras": [
                {"id": f"cam-{i}", "source": f"rtsp://cam-{i}/main", "floor": "ground", "fps_hint": fps}
                for i, fps in enumerate(fps_hints)
            ],
            "tracking": {"max_association_fps": cap},
        }
    )


@pytest.mark.parametrize(
    ("cap", "fps_hints", "interval", "expected"),
    [
        # The tracker associates 30 and 25 fps cameras every 2nd frame under the default cap of 15.
        (15.0, [30.0, 30.0], None, 1),
        (15.0, [25.0], None, 1),
        (15.0, [60.0], None, 3),
        # At or below the cap every frame is associated, so every frame is detected.
        (15.0, [15.0], None, 0),
        (15.0, [7.0, 10.0], None, 0),
        # One interval for the whole batch: the slowest camera's pace, never below the cap.
        (15.0, [60.0, 30.0], None, 1),
        (15.0, [30.0, 12.0], None, 0),
        (10.0, [30.0], None, 2),
        # No cap: the tracker associates every frame.
        (None, [30.0], None, 0),
        # A camera whose rate is known only once its stream is open: detect everything.
        (15.0, [30.0, None], None, 0),
        # An interval set for the box wins.
        (15.0, [30.0], 4, 4),
        (15.0, [30.0], 0, 0),
    ],
)
def test_detector_interval_follows_the_association_pace(
    cap: float | None, fps_hints: list[float | None], interval: int | None, expected: int
) -> None:
    site = _paced_site(cap, fps_hints)
    cameras = [c.id for c in site.cameras]
    assert detector_interval_for(site, cameras, DeepStreamSettings(detector_interval=interval)) == expected


def test_the_agents_cameras_are_tracked_at_the_detected_pace(tmp_path: Path) -> None:
    """30 fps cameras under the 15 fps cap: nvinfer detects every 2nd frame and the tracker sees those."""
    agent = DeepStreamAgent(
        _paced_site(15.0, [30.0, 30.0]),
        ["cam-0", "cam-1"],
        InProcessSink(lambda env: None),
        AgentSettings("e", tmp_path),
        MODELS,
    )
    assert [camera.fps for camera in agent._inputs.values()] == [15.0, 15.0]


# Per frame: which camera, where its boxes lie, when it was captured


def test_camera_of_maps_muxer_pads() -> None:
    slots = [slot(0), slot(1)]
    assert camera_of(slots, 1).camera_id == "cam-1"
    with pytest.raises(ValueError, match=r"muxer pad 2, but the pipeline has pads 0\.\.1"):
        camera_of(slots, 2)


def test_order_batch_by_camera_then_frame() -> None:
    empty = np.zeros((0, 6), np.float32)
    batch = [FrameResult(1, 7, (1, 1), None, None, empty), FrameResult(0, 9, (1, 1), None, None, empty)]
    batch.append(FrameResult(1, 6, (1, 1), None, None, empty))
    assert [(r.pad_index, r.frame_num) for r in order_batch(batch)] == [(0, 9), (1, 6), (1, 7)]


BOXES = np.array([[10, 10, 50, 100, 0.9, 0], [300, 50, 380, 250, 0.8, 0], [340, 0, 420, 200, 0.7, 0]], dtype=np.float32)


@pytest.mark.parametrize(
    ("crop", "kept", "expected_xyxy", "size"),
    [
        (None, [0, 1, 2], BOXES[:, :4], (576, 768)),
        # cam-left of the split demo: the third box's centre (380) is past x1 = 360.
        ((0, 0, 360, 576), [0, 1], [[10, 10, 50, 100], [300, 50, 360, 250]], (576, 360)),
        ((320, 0, 768, 576), [1, 2], [[0, 50, 60, 250], [20, 0, 100, 200]], (576, 448)),
    ],
)
def test_crop_to_camera(
    crop: tuple[int, int, int, int] | None, kept: list[int], expected_xyxy: list[list[float]], size: tuple[int, int]
) -> None:
    embeddings = np.eye(3, 4, dtype=np.float32)
    boxes, embs, frame_size = crop_to_camera(BOXES, embeddings, crop, (576, 768))
    np.testing.assert_allclose(boxes[:, :4], expected_xyxy)
    np.testing.assert_array_equal(boxes[:, 4], BOXES[kept, 4])
    assert embs is not None
    np.testing.assert_array_equal(embs, embeddings[kept])
    assert frame_size == size


def test_crop_larger_than_the_frame() -> None:
    with pytest.raises(ValueError, match=re.escape("crop (0, 0, 800, 576) exceeds the 768x576 frame")):
        crop_to_camera(BOXES, None, (0, 0, 800, 576), (576, 768))


@pytest.mark.parametrize(
    ("clock", "frames", "expected"),
    [
        # Live: the muxer's system timestamp, else now.
        (CaptureClock(True, 0), [(0, 5, 123 * S, 200 * S), (1, None, None, 201 * S)], [123 * S, 201 * S]),
        # File with an fps hint: start + frame / hint, whatever the stream's timestamps say.
        (CaptureClock(False, 10 * S, fps_hint=7.0), [(0, 3 * S, None, 0), (14, 9 * S, None, 0)], [10 * S, 12 * S]),
        # File without a hint: its timestamps, from the first one.
        (CaptureClock(False, 10 * S), [(0, 4 * S, None, 0), (1, 4 * S + S // 2, None, 0)], [10 * S, 10 * S + S // 2]),
        # Neither: the nominal rate.
        (CaptureClock(False, 0, fps=10.0), [(0, None, None, 0), (5, None, None, 0)], [0, S // 2]),
    ],
)
def test_capture_clock(
    clock: CaptureClock, frames: list[tuple[int, int | None, int | None, int]], expected: list[int]
) -> None:
    assert [clock.time_ns(*f) for f in frames] == expected


def _states(events: list[SourceEvent]) -> list[str]:
    return [e.state.value for e in events]


def test_file_camera_states() -> None:
    health = SourceHealth([slot(0), slot(1)])
    assert _states(health.frame(0, 1)) == ["online"]
    assert health.frame(0, 2) == []
    assert _states(health.ended(0)) == ["ended"] and health.finished(0)
    assert health.frame(0, 3) == [] and health.ended(0) == []
    missing = health.failed(1, "Resource not found")
    assert _states(missing) == ["offline"] and missing[0].message == "Resource not found"
    assert health.all_finished()
    assert health.stalled(10**15) == []


def test_live_camera_states() -> None:
    health = SourceHealth([slot(0, live=True, stall_s=10)], max_attempts=3)
    assert _states(health.frame(0, 1 * S)) == ["online"]
    assert health.stalled(5 * S) == []
    stalled = health.stalled(12 * S)
    assert _states(stalled) == ["reconnecting"] and stalled[0].message == "no frame for 11 s"
    assert health.stalled(30 * S) == []
    assert _states(health.frame(0, 31 * S)) == ["online"]
    assert _states(health.ended(0)) == ["reconnecting"]
    assert _states(health.failed(0, "timeout")) == ["reconnecting"]
    gave_up = health.failed(0, "timeout")
    assert _states(gave_up) == ["offline"] and gave_up[0].message == "giving up after 3 attempts: timeout"
    assert health.all_finished()


# Geometry back and forth through the batch meta


def test_rects_go_to_the_muxer_and_back() -> None:
    muxer, source = (1080, 1920), (576, 768)
    rects = muxer_rects(BOXES, muxer, source)
    np.testing.assert_allclose(rects[0], [25, 18.75, 100, 168.75], rtol=1e-6)
    back = source_boxes(rects, BOXES[:, 4], BOXES[:, 5].astype(np.int64), muxer, source)
    np.testing.assert_allclose(back, BOXES, rtol=1e-5)
    assert source_boxes(np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64), muxer, source).shape == (0, 6)
    with pytest.raises(ValueError, match="one each per object"):
        source_boxes(rects, BOXES[:2, 4], BOXES[:, 5].astype(np.int64), muxer, source)
    with pytest.raises(ValueError, match="sizes must be positive"):
        muxer_rects(BOXES, (0, 1920), source)


def test_objects_the_secondary_skipped_get_zero_embeddings() -> None:
    out = object_embeddings([np.full(4, 3.0), None], dim=4)
    np.testing.assert_allclose(out, [[0.5, 0.5, 0.5, 0.5], [0, 0, 0, 0]])


# Precomputed embeddings in the tracker


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return create_embedder(threads=1)


def _track(tracker: BotSortTracker, embedder: Embedder | None, placeholder: bool) -> list[Detections]:
    outputs = []
    for frame in range(15):
        image, det = crossing_people(frame)
        if embedder is not None:
            # What the secondary nvinfer hands over: a vector for every box.
            det = replace(det, embeddings=embedder.embed(image, det.xyxy))
        if placeholder:
            image = np.zeros_like(image)
        outputs.append(tracker.update(det, image, (frame + 1) * 100_000_000))
    return outputs


@pytest.mark.parametrize(("cmc", "placeholder"), [("sof", False), ("none", True)])
def test_precomputed_embeddings_give_the_embedders_tracks(embedder: Embedder, cmc: str, placeholder: bool) -> None:
    """The DeepStream case is the second: vectors with the boxes, no pixels, no motion compensation."""
    settings = Tracking(cmc_method=cmc)  # type: ignore[arg-type]
    reference = BotSortTracker(settings, frame_rate=10, embedder=embedder)
    expected = _track(reference, None, placeholder=False)
    precomputed = BotSortTracker(settings, 10, PrecomputedEmbedder(embedder.model_id, embedder.dim))
    got = _track(precomputed, embedder, placeholder)
    assert len({frozenset(o.tracker_id.tolist()) for o in expected if len(o) == 2}) == 1
    for ours, theirs in zip(got, expected, strict=True):
        np.testing.assert_array_equal(ours.tracker_id, theirs.tracker_id)
        np.testing.assert_allclose(ours.xyxy, theirs.xyxy, atol=1e-3)
        assert ours.embeddings is not None and theirs.embeddings is not None
        np.testing.assert_allclose(ours.embeddings, theirs.embeddings, atol=1e-4)
    assert precomputed.embeddings_computed == reference.embeddings_computed < 2 * 15
    for tid in expected[-1].tracker_id.tolist():
        ours_agg, theirs_agg = precomputed.appearance.embedding(tid), reference.appearance.embedding(tid)
        assert ours_agg is not None and theirs_agg is not None
        np.testing.assert_allclose(ours_agg[0], theirs_agg[0], atol=1e-4)


def test_precomputed_embedder_refuses_pixels_and_wrong_sizes(embedder: Embedder) -> None:
    stand_in = PrecomputedEmbedder("osnet@1234abcd", 512)
    image, det = crossing_people(0)
    with pytest.raises(ValueError, match="must come with them"):
        stand_in.embed(image, det.xyxy)
    tracker = BotSortTracker(Tracking(), 10, stand_in)
    with pytest.raises(ValueError, match="must come with them"):
        tracker.update(det, image, 1)
    with pytest.raises(ValueError, match="detections carry 8-D embeddings but osnet@1234abcd gives 512-D"):
        BotSortTracker(Tracking(), 10, stand_in).update(replace(det, embeddings=np.ones((2, 8), np.float32)), image, 1)
    with pytest.raises(ValueError, match="dimension must be >= 1"):
        PrecomputedEmbedder("x", 0)


def test_perception_checks_the_embedding_rows() -> None:
    site = _site(reid=True)
    perception = CameraPerception.from_config(site, "cam-a", 10, PrecomputedEmbedder("m", 4), motion_compensation=False)
    assert isinstance(perception.tracker, BotSortTracker) and perception.tracker.settings.cmc_method == "none"
    frame = Frame("cam-a", 0, 1, np.zeros((240, 320, 3), np.uint8))
    with pytest.raises(ValueError, match=re.escape("embeddings must have shape (2, D), got (1, 4)")):
        perception.step(frame, crossing_people(0)[1].as_array(), np.ones((1, 4), np.float32))


# The agent on a fake pipeline


def _site(
    reid: bool = True, snapshots: bool = False, crop_b: list[int] | None = None, detector_b: object = None
) -> SiteConfig:
    cam_b: dict[str, object] = {"id": "cam-b", "source": "rtsp://cam-b/main", "floor": "ground"}
    if crop_b is not None:
        cam_b["crop"] = crop_b
    if detector_b is not None:
        cam_b["detector"] = detector_b
    return SiteConfig.model_validate(
        {
            "site": {"id": "ds-test"},
            "floors": [{"id": "ground"}],
            "cameras": [{"id": "cam-a", "source": "/videos/a.mp4", "floor": "ground", "fps_hint": 10}, cam_b],
            "lines": [{"id": "door", "camera": "cam-a", "points": [[100, 0], [100, 240]]}],
            "tracking": {"reid": reid},
            "privacy": {"snapshots": snapshots},
        }
    )


# Prepared for the site's default (pedestrian) detector profile, at its 416x544.
MODELS = DeepStreamModels(
    "bytetrack_nano_mix@aaaa0000", Path("/c/detector.txt"), (416, 544), "osnet@bbbb1111", Path("/r.txt")
)


class FakeRunner:
    """Plays the pipeline's side: per muxer batch one result per camera, states as SourceHealth derives them."""

    def __init__(
        self,
        plan: PipelinePlan,
        on_frames: FramesCallback,
        on_event: EventCallback,
        on_rate: RateCallback,
        frames: list[list[FrameResult]],
        early_end: bool = False,
    ) -> None:
        self.plan, self.on_frames, self.on_event, self.on_rate = plan, on_frames, on_event, on_rate
        self.frames = frames
        self.early_end = early_end

    def run(self, stop: threading.Event) -> None:
        health = SourceHealth(self.plan.slots, self.plan.max_attempts)
        self.on_rate(1, 12.5)
        for k, batch in enumerate(self.frames):
            if self.early_end and k == len(self.frames) - 2:
                # cam-a's end of stream passes its source pad while its last frames are still in the pipeline.
                for event in health.ended(0):
                    self.on_event(event)
            for r in batch:
                for event in health.frame(r.pad_index, 0):
                    self.on_event(event)
            if not self.on_frames(batch):
                return
        for event in health.ended(0) + health.failed(1, "connection refused"):
            self.on_event(event)


def _batches(embedder: Embedder, frames: int = 15) -> list[list[FrameResult]]:
    batches = []
    for k in range(frames):
        image, det = crossing_people(k)
        boxes, embs = det.as_array(), embedder.embed(image, det.xyxy)
        batches.append([FrameResult(i, k, (240, 320), k * 100_000_000, None, boxes, embs) for i in (0, 1)])
    return batches


def _run_agent(
    tmp_path: Path, site: SiteConfig, embedder: Embedder, frames: int = 15, early_end: bool = False
) -> tuple[DeepStreamAgent, list, list[pb.Envelope]]:
    received: list[pb.Envelope] = []
    sink = InProcessSink(lambda env: received.append(decode_envelope(env.SerializeToString())))
    batches = _batches(embedder, frames)
    agent = DeepStreamAgent(
        site,
        ["cam-a", "cam-b"],
        sink,
        # cam-b (live) gives up at its first failure: OFFLINE, as a file's failure is.
        AgentSettings(edge_id="jetson-1", state_dir=tmp_path / "state", backoff=Backoff(max_attempts=1)),
        MODELS,
        runner=lambda plan, f, e, r: FakeRunner(plan, f, e, r, batches, early_end),
    )
    return agent, agent.run(), received


def test_agent_tracks_and_publishes_what_the_pipeline_hands_over(tmp_path: Path, embedder: Embedder) -> None:
    agent, reports, received = _run_agent(tmp_path, _site(), embedder)
    assert [s.uri for s in agent.plan.slots] == ["file:///videos/a.mp4", "rtsp://cam-b/main"]
    # The tensor is decoded as the cameras' detector profile says.
    assert agent.plan.detector == DetectorHead((416, 544), layout="yolox", conf_threshold=0.1, classes=(0,))
    assert agent.plan.reid is not None and agent.plan.graph.element("reid").properties["config-file-path"] == "/r.txt"
    by_camera = {r.camera_id: r for r in reports}
    assert by_camera["cam-a"].frames == by_camera["cam-b"].frames == 15
    assert by_camera["cam-a"].error is None
    assert by_camera["cam-b"].error == "giving up after 1 attempts: connection refused"
    for camera in ("cam-a", "cam-b"):
        events = [e for e in received if e.camera_id == camera]
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        kinds = Counter(e.WhichOneof("payload") for e in events)
        assert kinds["track_update"] > 0 and kinds["track_closed"] == 2
        closed = [e.track_closed for e in events if e.HasField("track_closed")]
        assert all(c.HasField("embedding") and c.embedding.dim == 512 for c in closed)
        assert {c.embedding.model_id for c in closed} == {"osnet@bbbb1111"}
        status = [e.camera_status for e in events if e.HasField("camera_status")]
        assert status[0].state == pb.CAMERA_STATE_ONLINE
        assert dict(status[0].model_versions) == {"detector": "bytetrack_nano_mix@aaaa0000", "reid": "osnet@bbbb1111"}
    # The person walking right crosses cam-a's door line (cam-b has none).
    crossings = [e for e in received if e.HasField("line_crossing")]
    assert len(crossings) == 1 and crossings[0].camera_id == "cam-a"
    final = [e.camera_status.state for e in received if e.camera_id == "cam-b" and e.HasField("camera_status")]
    assert final[-1] == pb.CAMERA_STATE_OFFLINE
    # cam-a's fps hint (10) paces its capture times: 15 frames span 1.4 s.
    times = [e.event_time_ns for e in received if e.camera_id == "cam-a" and e.HasField("track_update")]
    assert max(times) - min(times) <= 1.4 * S


def test_frames_after_a_files_end_of_stream_are_still_tracked(tmp_path: Path, embedder: Embedder) -> None:
    _, reports, received = _run_agent(tmp_path, _site(), embedder, frames=6, early_end=True)
    assert {r.camera_id: r.frames for r in reports} == {"cam-a": 6, "cam-b": 6}
    states = [e.camera_status.state for e in received if e.camera_id == "cam-a" and e.HasField("camera_status")]
    assert states[0] == pb.CAMERA_STATE_ONLINE and states[-1] == pb.CAMERA_STATE_ENDED


def test_agent_crops_and_rejects_a_crop_beyond_the_frame(tmp_path: Path, embedder: Embedder) -> None:
    _, reports, received = _run_agent(tmp_path, _site(crop_b=[0, 0, 400, 240]), embedder, frames=3)
    by_camera = {r.camera_id: r for r in reports}
    assert by_camera["cam-a"].frames == 3 and by_camera["cam-b"].frames == 0
    assert by_camera["cam-b"].error == "camera cam-b: crop (0, 0, 400, 240) exceeds the 320x240 frame"
    assert any(e.camera_id == "cam-b" and e.camera_status.state == pb.CAMERA_STATE_OFFLINE for e in received)


def test_deepstream_camera_frames_share_one_untouched_placeholder() -> None:
    camera = DeepStreamCamera(SourceSpec("c", "/v.avi", fps_hint=10.0), start_ns=5 * S, detector_interval=1)
    first, second = camera.frame((1080, 1920), 0, None, None, 0), camera.frame((1080, 1920), 2, None, None, 0)
    assert first.image is second.image and first.image.shape == (1080, 1920, 3)
    assert not first.image.flags.writeable
    assert (first.index, second.index, second.capture_time_ns) == (0, 1, 5 * S + S // 5)
    # Every other frame is inferred: the tracker runs at half the source's rate.
    assert camera.fps == 5.0
    replayed = DeepStreamCamera(SourceSpec("c", "/v.avi", fps_hint=10.0, replay_start_ns=7 * S), start_ns=5 * S)
    assert replayed.frame((576, 768), 10, None, None, 0).capture_time_ns == 8 * S


@pytest.mark.parametrize(
    ("site", "models", "message"),
    [
        (_site(snapshots=True), MODELS, "privacy.snapshots needs frames on the CPU"),
        (_site(reid=True), replace(MODELS, reid_id=None, reid_config=None), "tracking.reid is on but"),
        # One primary nvinfer for all cameras: one profile.
        (
            _site(detector_b="coco"),
            MODELS,
            "cam-a: model=bytetrack_nano_mix, input_size=[416, 544]; cam-b: model=yolox_nano, input_size=[416, 416]",
        ),
        (_site(), replace(MODELS, detector_input=(416, 416)), "prepared for 416x416 but the cameras' detector"),
    ],
    ids=["snapshots", "reid", "mixed-profiles", "prepared-size"],
)
def test_agent_rejects(tmp_path: Path, site: SiteConfig, models: DeepStreamModels, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        DeepStreamAgent(site, ["cam-a", "cam-b"], InProcessSink(lambda env: None), AgentSettings("e", tmp_path), models)


def test_cameras_of_one_profile_share_the_pipeline_though_others_differ(tmp_path: Path) -> None:
    """Only the agent's own cameras must agree: cam-b's COCO override is another agent's business."""
    agent = DeepStreamAgent(
        _site(detector_b="coco"), ["cam-a"], InProcessSink(lambda env: None), AgentSettings("e", tmp_path), MODELS
    )
    assert agent.plan.detector.input_size == (416, 544) and [s.camera_id for s in agent.plan.slots] == ["cam-a"]


def test_the_agent_takes_each_cameras_stream_settings_from_the_site(tmp_path: Path) -> None:
    """From the site file to the element: cam-b's `stream:` reaches its nvurisrcbin, cam-a (a file) is untouched."""
    site = _site().model_dump(mode="json")
    site["cameras"][1]["stream"] = {
        "transport": "udp", "latency_ms": 80, "stall_timeout_s": 12, "username": "op3rator", "password": "s3cret",
    }  # fmt: skip
    agent = DeepStreamAgent(
        SiteConfig.model_validate(site),
        ["cam-a", "cam-b"],
        InProcessSink(lambda env: None),
        AgentSettings("e", tmp_path),
        MODELS,
    )
    file_source, camera = agent.plan.graph.sources
    assert not LIVE_KEYS & file_source.properties.keys() and file_source.children == {}
    assert {k: camera.properties[k] for k in LIVE_KEYS - {"drop-on-latency"}} == {
        "latency": 80, "select-rtp-protocol": 0, "rtsp-reconnect-interval": 12,
    }  # fmt: skip
    assert camera.children["rtspsrc"]["user-pw"] == SecretStr("s3cret") and agent.plan.slots[1].stall_s == 12
    assert "s3cret" not in repr(agent.plan) + describe(agent.plan.graph)


def test_models_need_both_reid_parts() -> None:
    with pytest.raises(ValueError, match="needs both its model id and its nvinfer config"):
        replace(MODELS, reid_config=None)


def test_no_reid_stage_when_the_site_tracks_without_it(tmp_path: Path) -> None:
    agent = DeepStreamAgent(
        _site(reid=False), ["cam-a"], InProcessSink(lambda env: None), AgentSettings("e", tmp_path), MODELS
    )
    assert agent.plan.reid is None and [e.name for e in agent.plan.graph.chain][-2:] == ["queue-objects", "sink"]


# Without DeepStream: clear errors, not tracebacks


@pytest.mark.skipif(HAS_DEEPSTREAM, reason="DeepStream is installed here")
def test_backend_names_what_is_missing() -> None:
    from edge.inference.factory import deepstream_backend

    with pytest.raises(ImportError, match=r"engine 'deepstream' needs .* DeepStream 7 .*; missing: (gi, )?pyds \("):
        deepstream_backend()


@pytest.mark.skipif(HAS_DEEPSTREAM, reason="DeepStream is installed here")
def test_edge_run_without_deepstream_says_what_is_missing(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(yaml.safe_dump(_site().model_dump(mode="json", exclude_defaults=True)))
    result = subprocess.run(
        [sys.executable, "-m", "shared.cli.main", "edge", "run", "--config", str(site), "--engine", "deepstream"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "engine 'deepstream' needs" in result.stderr and re.search(r"missing: (gi, )?pyds", result.stderr)
    assert "Traceback" not in result.stderr


# The probes against a stand-in pyds: what they read and write in the batch meta


def _glist(items: list[object]) -> SimpleNamespace | None:
    head = None
    for item in reversed(items):
        head = SimpleNamespace(data=item, next=head)
    return head


def _tensor_meta(unique_id: int, values: np.ndarray) -> SimpleNamespace:
    values = np.ascontiguousarray(values, dtype=np.float32)
    layer = SimpleNamespace(
        dataType="FLOAT", layerName="output", isInput=0, buffer=values,
        inferDims=SimpleNamespace(numDims=values.ndim, d=list(values.shape)),
    )  # fmt: skip
    tensor = SimpleNamespace(unique_id=unique_id, num_output_layers=1, layers=[layer])
    return SimpleNamespace(base_meta=SimpleNamespace(meta_type="TENSOR"), user_meta_data=tensor)


def _stand_in_pyds(batches: dict[int, SimpleNamespace]) -> ModuleType:
    pyds = ModuleType("pyds")
    identity = SimpleNamespace(cast=lambda data: data)
    pyds.NvDsInferDataType = SimpleNamespace(FLOAT="FLOAT", INT32="INT32", INT8="INT8")  # type: ignore[attr-defined]
    pyds.NvDsMetaType = SimpleNamespace(NVDSINFER_TENSOR_OUTPUT_META="TENSOR")  # type: ignore[attr-defined]
    for name in ("NvDsFrameMeta", "NvDsObjectMeta", "NvDsUserMeta", "NvDsInferTensorMeta"):
        setattr(pyds, name, identity)
    pyds.gst_buffer_get_nvds_batch_meta = batches.__getitem__  # type: ignore[attr-defined]
    pyds.get_nvds_LayerInfo = lambda tensor, i: tensor.layers[i]  # type: ignore[attr-defined]
    pyds.get_ptr = lambda buffer: buffer.ctypes.data  # type: ignore[attr-defined]
    rect = {"left": 0.0, "top": 0.0, "width": 0.0, "height": 0.0}
    pyds.nvds_acquire_obj_meta_from_pool = lambda batch: SimpleNamespace(  # type: ignore[attr-defined]
        rect_params=SimpleNamespace(**rect), obj_user_meta_list=None
    )

    def add(frame: SimpleNamespace, obj: SimpleNamespace, parent: object) -> None:
        frame.objects.append(obj)
        frame.obj_meta_list = _glist(frame.objects)

    pyds.nvds_add_obj_meta_to_frame = add  # type: ignore[attr-defined]
    return pyds


def _runtime_on(monkeypatch: pytest.MonkeyPatch, pyds: ModuleType) -> ModuleType:
    """edge.deepstream.runtime imported against `pyds` (a stand-in) and this machine's GStreamer."""
    pytest.importorskip("gi")
    monkeypatch.setitem(sys.modules, "pyds", pyds)
    # Put back by hand: monkeypatch.delitem records nothing for an absent key, so a second
    # delitem would restore the stand-in-bound runtime after the test.
    package = importlib.import_module("edge.deepstream")
    original, original_attr = sys.modules.pop("edge.deepstream.runtime", None), package.__dict__.get("runtime")
    try:
        return importlib.import_module("edge.deepstream.runtime")
    finally:
        sys.modules.pop("edge.deepstream.runtime", None)
        package.__dict__.pop("runtime", None)
        if original is not None:
            sys.modules["edge.deepstream.runtime"] = original
        if original_attr is not None:
            package.runtime = original_attr  # type: ignore[attr-defined]


def test_probes_move_our_boxes_through_the_batch_meta(monkeypatch: pytest.MonkeyPatch) -> None:
    # One camera of 768x576 the muxer stretched to 1920x1080; the detector letterboxed that into 416x416.
    person = np.array([960.0, 270.0, 1152.0, 810.0]) * (416 / 1920)
    raw = np.array([[*person, 0.9, 0.0], [0, 0, 10, 10, 0.05, 0.0]], dtype=np.float32)
    inferred = SimpleNamespace(
        pad_index=0, frame_num=4, source_frame_width=768, source_frame_height=576, buf_pts=0, ntp_timestamp=0,
        frame_user_meta_list=_glist([_tensor_meta(1, raw)]), obj_meta_list=None, objects=[],
    )  # fmt: skip
    # The detector's interval skipped this camera's frame: no tensor, not tracked.
    skipped = SimpleNamespace(**{**vars(inferred), "pad_index": 1, "frame_user_meta_list": None, "objects": []})
    batch = SimpleNamespace(frame_meta_list=_glist([inferred, skipped]))
    buffer = object()
    runtime = _runtime_on(monkeypatch, _stand_in_pyds({hash(buffer): batch}))

    specs = [SourceSpec("cam-a", "/a.avi"), SourceSpec("cam-b", "/b.avi")]
    plan = build_plan(
        specs, DetectorHead((416, 416)), Path("/d.txt"), (ReidHead(dim=4), Path("/r.txt")), Backoff(), SETTINGS
    )
    delivered: list[list[FrameResult]] = []
    events: list[SourceEvent] = []
    runner = runtime.DeepStreamRunner(plan, lambda r: delivered.append(r) or True, events.append, lambda i, f: None)
    info = SimpleNamespace(get_buffer=lambda: buffer)

    assert runner._attach_detections(None, info) == runtime.Gst.PadProbeReturn.OK
    (obj,) = inferred.objects
    assert (obj.unique_component_id, obj.class_id, obj.object_id) == (1, 0, runtime.UNTRACKED_OBJECT_ID)
    rect = obj.rect_params
    np.testing.assert_allclose([rect.left, rect.top, rect.width, rect.height], [960, 270, 192, 540], rtol=1e-4)
    assert skipped.objects == []
    # What the secondary nvinfer does in between: a vector on each person.
    obj.obj_user_meta_list = _glist([_tensor_meta(2, np.array([3.0, 0.0, 4.0, 0.0]))])

    assert runner._collect(None, info) == runtime.Gst.PadProbeReturn.OK
    ((result,),) = delivered
    assert (result.pad_index, result.frame_num, result.source_size) == (0, 4, (576, 768))
    np.testing.assert_allclose(result.boxes[0, :4], [384, 144, 460.8, 432], rtol=1e-4)
    assert result.embeddings is not None
    np.testing.assert_allclose(result.embeddings, [[0.6, 0, 0.8, 0]])
    assert [(e.camera_id, e.state) for e in events] == [("cam-a", SourceState.ONLINE)]


# The login through real GStreamer bins: a "bin" stands in for nvurisrcbin, which makes its
# rtspsrc inside itself (directly, or inside a uridecodebin of its own) when it starts.


def _rtspsrc_added(outer: Any, Gst: Any) -> Any:
    element = Gst.ElementFactory.make("rtspsrc", None)
    outer.add(element)
    return element


def _rtspsrc_in_an_added_bin(outer: Any, Gst: Any) -> Any:
    inner = Gst.Bin.new(None)
    element = Gst.ElementFactory.make("rtspsrc", None)
    inner.add(element)
    outer.add(inner)
    return element


def _rtspsrc_added_to_a_sub_bin(outer: Any, Gst: Any) -> Any:
    inner = Gst.Bin.new(None)
    outer.add(inner)
    element = Gst.ElementFactory.make("rtspsrc", None)
    inner.add(element)
    return element


def _rtspsrc_of_uridecodebin(outer: Any, Gst: Any) -> Any:
    decodebin = Gst.ElementFactory.make("uridecodebin", None)
    # Port 9 (discard): nothing answers; rtspsrc is made when the URI is opened (READY → PAUSED).
    decodebin.set_property("uri", "rtsp://127.0.0.1:9/x")
    outer.add(decodebin)
    pipeline = Gst.Pipeline.new(None)
    pipeline.add(outer)
    pipeline.set_state(Gst.State.PAUSED)
    found: list[Any] = []
    outer.iterate_recurse().foreach(lambda e: found.append(e) if e.get_factory().get_name() == "rtspsrc" else None)
    pipeline.set_state(Gst.State.NULL)
    return found[0]


@pytest.mark.parametrize(
    "make_rtspsrc",
    [_rtspsrc_added, _rtspsrc_in_an_added_bin, _rtspsrc_added_to_a_sub_bin, _rtspsrc_of_uridecodebin],
    ids=["added", "in-an-added-bin", "added-to-a-sub-bin", "made-by-uridecodebin"],
)
def test_the_runtime_sets_the_login_on_the_rtspsrc_inside(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, make_rtspsrc: Any
) -> None:
    runtime = _runtime_on(monkeypatch, _stand_in_pyds({}))
    Gst = runtime.Gst
    Gst.init(None)
    if Gst.ElementFactory.find("rtspsrc") is None:
        pytest.skip("GStreamer's rtspsrc (gst-plugins-good) is not installed here")
    login = StreamSettings(username="op3rator", password=SecretStr("s3cret"))
    (source,) = source_slots([SourceSpec("door", "rtsp://cam/1", stream=login)])
    children = child_properties(source)
    # A property this GStreamer lacks is skipped with a warning that names it, never its value.
    children["rtspsrc"]["no-such-property"] = SecretStr("s3cret")
    outer = runtime.DeepStreamRunner._make(ElementSpec("bin", "src-0", {}, children))
    with caplog.at_level("WARNING", logger=runtime.log.name):
        rtspsrc = make_rtspsrc(outer, Gst)
    assert (rtspsrc.get_property("user-id"), rtspsrc.get_property("user-pw")) == ("op3rator", "s3cret")
    assert "rtspsrc has no property no-such-property" in caplog.text and "s3cret" not in caplog.text


def test_the_runtime_sets_the_login_on_an_rtspsrc_already_inside(monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = _runtime_on(monkeypatch, _stand_in_pyds({}))
    Gst = runtime.Gst
    Gst.init(None)
    if Gst.ElementFactory.find("rtspsrc") is None:
        pytest.skip("GStreamer's rtspsrc (gst-plugins-good) is not installed here")
    outer = Gst.Bin.new(None)
    rtspsrc, queue = _rtspsrc_in_an_added_bin(outer, Gst), Gst.ElementFactory.make("queue", None)
    outer.add(queue)
    runtime.configure_children(outer, {"rtspsrc": {"user-id": SecretStr("op3rator")}})
    assert (rtspsrc.get_property("user-id"), rtspsrc.get_property("user-pw")) == ("op3rator", None)


# On a machine with DeepStream


@pytest.mark.gpu
@needs_deepstream
def test_runtime_finds_the_deepstream_plugins() -> None:
    from edge.inference.factory import deepstream_backend

    runtime = deepstream_backend()
    assert set(runtime.REQUIRED_PLUGINS) == {"nvurisrcbin", "nvstreammux", "nvinfer"}


@pytest.mark.gpu
@needs_deepstream
def test_split_demo_runs_on_deepstream(tmp_path: Path, vtest_clip: Path) -> None:
    """Both cameras of the split demo through the real pipeline: frames, tracks and their embeddings."""
    from edge.deepstream.agent import build_deepstream_agent
    from shared.config import load_site_config

    site = load_site_config(split_site_on(vtest_clip, tmp_path))
    received: list[pb.Envelope] = []
    agent = build_deepstream_agent(
        site,
        [c.id for c in site.cameras],
        InProcessSink(received.append),
        AgentSettings(edge_id="jetson-test", state_dir=tmp_path / "state"),
        options=DeepStreamSettings(muxer_size=(576, 768)),
    )
    reports = agent.run()
    assert all(r.frames == 60 and r.error is None for r in reports)
    closed = [e.track_closed for e in received if e.HasField("track_closed")]
    assert closed and any(c.HasField("embedding") for c in closed)
