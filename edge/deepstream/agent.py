"""The edge agent on DeepStream: the GPU pipeline decodes, detects and embeds; the agent core tracks and publishes.

Everything after the detector is the CPU agent's (edge/agent/agent.py `AgentCore`): the
same BoT-SORT wrapper, CameraAnalytics, publisher, camera states and status events. What
differs is the feed: one pipeline for all cameras (edge/deepstream/runtime.py) hands over
each muxer batch as `FrameResult`s, boxes in the camera's pixels and OSNet vectors per box.

Frames stay on the GPU. The tracker gets a placeholder image of the camera's frame size
(zeros, never read: camera-motion compensation, the one consumer of pixels, is off on this
engine, and embeddings come with the boxes), and blurred snapshots are not available.
This module imports neither `gi` nor `pyds`: the runtime is loaded by `build_deepstream_agent`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from edge.agent.agent import AgentCore, AgentSettings, Boxes, CameraFrame, Embeddings
from edge.agent.metrics import AgentMetrics
from edge.agent.perception import CameraPerception
from edge.agent.watchdog import SystemdNotifier
from edge.deepstream.pipeline import (
    CaptureClock,
    DeepStreamSettings,
    DetectorHead,
    FrameResult,
    PipelinePlan,
    ReidHead,
    agent_detector,
    build_plan,
    camera_of,
    crop_to_camera,
    detector_interval_for,
    order_batch,
)
from edge.frames import Frame
from edge.inference.precomputed import PrecomputedEmbedder
from edge.publish.sink import EventSink
from edge.sources.base import SourceSpec
from edge.sources.reconnect import SourceEvent, SourceState
from shared.config.site import SiteConfig

log = logging.getLogger(__name__)

FramesCallback = Callable[[list[FrameResult]], bool]
EventCallback = Callable[[SourceEvent], None]
RateCallback = Callable[[int, float], None]


class Runner(Protocol):
    def run(self, stop: threading.Event) -> None:
        """Play the pipeline until every camera has finished, `stop` is set, or it fails (raises)."""


# (plan, per-batch results, camera state changes, source frame rate by muxer pad) → a runner.
RunnerFactory = Callable[[PipelinePlan, FramesCallback, EventCallback, RateCallback], Runner]


@dataclass(frozen=True)
class DeepStreamModels:
    """The two nvinfer stages: model ids (published with events and embeddings) and their config files.

    `detector_input` is the (height, width) the detector's engine and config were made for:
    the input size of the cameras' detector profile.
    """

    detector_id: str
    detector_config: Path
    detector_input: tuple[int, int]
    reid_id: str | None = None
    reid_config: Path | None = None
    reid_dim: int = 512

    def __post_init__(self) -> None:
        if (self.reid_id is None) != (self.reid_config is None):
            raise ValueError("a ReID secondary needs both its model id and its nvinfer config (or neither)")


class DeepStreamCamera:
    """One camera's side of the pipeline, as the agent core sees a frame source (`CameraInput`)."""

    def __init__(self, spec: SourceSpec, start_ns: int, detector_interval: int = 0) -> None:
        self.spec = spec
        self.dropped = 0
        # Thinning is the CPU agent's load shedding; here the pipeline's own interval and
        # rtspsrc's drop-on-latency shed load, and no per-frame queue shows who is behind.
        self.thinned = 0
        self.overloaded = False
        self.error: str | None = None
        self.finished = False
        self._stride = detector_interval + 1
        self._source_fps = spec.fps_hint or 0.0
        # A file replayed at the hour it was shot starts there, as the CPU sources do.
        start = spec.replay_start_ns if spec.replay_start_ns is not None else start_ns
        self.clock = CaptureClock(spec.is_live, start, spec.fps_hint)
        self._index = 0
        self._placeholder: NDArray[np.uint8] | None = None

    @property
    def fps(self) -> float:
        """Rate of the frames the agent tracks: the source's, less the ones the detector skips."""
        return self._source_fps / self._stride

    def set_source_fps(self, fps: float) -> None:
        if not self.spec.fps_hint and fps > 0:
            self._source_fps = fps
            self.clock.fps = fps

    def start(self) -> None:
        """Nothing to start: the pipeline opens every camera at once."""

    def join(self, timeout: float | None = None) -> None:
        """Nothing to wait for: the pipeline's thread is the agent's detection thread."""

    def exhausted(self) -> bool:
        return self.finished

    def frame(
        self, size: tuple[int, int], frame_num: int, pts_ns: int | None, ntp_ns: int | None, now_ns: int
    ) -> Frame:
        """The agent's frame for one pipeline frame: `frame_num` is its position in the stream (skipped ones count)."""
        if self._placeholder is None or self._placeholder.shape[:2] != size:
            # np.zeros maps untouched pages: a 1080p placeholder costs address space, not memory.
            self._placeholder = np.zeros((*size, 3), dtype=np.uint8)
            self._placeholder.flags.writeable = False
        time_ns = self.clock.time_ns(frame_num, pts_ns, ntp_ns, now_ns)
        frame = Frame(self.spec.camera_id, self._index, time_ns, self._placeholder)
        self._index += 1
        return frame


def _default_runner(
    plan: PipelinePlan, on_frames: FramesCallback, on_event: EventCallback, on_rate: RateCallback
) -> Runner:
    from edge.inference.factory import deepstream_backend

    runner: Runner = deepstream_backend().DeepStreamRunner(plan, on_frames, on_event, on_rate)
    return runner


