"""`mallflow edge run --config SITE.yaml [--camera ID ...]`: the edge agent."""

from __future__ import annotations

import argparse
import logging
import signal
import socket
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from shared.cli.errors import UsageError
from shared.cli.numbers import positive_seconds

if TYPE_CHECKING:
    from edge.agent.agent import CameraReport

log = logging.getLogger(__name__)

# Kept here rather than imported so `mallflow --help` does not load torch/onnxruntime.
# deepstream: decode, detection and ReID in one GPU pipeline (edge/deepstream/), a Jetson's engine.
ENGINES = ("onnxruntime", "tensorrt", "deepstream")
SOURCE_BACKENDS = ("auto", "gstreamer", "opencv")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("edge", help="run the edge agent (cameras → events on Kafka)")
    esub = p.add_subparsers(dest="edge_command", required=True)
    r = esub.add_parser("run", help="run all (or some) cameras of a site in one process")
    r.add_argument("--config", required=True, type=Path, help="site YAML")
    r.add_argument("--camera", action="append", default=[], metavar="ID", help="only these cameras (repeatable)")
    r.add_argument("--bootstrap", default=None, help="Kafka bootstrap servers (default: MALLFLOW_KAFKA_* settings)")
    r.add_argument("--topic", default=None, help="events topic (default: mallflow.events.v1)")
    r.add_argument("--edge-id", default=socket.gethostname(), help="this agent's id in every envelope")
    r.add_argument("--state-dir", type=Path, default=None, help="sequence counters (default: cache dir)")
    r.add_argument("--spool-dir", type=Path, default=None, help="spool for events the broker could not take yet")
    r.add_argument("--spool-max-mb", type=int, default=1024, help="spool bound; the oldest events go beyond it")
    r.add_argument(
        "--snapshot-dir", type=Path, default=None, help="blurred snapshots, if the site enables them (default: cache)"
    )
    r.add_argument("--metrics-port", type=int, default=9108, help="Prometheus /metrics port (0: off)")
    r.add_argument("--status-interval", type=float, default=10.0, help="seconds between camera-status events")
    r.add_argument(
        "--still-warning",
        type=positive_seconds,
        default=600.0,
        metavar="SECONDS",
        help="log and count (mallflow_edge_still_tracks) tracks that stay on one spot this long: a person waiting, "
        "or an object taken for one, to leave out of the camera's coverage (default 600)",
    )
    r.add_argument("--engine", choices=ENGINES, default="onnxruntime")
    r.add_argument("--source-backend", choices=SOURCE_BACKENDS, default="auto")
    r.add_argument(
        "--threads", type=int, default=None, help="ONNX Runtime threads per model (default: half the cores each)"
    )
    r.add_argument(
        "--detect-workers",
        type=int,
        default=None,
        help="frames in detection at once (default: 2 where the engine allows concurrent calls, else 1)",
    )
    r.add_argument("--no-progress", action="store_true", help="no progress display")
    r.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from prometheus_client import start_http_server

    from edge.agent.assemble import AgentOptions, agent_dir, assemble_agent, enabled_cameras, kafka_sink
    from edge.agent.metrics import AgentMetrics
    from edge.agent.progress import AgentProgress
    from shared.config import load_site_config

    site = load_site_config(args.config)
    cameras = enabled_cameras(site, args.camera, args.config)
    if args.engine == "deepstream":
        # Before the Kafka sink and the metrics port: on a machine without DeepStream, say so and stop.
        from edge.inference.factory import deepstream_backend

        try:
            deepstream_backend()
        except ImportError as exc:
            raise UsageError(str(exc)) from None
    metrics = AgentMetrics()
    if args.metrics_port:
        start_http_server(args.metrics_port, addr="127.0.0.1")
    root = agent_dir(site.site.id, args.edge_id)
    sink = kafka_sink(args.bootstrap, args.spool_dir or root / "spool", args.topic, args.spool_max_mb * 1024 * 1024)
    agent = assemble_agent(
        site,
        cameras,
        sink,
        AgentOptions(
            edge_id=args.edge_id,
            state_dir=args.state_dir or root / "state",
            snapshot_dir=args.snapshot_dir or root / "snapshots",
            engine=args.engine,
            source_backend=args.source_backend,
            threads=args.threads,
            detect_workers=args.detect_workers,
            status_interval_s=args.status_interval,
            still_warning_s=args.still_warning,
        ),
        metrics,
    )

    def shutdown(signum: int, _frame: FrameType | None) -> None:
        log.warning("signal %d: stopping cameras and flushing events", signum)
        agent.stop.set()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    with AgentProgress(site, cameras, enabled=not args.no_progress) as progress:
        reports = agent.run(on_frame=progress.update)
    sink.close(timeout_s=30.0)
    _print_reports(reports)
    return 1 if any(r.error for r in reports) and all(r.error for r in reports) else 0


def _print_reports(reports: list[CameraReport]) -> None:
    for r in reports:
        print(r.describe())
