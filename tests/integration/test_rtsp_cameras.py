"""The edge agent on real RTSP cameras (GstRtspServer) publishing to the real broker: the same
counts as the file, an outage survived without gaps, a stall noticed in time, and a start
with the broker and the cameras down."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from support.kafka_io import consume, fast_delivery
from support.outage_broker import OutageBroker
from support.rtsp_server import RtspServer, encode_h264, require_rtsp_server
from support.split_site import REPO, free_port

from cloud.api.app import create_app
from cloud.api.auth import KeyRing
from cloud.api.settings import ApiSettings
from cloud.storage import create_db_engine
from edge.agent.agent import AgentSettings, EdgeAgent
from edge.agent.metrics import AgentMetrics
from edge.inference.factory import create_detector, create_embedder
from edge.publish import InProcessSink, KafkaSink
from edge.sources.base import SourceSpec
from edge.sources.factory import open_source
from edge.sources.reconnect import Backoff
from shared.config import load_site_config
from shared.config.stream import StreamSettings
from shared.embedded import DemoOptions, load_halves
from shared.messaging import KafkaSettings
from shared.schema import pb

# Each test takes under a minute on a 2-core machine; a hang fails it instead of holding CI.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

CAMERAS = ("cam-left", "cam-right")
# 100 frames of PETS09 (people cross both views' lines and zones), served at 4 fps: two
# cameras need 8 frames/s of the agent, which a 2-core CI machine keeps up with; the site
# states the same rate, so file and stream frames carry the same timeline.
CLIP_FRAMES = 100
SERVE_FPS = 4.0
STALL_TIMEOUT_S = 2.0
READ_KEY = "rtsp-read-key-0001"


@pytest.fixture(scope="module")
def h264_clip(vtest_video: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_rtsp_server()
    out = tmp_path_factory.mktemp("rtsp") / "vtest-100.mkv"
    return encode_h264(vtest_video, out, fps=SERVE_FPS, frames=CLIP_FRAMES)


@pytest.fixture
def rtsp_server(h264_clip: Path, tmp_path: Path) -> Iterator[RtspServer]:
    server = RtspServer(free_port(), dict.fromkeys(CAMERAS, h264_clip), tmp_path / "rtsp-server.log")
    yield server
    server.stop()


def split_site(sources: dict[str, str], directory: Path, **extra: Any) -> Path:
    """deploy/examples/pets09-split.yaml with the given camera sources, the clip's rate and a short stall timeout."""
    raw = yaml.safe_load((REPO / "deploy" / "examples" / "pets09-split.yaml").read_text()) | extra
    for camera in raw["cameras"]:
        camera["source"] = sources[camera["id"]]
        camera["fps_hint"] = SERVE_FPS
        camera["stream"] = {"stall_timeout_s": STALL_TIMEOUT_S, "latency_ms": 100}
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "site.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def agent(
    config: Path,
    sink: Any,
    tmp_path: Path,
    backoff: Backoff,
    metrics: AgentMetrics | None = None,
    queue_size: int = 4,
) -> EdgeAgent:
    settings = AgentSettings(
        edge_id="edge-rtsp", state_dir=tmp_path / "state", status_interval_s=1.0, backoff=backoff, queue_size=queue_size
    )
    return EdgeAgent(
        load_site_config(config),
        list(CAMERAS),
        create_detector(),
        create_embedder(),
        sink,
        settings,
        opener=lambda spec: open_source(spec, "gstreamer"),
        metrics=metrics,
    )


def urls(server: RtspServer) -> dict[str, str]:
    return {camera: server.url(camera) for camera in CAMERAS}


def kafka_sink(bootstrap: str, topic: str, tmp_path: Path) -> KafkaSink:
    delivery = fast_delivery(tmp_path / "spool")
    return KafkaSink(KafkaSettings(bootstrap_servers=bootstrap), delivery, topic=topic, registry=CollectorRegistry())


def facts(envelopes: list[pb.Envelope]) -> Counter[tuple[str, ...]]:
    """What a mall counts: crossings per line and direction, zone entries and exits, per camera."""
    out: Counter[tuple[str, ...]] = Counter()
    for env in envelopes:
        if env.HasField("line_crossing"):
            out[(env.camera_id, "line", env.line_crossing.line_id, str(env.line_crossing.direction))] += 1
        elif env.HasField("zone_transition"):
            out[(env.camera_id, "zone", env.zone_transition.zone_id, str(env.zone_transition.event))] += 1
    return out


