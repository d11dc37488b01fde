"""The agent with several cameras in one process: batching, isolation of a failing camera, reports."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from numpy.typing import NDArray

from edge.agent.agent import AgentSettings, EdgeAgent
from edge.agent.assemble import AgentOptions
from edge.inference.base import Detector
from edge.inference.factory import create_detector, create_embedder, detect_workers_for
from edge.publish import InProcessSink
from edge.sources.factory import open_source
from edge.sources.reconnect import Backoff
from shared.config import load_site_config
from shared.schema import decode_envelope, pb

EXAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "examples"


class CountingDetector(Detector):
    """The real detector, recording how many frames each call carried."""

    def __init__(self, inner: Detector) -> None:
        super().__init__(inner.model_id)
        self.inner = inner
        self.batch_sizes: list[int] = []

    def _detect(self, images: list[NDArray[np.uint8]]) -> list[NDArray[np.float32]]:
        self.batch_sizes.append(len(images))
        return self.inner.detect(images)


def split_site(tmp_path: Path, video: Path, broken: bool) -> Path:
    raw = yaml.safe_load((EXAMPLES / "pets09-split.yaml").read_text())
    for cam in raw["cameras"]:
        cam["source"] = str(video)
    if broken:
        raw["cameras"].append({"id": "cam-broken", "source": str(tmp_path / "missing.avi"), "floor": "ground"})
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.fixture(scope="module")
def detector() -> CountingDetector:
    return CountingDetector(create_detector())


class QueueWatchingDetector(CountingDetector):
    """Records, per call, whether a detected batch was still waiting for the main loop."""

    agent: EdgeAgent | None = None
    waiting: list[bool]

    def _detect(self, images: list[NDArray[np.uint8]]) -> list[NDArray[np.float32]]:
        assert self.agent is not None
        self.waiting.append(self.agent._handoff.detected_waiting)
        return super()._detect(images)


def build_agent(
    site_path: Path,
    tmp_path: Path,
    detector: Detector,
    received: list[pb.Envelope] | None = None,
    detect_workers: int = 1,
) -> EdgeAgent:
    site = load_site_config(site_path)
    # Through the wire format, as the cloud would see it.
    sink = InProcessSink(
        lambda env: (received if received is not None else []).append(decode_envelope(env.SerializeToString()))
    )
    return EdgeAgent(
        site,
        [c.id for c in site.cameras],
        detector,
        create_embedder(),
        sink,
        AgentSettings(
            edge_id="edge-test",
            state_dir=tmp_path / "state",
            backoff=Backoff(initial_s=0.01),
            detect_workers=detect_workers,
        ),
        opener=lambda spec: open_source(spec, "opencv"),
    )


def run_agent(site_path: Path, tmp_path: Path, detector: Detector) -> tuple[list, list[pb.Envelope]]:
    received: list[pb.Envelope] = []
    return build_agent(site_path, tmp_path, detector, received).run(), received


def test_frames_are_detected_only_when_their_batch_can_be_handed_on(
    tmp_path: Path, vtest_clip: Path, detector: CountingDetector
) -> None:
    watching = QueueWatchingDetector(detector.inner)
    watching.waiting = []
    agent = build_agent(split_site(tmp_path, vtest_clip, broken=False), tmp_path, watching)
    watching.agent = agent
    reports = agent.run()
    assert [r.frames for r in reports] == [60, 60]
    # Never a detection while a detected batch still waits: its frames would be stale when tracked.
    assert sum(watching.batch_sizes) == 120 and len(watching.waiting) == len(watching.batch_sizes)
    assert not any(watching.waiting)


def test_cameras_share_detector_batches_and_a_broken_one_is_isolated(
    tmp_path: Path, vtest_clip: Path, detector: CountingDetector
) -> None:
    reports, received = run_agent(split_site(tmp_path, vtest_clip, broken=True), tmp_path, detector)
    by_camera = {r.camera_id: r for r in reports}
    assert by_camera["cam-left"].frames == by_camera["cam-right"].frames == 60
    assert by_camera["cam-broken"].frames == 0
    assert "missing.avi" in (by_camera["cam-broken"].error or "")
    assert max(detector.batch_sizes) == 2
    broken_status = [e.camera_status for e in received if e.camera_id == "cam-broken"]
    assert broken_status and broken_status[0].state == pb.CAMERA_STATE_OFFLINE
    assert "missing.avi" in broken_status[0].message
    for camera in ("cam-left", "cam-right"):
        events = [e for e in received if e.camera_id == camera]
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        kinds = Counter(e.WhichOneof("payload") for e in events)
        assert kinds["track_update"] > 0 and kinds["track_closed"] > 0
        # Every closed track carries floor points: both views are calibrated.
        closed = [e.track_closed for e in events if e.HasField("track_closed")]
        assert all(c.HasField("last_floor_point") and c.floor_id == "ground" for c in closed)
        assert any(c.HasField("embedding") and c.embedding.dim == 512 for c in closed)


def test_sequence_numbers_continue_across_agent_restarts(
    tmp_path: Path, vtest_clip: Path, detector: CountingDetector
) -> None:
    site_path = split_site(tmp_path, vtest_clip, broken=False)
    _, first = run_agent(site_path, tmp_path, detector)
    _, second = run_agent(site_path, tmp_path, detector)
    for camera in ("cam-left", "cam-right"):
        last_of_first = max(e.seq for e in first if e.camera_id == camera)
        assert min(e.seq for e in second if e.camera_id == camera) > last_of_first
    # Track ids never repeat on a camera across runs: the cloud keys tracklets by them.
    ids_first = {e.track_closed.track_id for e in first if e.HasField("track_closed")}
    ids_second = {e.track_closed.track_id for e in second if e.HasField("track_closed")}
    assert ids_first and ids_second and not ids_first & ids_second


def test_edge_run_rejects_an_unknown_camera(tmp_path: Path, vtest_clip: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "shared.cli.main",
            "edge",
            "run",
            "--config",
            str(split_site(tmp_path, vtest_clip, broken=False)),
            "--camera",
            "cam-nowhere",
            "--metrics-port",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "no camera cam-nowhere" in result.stderr and "cam-left" in result.stderr


def test_snapshots_only_when_enabled_and_always_blurred(
    tmp_path: Path, vtest_clip: Path, detector: CountingDetector
) -> None:
    raw = yaml.safe_load(split_site(tmp_path, vtest_clip, broken=False).read_text())
    raw["privacy"] = {"snapshots": True}
    site = load_site_config(_write(tmp_path / "snap.yaml", raw))
    snapshots = tmp_path / "snapshots"
    agent = EdgeAgent(
        site,
        ["cam-left"],
        detector,
        create_embedder(),
        InProcessSink(lambda env: None),
        AgentSettings(edge_id="edge-test", state_dir=tmp_path / "state", snapshot_dir=snapshots),
        opener=lambda spec: open_source(spec, "opencv"),
    )
    agent.run()
    assert [p.name for p in snapshots.iterdir()] == ["cam-left.jpg"]
    with pytest.raises(ValueError, match="snapshot directory"):
        EdgeAgent(
            site,
            ["cam-left"],
            detector,
            None,
            InProcessSink(lambda env: None),
            AgentSettings(edge_id="edge-test", state_dir=tmp_path / "state2"),
            opener=lambda spec: open_source(spec, "opencv"),
        )


def _write(path: Path, raw: dict[str, object]) -> Path:
    path.write_text(yaml.safe_dump(raw))
    return path


class OutOfOrderDetector(CountingDetector):
    """Allows concurrent calls and holds every other call back, so later batches finish first."""

    concurrent_calls = True

    def __init__(self, inner: Detector, fail_on_call: int | None = None) -> None:
        super().__init__(inner)
        self.fail_on_call = fail_on_call
        self.finished: list[int] = []
        self._calls = 0
        self._lock = threading.Lock()

    def _detect(self, images: list[NDArray[np.uint8]]) -> list[NDArray[np.float32]]:
        with self._lock:
            self._calls += 1
            call = self._calls
        if call == self.fail_on_call:
            raise RuntimeError(f"detector broke on call {call}")
        if call % 2:
            time.sleep(0.03)
        found = super()._detect(images)
        with self._lock:
            self.finished.append(call)
        return found


def test_several_detect_workers_hand_batches_on_in_frame_order(
    tmp_path: Path, vtest_clip: Path, detector: CountingDetector
) -> None:
    out_of_order = OutOfOrderDetector(detector.inner)
    received: list[pb.Envelope] = []
    agent = build_agent(
        split_site(tmp_path, vtest_clip, broken=False), tmp_path, out_of_order, received, detect_workers=2
    )
    reports = agent.run()
    # Detection did finish out of order, yet every frame was tracked in order (a frame older
    # than its camera's previous one fails the analytics' clock and is not counted).
    assert out_of_order.finished != sorted(out_of_order.finished)
    assert [(r.frames, r.error) for r in reports] == [(60, None), (60, None)]
    for camera in ("cam-left", "cam-right"):
        events = [e for e in received if e.camera_id == camera]
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert any(e.HasField("track_closed") for e in events)


def test_a_failing_detect_worker_stops_the_agent_with_its_error(
    tmp_path: Path, vtest_clip: Path, detector: CountingDetector
) -> None:
    agent = build_agent(
        split_site(tmp_path, vtest_clip, broken=False),
        tmp_path,
        OutOfOrderDetector(detector.inner, fail_on_call=6),
        detect_workers=2,
    )
    with pytest.raises(RuntimeError, match="detector broke on call 6"):
        agent.run()


def test_several_detect_workers_need_a_detector_that_allows_concurrent_calls(
    tmp_path: Path, vtest_clip: Path, detector: CountingDetector
) -> None:
    with pytest.raises(ValueError, match="CountingDetector does not"):
        build_agent(split_site(tmp_path, vtest_clip, broken=False), tmp_path, detector, detect_workers=2)


@pytest.mark.parametrize(
    ("concurrent", "expected"), [([True], 2), ([True, True], 2), ([True, False], 1), ([False], 1), ([], 1)]
)
def test_detect_workers_by_default(concurrent: list[bool], expected: int, detector: CountingDetector) -> None:
    detectors: list[Detector] = [
        OutOfOrderDetector(detector.inner) if c else CountingDetector(detector.inner) for c in concurrent
    ]
    assert detect_workers_for(detectors) == expected


@pytest.mark.parametrize("workers", [0, -1])
def test_detect_workers_below_one_are_refused(workers: int, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="detect_workers must be >= 1"):
        AgentOptions(edge_id="e", state_dir=tmp_path, detect_workers=workers)
    with pytest.raises(ValueError, match="detect_workers must be >= 1"):
        AgentSettings(edge_id="e", state_dir=tmp_path, detect_workers=workers)


class DetectsEveryFrame(EdgeAgent):
    """The agent as it was before detection followed the tracker's pace: every frame detected."""

    def _take_frames(self) -> list[tuple[Any, Any, bool]]:
        return [(cam, frame, True) for cam, frame, _ in super()._take_frames()]


