"""Live-paced soak of one edge box: the agent on N RTSP cameras at real time for M minutes.

    source deploy/local/env.sh
    .venv/bin/python tests/bench/edge_soak.py --cameras 4 --minutes 10 [--fps 7] [--policy thin] [--kafka] [--json soak.json]

The test RTSP server (tests/support/rtsp_server.py, its own process) serves vtest.avi as
H.264, one mount per camera, each paced at `--fps` (7: the footage's true rate) and
repeated to outlast the run. The agent in this process reads them through GStreamer as
it reads real cameras (TCP, the default jitter buffer), with the real detector, BoT-SORT
with OSNet, the pets09 site's lines and zones per camera, and the publisher; events go to
an in-process sink, or with `--kafka` also on to the local broker (a fresh topic, deleted
afterwards: `source deploy/local/env.sh && deploy/local/services.sh up` first).

Per camera: frames decoded (what the server delivered), processed, thinned and dropped (a
live camera does not wait: with the site's load_shedding policy `thin` (default) the agent
takes every k-th frame, k rising while it is behind; with `drop_oldest`, or beyond the
largest stride, a full queue loses its oldest frame. The agent stays at real time and says
so: camera-status `overloaded`, thinned and dropped frames, and the same as metrics), the
stride each camera ended at, and the lag from a frame's capture (stamped when
decoded) to its track updates being handed to the publisher, p50/p99. For the process,
after a warm-up (a tenth of the run, at least 30 s) and at the end: resident memory (and
its growth per hour, by a least-squares line over samples every 10 s), open file
descriptors and threads (native, GStreamer's included). A box that keeps up shows lag p99
under a second and no drops; more cameras than it can serve show drops, not growing lag.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from prometheus_client import CollectorRegistry

from edge.agent.agent import AgentSettings, EdgeAgent
from edge.agent.metrics import AgentMetrics
from edge.inference.factory import create_detector, create_embedder
from edge.publish import InProcessSink
from edge.publish.sink import EventSink
from edge.sources.factory import open_source
from edge.sources.reconnect import Backoff
from shared.assets.datasets import fetch_vtest
from shared.config import load_site_config
from shared.schema import pb

REPO = Path(__file__).resolve().parents[2]
# Run as a script: the test support package lives under tests/.
sys.path.insert(0, str(REPO / "tests"))

from support.rtsp_server import RtspServer, encode_h264  # noqa: E402
from support.split_site import free_port  # noqa: E402

VTEST_FRAMES = 795
SAMPLE_S = 10.0


@dataclass(frozen=True)
class ProcessSample:
    at_s: float
    rss_mb: float
    fds: int
    threads: int


def sample(started: float) -> ProcessSample:
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return ProcessSample(
        at_s=time.monotonic() - started,
        rss_mb=int(status["VmRSS"].split()[0]) / 1024,
        fds=len(os.listdir("/proc/self/fd")),
        threads=int(status["Threads"]),
    )


class LagRecorder:
    """Frame capture → track update handed to the publisher, per camera; forwards to `inner`."""

    def __init__(self, inner: EventSink | None) -> None:
        self.inner = inner
        self.lag_s: dict[str, list[float]] = defaultdict(list)
        self.last_status: dict[str, pb.CameraStatus] = {}
        self.warm = threading.Event()

    def __call__(self, env: pb.Envelope) -> None:
        if env.HasField("track_update") and self.warm.is_set():
            self.lag_s[env.camera_id].append((time.time_ns() - env.event_time_ns) / 1e9)
        elif env.HasField("camera_status"):
            self.last_status[env.camera_id] = env.camera_status
        if self.inner is not None:
            self.inner.send(env)


def soak_site(urls: dict[str, str], fps: float, policy: str, directory: Path) -> Path:
    """deploy/examples/pets09.yaml with its one camera, its lines and zones repeated per URL."""
    raw = yaml.safe_load((REPO / "deploy" / "examples" / "pets09.yaml").read_text())
    raw["load_shedding"] = {**raw.get("load_shedding", {}), "policy": policy}
    [template] = raw["cameras"]
    raw["cameras"] = [{**template, "id": cid, "source": url, "fps_hint": fps} for cid, url in urls.items()]
    for section in ("lines", "zones"):
        items = raw.get(section) or []
        raw[section] = [{**item, "id": f"{item['id']}-{cid}", "camera": cid} for cid in urls for item in items]
    path = directory / "soak.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def kafka_sink(directory: Path) -> tuple[EventSink, str]:
    from kafka.admin import KafkaAdminClient, NewTopic

    from edge.publish import DeliverySettings, KafkaSink
    from shared.messaging import KafkaSettings

    settings = KafkaSettings.from_env()
    topic = f"bench.soak.{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    try:
        admin.create_topics([NewTopic(name=topic, num_partitions=3, replication_factor=1)])
    finally:
        admin.close()
    return KafkaSink(settings, DeliverySettings(spool_dir=directory / "spool"), topic=topic), topic


def delete_topic(topic: str) -> None:
    from kafka.admin import KafkaAdminClient

    from shared.messaging import KafkaSettings

    admin = KafkaAdminClient(bootstrap_servers=KafkaSettings.from_env().bootstrap_servers)
    try:
        admin.delete_topics([topic])
    finally:
        admin.close()


def per_hour(samples: list[ProcessSample]) -> float:
    """RSS growth in % per hour of the first sample: least-squares slope over the samples."""
    if len(samples) < 2:
        return 0.0
    t = np.array([s.at_s for s in samples])
    rss = np.array([s.rss_mb for s in samples])
    slope = float(np.polyfit(t, rss, 1)[0])
    return slope * 3600 / samples[0].rss_mb * 100


def agent_stride(agent: EdgeAgent, camera_id: str) -> int:
    return agent._readers[camera_id].thinner.stride


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else math.nan


def run(cameras: int, minutes: float, fps: float, policy: str, use_kafka: bool) -> dict[str, Any]:
    duration_s = minutes * 60
    warmup_s = max(30.0, duration_s / 10)
    # Models first: a missing one fails before minutes of encoding.
    detector, embedder = create_detector(), create_embedder()
    with tempfile.TemporaryDirectory(prefix="mallflow-soak-") as tmp, ExitStack() as cleanup:
        work = Path(tmp)
        # Longer than the run and the warm-up, so no mount reaches its end (a reconnect).
        repeat = math.ceil((duration_s + warmup_s + 60) * fps / VTEST_FRAMES)
        print(f"encoding vtest.avi x{repeat} at {fps:g} fps ...", flush=True)
        clip = encode_h264(fetch_vtest(), work / "vtest.mkv", fps=fps, repeat=repeat)
        ids = [f"cam-{i + 1}" for i in range(cameras)]
        server = RtspServer(free_port(), dict.fromkeys(ids, clip), work / "rtsp-server.log")
        server.start()
        # Whatever fails from here on, the server process and the topic do not outlive the run.
        cleanup.callback(server.stop)
        inner, topic = kafka_sink(work) if use_kafka else (None, None)
        if inner is not None and topic is not None:
            cleanup.callback(delete_topic, topic)
            cleanup.callback(inner.close, 30)
        recorder = LagRecorder(inner)
        registry = CollectorRegistry()
        metrics = AgentMetrics(registry)
        agent = EdgeAgent(
            load_site_config(soak_site({cid: server.url(cid) for cid in ids}, fps, policy, work)),
            ids,
            detector,
            embedder,
            InProcessSink(recorder),
            AgentSettings(edge_id="edge-soak", state_dir=work / "state", backoff=Backoff(initial_s=1.0, max_s=5.0)),
            opener=lambda spec: open_source(spec, "gstreamer"),
            metrics=metrics,
        )
        started = time.monotonic()
        samples: list[ProcessSample] = []
        counted_from: dict[str, tuple[float, float, float]] = {}

        def counters(cid: str) -> tuple[float, float, float]:
            """Frames processed, dropped, thinned."""
            labels = {"camera": cid}
            frames, dropped, thinned = (
                registry.get_sample_value(f"mallflow_edge_{name}_total", labels) or 0.0
                for name in ("frames", "dropped_frames", "thinned_frames")
            )
            return frames, dropped, thinned

        def watch() -> None:
            while not agent.stop.wait(SAMPLE_S):
                elapsed = time.monotonic() - started
                if elapsed >= warmup_s:
                    if not recorder.warm.is_set():
                        counted_from.update({cid: counters(cid) for cid in ids})
                        recorder.warm.set()
                    samples.append(sample(started))
                if elapsed >= warmup_s + duration_s:
                    agent.stop.set()

        watcher = threading.Thread(target=watch, name="soak-watch", daemon=True)
        watcher.start()
        try:
            agent.run()
        finally:
            agent.stop.set()
            watcher.join()
        measured_s = samples[-1].at_s - samples[0].at_s if len(samples) > 1 else 0.0
        rows = []
        for cid in ids:
            now_counts, then = counters(cid), counted_from.get(cid, (0.0, 0.0, 0.0))
            processed, lost, thinned = (a - b for a, b in zip(now_counts, then, strict=True))
            decoded = processed + lost + thinned
            lags = recorder.lag_s.get(cid, [])
            status = recorder.last_status.get(cid)
            rows.append(
                {
                    "camera": cid,
                    "decoded": int(decoded),
                    "expected": round(measured_s * fps),
                    "processed": int(processed),
                    "thinned": int(thinned),
                    "dropped": int(lost),
                    "dropped_pct": 100 * lost / decoded if decoded else math.nan,
                    "stride": agent_stride(agent, cid),
                    "overloaded": status.overloaded if status is not None else None,
                    "lag_p50_s": percentile(lags, 50),
                    "lag_p99_s": percentile(lags, 99),
                    # What the camera-status events report: counted since the agent started, warm-up included.
                    "status_dropped_since_start": status.dropped_frames if status is not None else None,
                }
            )
        return {
            "cameras": cameras,
            "minutes": minutes,
            "fps": fps,
            "kafka": use_kafka,
            "policy": policy,
            "cpu_cores": os.cpu_count(),
            "machine": platform.processor() or platform.machine(),
            "warmup_s": warmup_s,
            "measured_s": measured_s,
            "per_camera": rows,
            "start": asdict(samples[0]) if samples else None,
            "end": asdict(samples[-1]) if samples else None,
            "rss_growth_pct_per_hour": per_hour(samples),
        }


def report(result: dict[str, Any]) -> str:
    start, end = result["start"], result["end"]
    lines = [
        f"{result['cameras']} camera(s) at {result['fps']:g} fps, {result['measured_s']:.0f} s measured after "
        f"{result['warmup_s']:.0f} s warm-up, {result['cpu_cores']} CPU cores"
        + (", publishing to Kafka" if result["kafka"] else ", in-process sink")
        + f", load shedding {result['policy']}",
        "",
        "| camera | decoded | expected | processed | thinned | dropped | stride at end | overloaded | lag p50 s | lag p99 s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in result["per_camera"]:
        lines.append(
            f"| {row['camera']} | {row['decoded']} | {row['expected']} | {row['processed']} | {row['thinned']} | "
            f"{row['dropped']} ({row['dropped_pct']:.1f} %) | {row['stride']} | {row['overloaded']} | "
            f"{row['lag_p50_s']:.2f} | {row['lag_p99_s']:.2f} |"
        )
    if start and end:
        lines += [
            "",
            "| process | after warm-up | end |",
            "|---|---|---|",
            f"| RSS MB | {start['rss_mb']:.0f} | {end['rss_mb']:.0f} ({result['rss_growth_pct_per_hour']:+.1f} %/h) |",
            f"| open fds | {start['fds']} | {end['fds']} |",
            f"| threads | {start['threads']} | {end['threads']} |",
        ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--fps", type=float, default=7.0, help="the rate each camera is served at")
    parser.add_argument("--policy", choices=("thin", "drop_oldest"), default="thin", help="the site's load_shedding")
    parser.add_argument("--kafka", action="store_true", help="also publish to the local broker")
    parser.add_argument("--json", type=Path, default=None, help="write the result here")
    args = parser.parse_args()
    if args.cameras < 1 or args.minutes <= 0 or args.fps <= 0:
        parser.error("--cameras must be >= 1, --minutes and --fps > 0")
    result = run(args.cameras, args.minutes, args.fps, args.policy, args.kafka)
    print(report(result))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