def per_camera_seqs_are_contiguous(envelopes: list[pb.Envelope]) -> None:
    for camera in CAMERAS:
        seqs = [env.seq for env in envelopes if env.camera_id == camera]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), f"{camera}: seq has a gap or a repeat"


def statuses(envelopes: list[pb.Envelope], camera: str) -> list[pb.CameraStatus]:
    return [env.camera_status for env in envelopes if env.camera_id == camera and env.HasField("camera_status")]


def stop_after(agent_: EdgeAgent, frames: int, deadline_s: float) -> Any:
    """An on_frame callback that stops the agent once every camera processed `frames` frames."""
    done: dict[str, int] = {}
    deadline = time.monotonic() + deadline_s

    def on_frame(camera_id: str, n: int, fps: float, lag_ms: float) -> None:
        done[camera_id] = n
        if all(done.get(c, 0) >= frames for c in CAMERAS) or time.monotonic() > deadline:
            agent_.stop.set()

    return on_frame


def test_live_frames_are_stamped_when_they_arrive_not_when_they_are_read(rtsp_server: RtspServer) -> None:
    # Zone grace and dwell are timed by the stamps: a reader held up for a moment (a busy
    # machine) reads the frames that waited in a burst, and must not squeeze their spacing.
    rtsp_server.start()
    spec = SourceSpec("cam-left", rtsp_server.url("cam-left"), stream=StreamSettings(latency_ms=100))
    stamps, read_at = [], []
    with open_source(spec, "gstreamer") as source:
        for n, frame in enumerate(source):
            stamps.append(frame.capture_time_ns)
            read_at.append(time.time_ns())
            if n == 5:
                time.sleep(2.5 / SERVE_FPS)
            if n == 12:
                break
    period_ns = 1e9 / SERVE_FPS
    read_gaps = [b - a for a, b in pairwise(read_at)]
    assert min(read_gaps) < 0.2 * period_ns, f"the stall did not make the reader read a burst: {read_gaps}"
    stamp_gaps = [b - a for a, b in pairwise(stamps)]
    assert all(0.6 * period_ns < gap < 1.4 * period_ns for gap in stamp_gaps), stamp_gaps
    assert stamps[-1] <= time.time_ns()


def test_two_rtsp_cameras_count_what_the_same_frames_from_the_file_count(
    rtsp_server: RtspServer, h264_clip: Path, kafka_bootstrap: str, kafka_topic: str, tmp_path: Path
) -> None:
    reference: list[pb.Envelope] = []
    file_agent = agent(
        split_site(dict.fromkeys(CAMERAS, str(h264_clip)), tmp_path / "file"),
        InProcessSink(reference.append),
        tmp_path / "file",
        Backoff(),
    )
    file_reports = file_agent.run()
    assert [r.frames for r in file_reports] == [CLIP_FRAMES, CLIP_FRAMES]

    rtsp_server.start()
    sink = kafka_sink(kafka_bootstrap, kafka_topic, tmp_path)
    # No reconnect before the test stops the agent: a new session would play the clip again.
    # Room for the whole clip and no thinning: a busy machine may fall behind for a moment,
    # and a shed live frame (right for a camera, see test_frame_thinning and the soak
    # benchmark) would change the counts.
    live = agent(
        split_site(urls(rtsp_server), tmp_path / "rtsp", load_shedding={"policy": "drop_oldest"}),
        sink,
        tmp_path / "rtsp",
        Backoff(initial_s=60),
        queue_size=CLIP_FRAMES,
    )
    reports = live.run(on_frame=stop_after(live, CLIP_FRAMES, deadline_s=120))
    sink.close(timeout_s=30)
    assert [r.frames for r in reports] == [CLIP_FRAMES, CLIP_FRAMES]
    received = [env for _, env in consume(kafka_bootstrap, kafka_topic)]
    per_camera_seqs_are_contiguous(received)
    for camera in CAMERAS:
        assert statuses(received, camera)[-1].dropped_frames == 0, f"{camera} dropped live frames"
        assert statuses(received, camera)[-1].frames == CLIP_FRAMES
    expected = facts(reference)
    assert sum(expected.values()) >= 4, f"the clip should hold crossings and zone visits: {expected}"
    assert facts(received) == expected