def _story(events: list[pb.Envelope], camera: str) -> list[str]:
    """A camera's events without what differs between runs: track ids (as first-seen ranks) and clock times."""
    ranks: dict[int, int] = {}
    story = []
    for env in events:
        kind = env.WhichOneof("payload")
        if env.camera_id != camera or kind == "camera_status":
            continue
        payload = getattr(env, kind)
        copy = type(payload)()
        copy.CopyFrom(payload)
        for field in copy.DESCRIPTOR.fields:
            if field.name == "track_id":
                copy.track_id = ranks.setdefault(copy.track_id, len(ranks))
            elif field.name.endswith("_ns"):
                copy.ClearField(field.name)
        story.append(f"{kind} {copy}")
    return story


def test_frames_the_tracker_carries_are_not_detected_and_the_events_are_the_same(
    tmp_path: Path, vtest_clip: Path, detector: CountingDetector
) -> None:
    """Tracking capped at half the clip's 7 fps: every second frame is detected, and the cameras
    publish what they did when every frame was detected and the tracker skipped the same ones."""
    raw = yaml.safe_load(split_site(tmp_path, vtest_clip, broken=False).read_text())
    raw.setdefault("tracking", {})["max_association_fps"] = 3.5
    site_path = tmp_path / "capped.yaml"
    site_path.write_text(yaml.safe_dump(raw))
    site = load_site_config(site_path)
    runs = {}
    for agent_type in (EdgeAgent, DetectsEveryFrame):
        counting = CountingDetector(detector.inner)
        received: list[pb.Envelope] = []
        sink = InProcessSink(lambda env, out=received: out.append(decode_envelope(env.SerializeToString())))
        reports = agent_type(
            site,
            [c.id for c in site.cameras],
            counting,
            create_embedder(),
            sink,
            AgentSettings(
                edge_id="edge-test", state_dir=tmp_path / agent_type.__name__, backoff=Backoff(initial_s=0.01)
            ),
            opener=lambda spec: open_source(spec, "opencv"),
        ).run()
        assert [(r.frames, r.error) for r in reports] == [(60, None), (60, None)]
        runs[agent_type] = (sum(counting.batch_sizes), received)
    (paced, paced_events), (every, every_events) = runs[EdgeAgent], runs[DetectsEveryFrame]
    assert (paced, every) == (60, 120)
    for camera in ("cam-left", "cam-right"):
        story = _story(paced_events, camera)
        assert any(line.startswith("track_closed") for line in story)
        assert story == _story(every_events, camera)
