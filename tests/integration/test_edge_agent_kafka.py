"""The edge agent end to end on real footage against a real Kafka broker."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry
from support.kafka_io import consume, fast_delivery

from edge.agent.agent import AgentSettings, EdgeAgent
from edge.inference.factory import create_detector, create_embedder
from edge.publish import KafkaSink
from edge.sources.factory import open_source
from shared.config import load_site_config
from shared.messaging import KafkaSettings
from shared.schema import partition_key, pb

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "examples"
MALLFLOW = [sys.executable, "-m", "shared.cli.main"]


def site_file(tmp_path: Path, video: Path) -> Path:
    """deploy/examples/pets09.yaml with its camera pointed at `video`."""
    raw = yaml.safe_load((EXAMPLES / "pets09.yaml").read_text())
    raw["cameras"][0]["source"] = str(video)
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def agent_command(tmp_path: Path, video: Path, bootstrap: str, topic: str) -> list[str]:
    return [
        *MALLFLOW, "edge", "run", "--config", str(site_file(tmp_path, video)), "--bootstrap", bootstrap,
        "--topic", topic, "--state-dir", str(tmp_path / "state"), "--spool-dir", str(tmp_path / "spool"),
        "--metrics-port", "0", "--no-progress",
    ]  # fmt: skip


def check_stream(received: list[tuple[bytes, pb.Envelope]]) -> Counter[str]:
    """Keys, order and completeness of one agent run's events; returns counts per payload type."""
    assert received, "no events"
    assert {key for key, _ in received} == {partition_key("pets09")}
    seqs = [env.seq for _, env in received if env.camera_id == "cam-main"]
    assert len(seqs) == len(received)
    # One partition per site: the topic order is the publish order, and nothing is missing.
    first_seen = list(dict.fromkeys(seqs))
    assert first_seen == list(range(first_seen[0], first_seen[0] + len(first_seen)))
    return Counter(env.WhichOneof("payload") for _, env in received)


def test_agent_cli_publishes_a_complete_ordered_stream(
    tmp_path: Path, vtest_clip: Path, kafka_bootstrap: str, kafka_topic: str
) -> None:
    result = subprocess.run(
        agent_command(tmp_path, vtest_clip, kafka_bootstrap, kafka_topic),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "cam-main: 60 frames" in result.stdout
    counts = check_stream(consume(kafka_bootstrap, kafka_topic))
    assert counts["track_update"] >= 20
    assert counts["track_closed"] >= 3
    assert counts["zone_transition"] >= 1
    # ONLINE when the camera opens, ENDED after the last frame.
    assert counts["camera_status"] >= 2
    received = consume(kafka_bootstrap, kafka_topic)
    statuses = [env.camera_status for _, env in received if env.HasField("camera_status")]
    assert statuses[0].state == pb.CAMERA_STATE_ONLINE
    assert statuses[-1].state == pb.CAMERA_STATE_ENDED and statuses[-1].frames == 60
    assert dict(statuses[-1].model_versions).keys() == {"detector", "reid"}


def test_agent_stops_cleanly_on_sigterm(
    tmp_path: Path, vtest_video: Path, kafka_bootstrap: str, kafka_topic: str
) -> None:
    proc = subprocess.Popen(
        agent_command(tmp_path, vtest_video, kafka_bootstrap, kafka_topic),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    # Wait for processed frames (track updates), not just the ONLINE status sent at open.
    while not any(env.HasField("track_update") for _, env in consume(kafka_bootstrap, kafka_topic)):
        assert time.monotonic() < deadline and proc.poll() is None, "the agent published no track update"
        time.sleep(1)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    frames = int(out.split("cam-main: ")[1].split(" frames")[0])
    assert 0 < frames < 795
    received = consume(kafka_bootstrap, kafka_topic)
    check_stream(received)
    last = received[-1][1]
    # Open tracks were closed and a final status went out before the producer flushed.
    assert last.HasField("camera_status") and last.camera_status.frames == frames


def test_no_event_is_lost_when_the_broker_dies_mid_run(
    tmp_path: Path,
    vtest_clip: Path,
    outage_broker,
    outage_topic: str,  # type: ignore[no-untyped-def]
) -> None:
    site = load_site_config(site_file(tmp_path, vtest_clip))
    delivery = fast_delivery(tmp_path / "spool")
    sink = KafkaSink(
        KafkaSettings(bootstrap_servers=outage_broker.bootstrap),
        delivery,
        topic=outage_topic,
        registry=CollectorRegistry(),
    )
    agent = EdgeAgent(
        site,
        ["cam-main"],
        create_detector(),
        create_embedder(),
        sink,
        AgentSettings(edge_id="edge-test", state_dir=tmp_path / "state", status_interval_s=1.0),
        opener=lambda spec: open_source(spec, "opencv"),
    )

    def on_frame(camera_id: str, frames: int, fps: float, lag_ms: float) -> None:
        # Run inside the agent's loop: frames wait while the broker stops and starts, and
        # a failing kafka.sh fails the test instead of dying in a thread.
        if frames == 10:
            outage_broker.stop()
        if frames == 40:
            # The sink gives up on the broker after delivery_timeout_ms; from then on
            # events pile up in the spool.
            deadline = time.monotonic() + 20
            while sink.stats.spooled == 0:
                assert time.monotonic() < deadline, f"nothing spooled during the outage: {sink.stats}"
                time.sleep(0.2)
            outage_broker.start()

    reports = agent.run(on_frame=on_frame)
    sink.close(timeout_s=60)
    assert sink.stats.pending == 0 and sink.stats.dropped == 0
    assert sink.spool.stats.records == 0, "events left in the spool"
    counts = check_stream(consume(outage_broker.bootstrap, outage_topic))
    assert sum(counts.values()) >= sum(reports[0].events.values())
    assert dict(counts).keys() >= {"track_update", "camera_status"}