class DeepStreamAgent(AgentCore):
    def __init__(
        self,
        site: SiteConfig,
        camera_ids: list[str],
        sink: EventSink,
        settings: AgentSettings,
        models: DeepStreamModels,
        options: DeepStreamSettings | None = None,
        runner: RunnerFactory = _default_runner,
        metrics: AgentMetrics | None = None,
        notifier: SystemdNotifier | None = None,
    ) -> None:
        if site.privacy.snapshots:
            raise ValueError(
                "privacy.snapshots needs frames on the CPU, and the deepstream engine keeps them on the GPU: "
                "turn snapshots off for this site or run it with --engine tensorrt"
            )
        if site.tracking.reid and models.reid_id is None:
            raise ValueError("tracking.reid is on but the DeepStream models have no ReID stage (or set reid: false)")
        detector = DetectorHead.for_profile(agent_detector(site, camera_ids))
        if tuple(models.detector_input) != detector.input_size:
            raise ValueError(
                f"the DeepStream detector was prepared for {models.detector_input[0]}x{models.detector_input[1]} "
                f"but the cameras' detector profile runs at {detector.input_size[0]}x{detector.input_size[1]}"
            )
        self.options = options or DeepStreamSettings()
        self._detector_interval = detector_interval_for(site, camera_ids, self.options)
        log.info(
            "nvinfer interval %d: each camera is detected on 1 frame in %d",
            self._detector_interval,
            self._detector_interval + 1,
        )
        self._runner = runner
        self._start_ns = time.time_ns()
        self._inputs: dict[str, DeepStreamCamera] = {}
        self._embedder = (
            PrecomputedEmbedder(models.reid_id, models.reid_dim)
            if site.tracking.reid and models.reid_id is not None
            else None
        )
        super().__init__(
            site,
            camera_ids,
            sink,
            settings,
            dict.fromkeys(camera_ids, models.detector_id),
            None if self._embedder is None else self._embedder.model_id,
            metrics,
            notifier,
        )
        if site.tracking.cmc_method != "none":
            log.info("camera-motion compensation (%s) is off on the deepstream engine", site.tracking.cmc_method)
        self.plan = build_plan(
            [camera.spec for camera in self._inputs.values()],
            detector,
            models.detector_config,
            (ReidHead(models.reid_dim), models.reid_config)
            if self._embedder is not None and models.reid_config is not None
            else None,
            settings.backoff,
            self.options,
        )

    def _camera_input(self, spec: SourceSpec) -> DeepStreamCamera:
        camera = DeepStreamCamera(spec, self._start_ns, self._detector_interval)
        self._inputs[spec.camera_id] = camera
        return camera

    def _perception(self, camera_id: str, frame_rate: float) -> CameraPerception:
        return CameraPerception.from_config(self.site, camera_id, frame_rate, self._embedder, motion_compensation=False)

    def _detect_loop(self) -> None:
        self._runner(self.plan, self._on_frames, self._on_event, self._on_rate).run(self.stop)

    def _on_frames(self, results: list[FrameResult]) -> bool:
        """One muxer batch from the pipeline → one agent batch; False once the agent is stopping."""
        now = time.time_ns()
        batch: list[CameraFrame] = []
        boxes: list[Boxes] = []
        embeddings: list[Embeddings] = []
        for result in order_batch(results):
            # Muxer pad i carries camera i: the plan's slots follow the cameras' order.
            cam = self._cameras[camera_of(self.plan.slots, result.pad_index).index]
            source = self._inputs[cam.camera_id]
            if source.error is not None:
                # Given up on; an ENDED camera's frames still in the pipeline are processed, though.
                continue
            try:
                cam_boxes, cam_embeddings, size = crop_to_camera(
                    result.boxes, result.embeddings, source.spec.crop, result.source_size
                )
            except ValueError as exc:
                self._on_event(SourceEvent(cam.camera_id, SourceState.OFFLINE, f"camera {cam.camera_id}: {exc}"))
                continue
            batch.append((cam, source.frame(size, result.frame_num, result.pts_ns, result.ntp_ns, now)))
            boxes.append(cam_boxes)
            embeddings.append(cam_embeddings)
        if not batch:
            return not self.stop.is_set()
        return self._deliver(batch, boxes, embeddings)

    def _on_event(self, event: SourceEvent) -> None:
        source = self._inputs[event.camera_id]
        if source.finished:
            # The first end wins: a camera the agent gave up on (a crop beyond its frame) stays OFFLINE.
            return
        if event.state is SourceState.OFFLINE:
            source.error = event.message
        if event.state in (SourceState.OFFLINE, SourceState.ENDED):
            source.finished = True
        self._events.put(event)

    def _on_rate(self, pad_index: int, fps: float) -> None:
        self._inputs[camera_of(self.plan.slots, pad_index).camera_id].set_source_fps(fps)


def build_deepstream_agent(
    site: SiteConfig,
    camera_ids: list[str],
    sink: EventSink,
    settings: AgentSettings,
    metrics: AgentMetrics | None = None,
    options: DeepStreamSettings | None = None,
) -> DeepStreamAgent:
    """The agent with engines and nvinfer configs prepared; ImportError (with what is missing) without DeepStream."""
    from edge.inference.factory import deepstream_backend

    options = options or DeepStreamSettings()
    runtime = deepstream_backend()
    models: DeepStreamModels = runtime.prepare_models(site, camera_ids, options)
    return DeepStreamAgent(site, camera_ids, sink, settings, models, options, runtime.DeepStreamRunner, metrics)
