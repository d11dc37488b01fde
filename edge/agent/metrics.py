"""Prometheus metrics of the edge agent, per camera."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram


class AgentMetrics:
    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.frames = Counter("mallflow_edge_frames_total", "Frames processed", ["camera"], registry=registry)
        self.dropped_frames = Counter(
            "mallflow_edge_dropped_frames_total",
            "Live frames dropped because the agent fell behind",
            ["camera"],
            registry=registry,
        )
        self.thinned_frames = Counter(
            "mallflow_edge_thinned_frames_total",
            "Live frames skipped evenly by load shedding (every k-th kept)",
            ["camera"],
            registry=registry,
        )
        self.overloaded = Gauge(
            "mallflow_edge_camera_overloaded",
            "1 while the agent does not process the camera at its full rate",
            ["camera"],
            registry=registry,
        )
        self.fps = Gauge(
            "mallflow_edge_fps", "Processed frames per second (10 s window)", ["camera"], registry=registry
        )
        self.lag = Histogram(
            "mallflow_edge_lag_seconds",
            "Capture-to-processed delay of each frame",
            ["camera"],
            buckets=(0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0),
            registry=registry,
        )
        self.tracks = Gauge("mallflow_edge_tracks", "Tracks in the newest frame", ["camera"], registry=registry)
        self.still_tracks = Gauge(
            "mallflow_edge_still_tracks",
            "Tracks on one spot for still_warning_s or longer: a person waiting, or an object taken for one",
            ["camera"],
            registry=registry,
        )
        self.appearance_gate = Gauge(
            "mallflow_edge_appearance_gate",
            "OSNet distance under which appearance may join a track and a box, as learned on this camera's picture",
            ["camera"],
            registry=registry,
        )
        self.events = Counter(
            "mallflow_edge_events_total", "Envelopes published, by payload type", ["camera", "type"], registry=registry
        )
        self.camera_state = Gauge(
            "mallflow_edge_camera_online", "1 while the camera delivers frames", ["camera"], registry=registry
        )
        self.reconnects = Counter(
            "mallflow_edge_reconnects_total", "Reconnect attempts after a stream loss", ["camera"], registry=registry
        )