def test_an_outage_is_reported_survived_and_shown_with_its_duration(
    rtsp_server: RtspServer, kafka_bootstrap: str, kafka_topic: str, tmp_path: Path
) -> None:
    rtsp_server.start()
    site = split_site(urls(rtsp_server), tmp_path)
    sink = kafka_sink(kafka_bootstrap, kafka_topic, tmp_path)
    registry = CollectorRegistry()
    metrics = AgentMetrics(registry)
    live = agent(site, sink, tmp_path, Backoff(initial_s=0.5, factor=2.0, max_s=2.0), metrics)
    outage_s = 10.0
    down = threading.Event()
    back_frames: dict[str, int] = {}
    # Wall-clock bounds of the outage: live frames carry their arrival on the same clock.
    cut_ns: list[int] = []

    def cut_power() -> None:
        cut_ns.append(time.time_ns())
        rtsp_server.stop()
        time.sleep(outage_s)
        rtsp_server.start()
        cut_ns.append(time.time_ns())

    cutter = threading.Thread(target=cut_power)
    deadline = time.monotonic() + 150

    def on_frame(camera_id: str, n: int, fps: float, lag_ms: float) -> None:
        if camera_id == "cam-left" and n == 20 and not down.is_set():
            down.set()
            cutter.start()
        if down.is_set() and not cutter.is_alive():
            back_frames[camera_id] = back_frames.get(camera_id, 0) + 1
        if all(back_frames.get(c, 0) >= 12 for c in CAMERAS) or time.monotonic() > deadline:
            live.stop.set()

    live.run(on_frame=on_frame)
    cutter.join()
    sink.close(timeout_s=30)
    assert all(back_frames.get(c, 0) >= 12 for c in CAMERAS), f"the agent did not resume: {back_frames}"
    received = [env for _, env in consume(kafka_bootstrap, kafka_topic)]
    per_camera_seqs_are_contiguous(received)
    for camera in CAMERAS:
        states = [s.state for s in statuses(received, camera)]
        first_down = states.index(pb.CAMERA_STATE_RECONNECTING)
        assert pb.CAMERA_STATE_ONLINE in states[first_down:], f"{camera} never came back: {states}"
        # Refused while the server is down: retried with the doubling backoff, up to its cap.
        delays = [
            float(m.group(1))
            for s in statuses(received, camera)
            if (m := re.search(r"retrying in (\d+\.\d) s", s.message))
        ]
        assert len(delays) >= 3 and delays == sorted(delays) and delays[-1] == 2.0, delays
        # Tracks seen before the cut were closed before anything seen after the restart; no
        # track id goes on across the outage. Judged by frame time: frames decoded before the
        # loss may still be in the agent's queues when it hears of the loss.
        mine = [env for env in received if env.camera_id == camera]
        updates = [env for env in mine if env.HasField("track_update")]
        before = {env.track_update.track_id for env in updates if env.event_time_ns < cut_ns[0]}
        after = {env.track_update.track_id for env in updates if env.event_time_ns > cut_ns[1]}
        assert before and after, f"{camera}: no tracks on one side of the outage: {before}, {after}"
        assert not before & after, f"{camera}: tracks {before & after} glued across the outage"
        first_after = next(
            i for i, env in enumerate(mine) if env.HasField("track_update") and env.event_time_ns > cut_ns[1]
        )
        closed = {env.track_closed.track_id for env in mine[:first_after] if env.HasField("track_closed")}
        assert before <= closed, f"{camera}: tracks {before - closed} of before the outage were not closed at it"
        labels = {"camera": camera}
        assert (registry.get_sample_value("mallflow_edge_reconnects_total", labels) or 0) >= 1
        assert registry.get_sample_value("mallflow_edge_camera_online", labels) == 1
        # PETS09's picture keeps different people far apart: the learned gate stays the site's.
        gate = load_site_config(site).tracking.appearance_thresh
        assert registry.get_sample_value("mallflow_edge_appearance_gate", labels) == gate

    # The cloud's camera health shows the outage and how long it lasted.
    options = DemoOptions(
        config=site,
        db_url=f"sqlite:///{tmp_path / 'cloud.db'}",
        bootstrap=None,
        edge_id="edge-rtsp",
        state_dir=tmp_path / "cloud-state",
    )
    _, cloud = load_halves()
    with cloud.ingest(options) as ingest:
        for env in received:
            ingest(env)
    keys = KeyRing.parse(f"read:{READ_KEY}")
    with TestClient(create_app(create_db_engine(options.db_url), ApiSettings(keys=keys))) as client:
        body = client.get("/api/v1/sites/pets09-split/cameras", headers={"X-API-Key": READ_KEY}).json()
    for item in body["items"]:
        assert item["state"] == "ended"
        [outage] = item["outages"]
        assert outage["ended_ns"] is not None
        assert outage_s - 3 <= outage["duration_s"] <= outage_s + 8, outage
        assert item["downtime_s"] == pytest.approx(outage["duration_s"])


