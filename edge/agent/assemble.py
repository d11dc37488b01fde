"""Build an edge agent for a site: engines, sources and settings chosen in one place."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from edge.agent.agent import AgentCore, AgentSettings, EdgeAgent
from edge.agent.metrics import AgentMetrics
from edge.inference.base import Detector
from edge.publish.delivery import DeliverySettings
from edge.publish.kafka_sink import KafkaSink
from edge.publish.sink import EventSink
from shared.config.detector import DetectorProfile
from shared.config.site import SiteConfig
from shared.messaging.settings import KafkaSettings
from shared.paths import cache_dir
from shared.schema.topics import EVENTS_TOPIC


def agent_dir(site_id: str, edge_id: str) -> Path:
    """Default home of one agent's sequence counters, spool and snapshots."""
    return cache_dir() / "edge" / site_id / edge_id


def kafka_sink(
    bootstrap: str | None,
    spool_dir: Path,
    topic: str | None = None,
    spool_max_bytes: int = DeliverySettings.spool_max_bytes,
) -> EventSink:
    delivery = DeliverySettings(spool_dir=spool_dir, spool_max_bytes=spool_max_bytes)
    return KafkaSink(KafkaSettings.from_env(bootstrap), delivery=delivery, topic=topic or EVENTS_TOPIC)


@dataclass(frozen=True)
class AgentOptions:
    edge_id: str
    state_dir: Path
    snapshot_dir: Path | None = None
    # onnxruntime or tensorrt (per-model engines behind the CPU agent), or deepstream (the GPU pipeline).
    engine: str = "onnxruntime"
    source_backend: str = "auto"
    # ONNX Runtime threads per model; None: half the cores each.
    threads: int | None = None
    # Frames in detection at once; None: `detect_workers_for` the loaded detectors.
    detect_workers: int | None = None
    status_interval_s: float = 10.0
    still_warning_s: float = 600.0
    # Replays of recorded footage: the first frame's event time (None: when it is read).
    replay_start_ns: int | None = None

    def __post_init__(self) -> None:
        if self.detect_workers is not None and self.detect_workers < 1:
            raise ValueError(f"detect_workers must be >= 1, got {self.detect_workers}")


def enabled_cameras(site: SiteConfig, wanted: list[str], where: object) -> list[str]:
    """`wanted` checked against the site (all enabled cameras when empty)."""
    known = [c.id for c in site.cameras if c.enabled]
    unknown = sorted(set(wanted) - {c.id for c in site.cameras})
    if unknown:
        raise ValueError(f"{where}: no camera {', '.join(unknown)} (cameras: {', '.join(known)})")
    return wanted or known


def assemble_agent(
    site: SiteConfig, cameras: list[str], sink: EventSink, options: AgentOptions, metrics: AgentMetrics | None = None
) -> AgentCore:
    settings = AgentSettings(
        edge_id=options.edge_id,
        state_dir=options.state_dir,
        status_interval_s=options.status_interval_s,
        snapshot_dir=options.snapshot_dir,
        still_warning_s=options.still_warning_s,
    )
    if options.engine == "deepstream":
        # Imported here: it loads DeepStream's GStreamer and pyds (ImportError, saying what is missing, elsewhere).
        from edge.deepstream.agent import build_deepstream_agent

        return build_deepstream_agent(site, cameras, sink, settings, metrics)
    # Imported here: the engines load onnxruntime (or TensorRT) and the sources GStreamer.
    from edge.agent.detector_profile import detector_plan
    from edge.inference.factory import create_detector, create_embedder, detect_workers_for, overlapped_threads
    from edge.sources.factory import open_source

    # Detection of the next frame runs while the current one is tracked (and embedded).
    threads = overlapped_threads(options.threads)

    def load(profile: DetectorProfile) -> Detector:
        return create_detector(options.engine, profile, threads=threads)

    # Cameras with equal profiles share one loaded model, so their frames batch together.
    loaded: dict[str, Detector] = {}
    detectors: dict[str, Detector] = {}
    for camera_id in cameras:
        plan = detector_plan(site, camera_id, options.engine)
        if plan.key not in loaded:
            loaded[plan.key] = plan.load(load)
        detectors[camera_id] = loaded[plan.key]
    embedder = create_embedder(options.engine, threads=threads) if site.tracking.reid else None
    workers = options.detect_workers or detect_workers_for(list(loaded.values()))
    return EdgeAgent(
        site,
        cameras,
        detectors,
        embedder,
        sink,
        replace(settings, detect_workers=workers),
        opener=lambda spec: open_source(
            spec if options.replay_start_ns is None else replace(spec, replay_start_ns=options.replay_start_ns),
            options.source_backend,
        ),
        metrics=metrics,
    )