def test_a_stalled_stream_is_noticed_within_the_timeout(
    rtsp_server: RtspServer, kafka_bootstrap: str, kafka_topic: str, tmp_path: Path
) -> None:
    rtsp_server.start()
    sink = kafka_sink(kafka_bootstrap, kafka_topic, tmp_path)
    live = agent(split_site(urls(rtsp_server), tmp_path), sink, tmp_path, Backoff(initial_s=60))
    stalled_at: list[int] = []

    def on_frame(camera_id: str, n: int, fps: float, lag_ms: float) -> None:
        if camera_id == "cam-left" and n == 12 and not stalled_at:
            rtsp_server.stall()
            stalled_at.append(time.time_ns())

    runner = threading.Thread(target=live.run, kwargs={"on_frame": on_frame})
    runner.start()
    deadline = time.monotonic() + 90
    while not stalled_at or time.time_ns() - stalled_at[0] < (STALL_TIMEOUT_S + 4) * 1e9:
        assert time.monotonic() < deadline, "the stream never stalled"
        time.sleep(0.2)
    live.stop.set()
    runner.join(timeout=30)
    assert not runner.is_alive(), "the agent hung on a stalled stream"
    rtsp_server.resume()
    sink.close(timeout_s=30)
    received = [env for _, env in consume(kafka_bootstrap, kafka_topic)]
    for camera in CAMERAS:
        down = [
            env
            for env in received
            if env.camera_id == camera
            and env.HasField("camera_status")
            and env.camera_status.state == pb.CAMERA_STATE_RECONNECTING
        ]
        assert down, f"{camera}: the stall was never reported"
        noticed_s = (down[0].event_time_ns - stalled_at[0]) / 1e9
        # The timeout, plus what a busy machine adds before the agent's loop reports it.
        assert 0 < noticed_s <= STALL_TIMEOUT_S + 2.5, f"{camera}: stall noticed after {noticed_s:.1f} s"
        assert "no frame within 2 s" in down[0].camera_status.message


def test_the_agent_starts_with_the_broker_and_the_cameras_down_and_catches_up(
    rtsp_server: RtspServer, outage_broker: OutageBroker, outage_topic: str, tmp_path: Path
) -> None:
    outage_broker.stop()
    sink = kafka_sink(outage_broker.bootstrap, outage_topic, tmp_path)
    live = agent(split_site(urls(rtsp_server), tmp_path), sink, tmp_path, Backoff(initial_s=0.5, max_s=1.0))
    runner = threading.Thread(target=lambda: live.run(on_frame=stop_after(live, 30, deadline_s=150)))
    runner.start()
    time.sleep(4)
    assert runner.is_alive(), "the agent gave up on unreachable cameras"
    rtsp_server.start()
    runner.join(timeout=160)
    assert not runner.is_alive()
    assert sink.stats.spooled > 0, "events were not spooled while the broker was down"
    outage_broker.start()
    sink.close(timeout_s=60)
    assert sink.spool.stats.records == 0, "events left in the spool"
    received = [env for _, env in consume(outage_broker.bootstrap, outage_topic)]
    per_camera_seqs_are_contiguous(received)
    for camera in CAMERAS:
        seqs = [env.seq for env in received if env.camera_id == camera]
        assert seqs[0] == 1, f"{camera}: the first events were lost"
        states = [s.state for s in statuses(received, camera)]
        # Unreachable first, online once the server is up.
        assert states[0] == pb.CAMERA_STATE_RECONNECTING and pb.CAMERA_STATE_ONLINE in states
