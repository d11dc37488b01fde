"""The edge agent: every camera of a site in one process.

One reader thread per camera decodes; the main loop takes the newest frame of each
camera, detects them in one batch, then per camera tracks, analyses and publishes.
A camera that fails is reported (camera-status event) and the others go on.

`AgentCore` is everything after detection — tracking, analytics, publishing, camera
states, status events, the shutdown flush — and is shared by the engines; `EdgeAgent`
feeds it from reader threads and a Detector, the DeepStream agent
(edge/deepstream/agent.py) from its GPU pipeline.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Generic, Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray

from edge.agent.camera_reader import CameraReader
from edge.agent.handoff import BatchHandOff
from edge.agent.metrics import AgentMetrics
from edge.agent.perception import CameraPerception
from edge.agent.watchdog import SystemdNotifier
from edge.analytics.camera import track_end_s
from edge.analytics.still import StillTracks
from edge.frames import Frame
from edge.inference.base import Detector, Embedder
from edge.inference.frame_fitted import detect_grouped
from edge.privacy.snapshots import SnapshotPolicy
from edge.publish.camera_publisher import CameraPublisher
from edge.publish.envelopes import EnvelopeFactory, StreamFigures
from edge.publish.files import write_atomically
from edge.publish.sequence import SequenceCounter
from edge.publish.sink import EventSink
from edge.publish.update_rate import UpdateThrottle
from edge.sources.base import FrameSource, SourceSpec
from edge.sources.reconnect import Backoff, SourceEvent, SourceState
from edge.tracking.association_rate import AssociationPacer
from shared.config.site import SiteConfig

log = logging.getLogger(__name__)

# (camera id, frames processed, fps, lag ms) after each frame, for progress displays.
FrameCallback = Callable[[str, int, float, float], None]
# Per frame of a batch: its (N, 6) detections, None where the frame was not detected (its tracks
# are carried), and, where the engine computed them, (N, D) ReID embeddings of those boxes.
Boxes = NDArray[np.float32] | None
Embeddings = NDArray[np.float32] | None


@dataclass(frozen=True)
class AgentSettings:
    edge_id: str
    # Per-camera sequence counters live here; keep it across restarts.
    state_dir: Path
    status_interval_s: float = 10.0
    backoff: Backoff = field(default_factory=Backoff)
    # Decoded frames waiting per camera: a file's read-ahead, a live camera's burst room under
    # load_shedding drop_oldest (thin keeps only the newest).
    queue_size: int = 4
    # Where blurred snapshots go when the site enables them (privacy.snapshots); never Kafka.
    snapshot_dir: Path | None = None
    # Batches in detection at once, each on a thread of its own, handed on in the order
    # their frames were taken; more than one needs detectors that allow concurrent calls.
    detect_workers: int = 1
    # A track that stays within a quarter of its height of one spot this long is logged and
    # counted (mallflow_edge_still_tracks): a mannequin or a bollard taken for a person is a
    # visitor who never leaves, and an installer leaves it out of the camera's coverage.
    still_warning_s: float = 600.0

    def __post_init__(self) -> None:
        if not self.edge_id:
            raise ValueError("edge_id must not be empty")
        if self.status_interval_s <= 0:
            raise ValueError(f"status_interval_s must be > 0, got {self.status_interval_s}")
        if self.detect_workers < 1:
            raise ValueError(f"detect_workers must be >= 1, got {self.detect_workers}")
        if not (math.isfinite(self.still_warning_s) and self.still_warning_s > 0):
            raise ValueError(f"still_warning_s must be a positive number of seconds, got {self.still_warning_s}")


@dataclass
class CameraReport:
    camera_id: str
    frames: int = 0
    state: str = SourceState.ONLINE.value
    error: str | None = None
    events: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        events = ", ".join(f"{k}={v}" for k, v in sorted(self.events.items())) or "no events"
        outcome = f"failed: {self.error}" if self.error else "done"
        return f"{self.camera_id}: {self.frames} frames, {events}; {outcome}"


class CameraInput(Protocol):
    """Where a camera's frames come from, as far as the agent's bookkeeping needs it."""

    @property
    def fps(self) -> float: ...

    @property
    def dropped(self) -> int: ...

    @property
    def thinned(self) -> int: ...

    @property
    def overloaded(self) -> bool: ...

    @property
    def error(self) -> str | None: ...

    def start(self) -> None: ...

    def join(self, timeout: float | None = None) -> None: ...

    def exhausted(self) -> bool: ...


class AgentCamera:
    """Runtime state of one camera inside the agent."""

    def __init__(self, camera_id: str, reader: CameraInput, publisher: CameraPublisher, still: StillTracks) -> None:
        self.camera_id = camera_id
        self.reader = reader
        self.publisher = publisher
        self.still = still
        self.perception: CameraPerception | None = None
        self.frames = 0
        # Until the source reports that it opened: a camera that never did is not ONLINE,
        # and no periodic status may say so before its OFFLINE event is handled.
        self.state = SourceState.RECONNECTING
        self.message = ""
        self.last_frame: Frame | None = None
        self.last_status_ns = 0
        self.lag_ms = 0.0
        self.dropped_counted = 0
        self.thinned_counted = 0
        self.last_snapshot_ns = 0
        self.recent: deque[float] = deque(maxlen=64)

    def fps(self) -> float:
        if len(self.recent) < 2:
            return 0.0
        span = self.recent[-1] - self.recent[0]
        return (len(self.recent) - 1) / span if span > 0 else 0.0


CameraFrame = tuple[AgentCamera, Frame]
DetectedBatch = tuple[list[CameraFrame], list[Boxes], list[Embeddings]]


def _track_id_base() -> int:
    # Millisecond clock x 1000: bases of runs a second apart are 10^6 ids apart, far more
    # than one run's tracker hands out, so ids never repeat on a camera across restarts.
    return time.time_ns() // 1_000_000 * 1000


class AgentCore(ABC):
    """One process, many cameras: per-camera perception and publishing behind an engine-specific feed.

    Subclasses say where a camera's frames come from (`_camera_input`), how batches of
    detections are produced (`_detect_loop`, which hands them over with `_deliver`) and
    how a camera's perception is built (`_perception`).
    """

    def __init__(
        self,
        site: SiteConfig,
        camera_ids: list[str],
        sink: EventSink,
        settings: AgentSettings,
        detector_ids: Mapping[str, str],
        reid_model_id: str | None,
        metrics: AgentMetrics | None = None,
        notifier: SystemdNotifier | None = None,
    ) -> None:
        if not camera_ids:
            raise ValueError("the agent needs at least one camera")
        self.site = site
        self.sink = sink
        self.settings = settings
        self.metrics = metrics
        self.notifier = notifier or SystemdNotifier.from_env()
        self.stop = threading.Event()
        self._events: queue.Queue[SourceEvent] = queue.Queue()
        self._handoff: BatchHandOff[DetectedBatch] = BatchHandOff()
        self._detector_error: Exception | None = None
        # Reported in camera status, so the cloud knows which models made the numbers.
        reid = {"reid": reid_model_id} if reid_model_id else {}
        self._model_versions = {cid: {"detector": detector_ids[cid]} | reid for cid in camera_ids}
        self._reid_model_id = reid_model_id if site.privacy.publish_embeddings else None
        self._cameras = [self._camera(site, cid) for cid in camera_ids]
        self._snapshots = SnapshotPolicy(site.privacy) if site.privacy.snapshots else None
        if self._snapshots is not None and settings.snapshot_dir is None:
            raise ValueError("privacy.snapshots is on: give the agent a snapshot directory")

    @abstractmethod
    def _camera_input(self, spec: SourceSpec) -> CameraInput:
        """The frame source of one camera (started by `run`)."""

    @abstractmethod
    def _detect_loop(self) -> None:
        """Produce detection batches with `_deliver` until every camera has ended or `stop` is set."""

    @abstractmethod
    def _perception(self, camera_id: str, frame_rate: float) -> CameraPerception:
        """Tracking and analytics of one camera, built at its first frame (when its rate is known)."""

    def _camera(self, site: SiteConfig, camera_id: str) -> AgentCamera:
        cfg = site.camera(camera_id)
        spec = SourceSpec(camera_id, cfg.source, crop=cfg.crop, fps_hint=cfg.fps_hint, stream=cfg.stream)
        reader = self._camera_input(spec)
        factory = EnvelopeFactory(
            site.site.id,
            camera_id,
            self.settings.edge_id,
            SequenceCounter(self.settings.state_dir, camera_id),
            floor_id=cfg.floor,
            model_id=self._reid_model_id,
        )
        publisher = CameraPublisher(
            factory,
            self.sink,
            UpdateThrottle(1.0 / site.tracking.update_hz),
            close_after_s=track_end_s(site, camera_id),
            track_id_base=_track_id_base(),
        )
        return AgentCamera(camera_id, reader, publisher, StillTracks(self.settings.still_warning_s))

    def run(self, on_frame: FrameCallback | None = None) -> list[CameraReport]:
        """Process until every camera has ended or failed, or `stop` is set; then flush."""
        for cam in self._cameras:
            cam.reader.start()
        detection = threading.Thread(target=self._produce, name="detector", daemon=True)
        detection.start()
        self.notifier.ready()
        try:
            while True:
                # Every turn of this loop, frames or not: a hung loop is what the watchdog catches.
                self.notifier.alive()
                self._handle_source_events()
                item = self._handoff.take(timeout_s=0.05)
                if item is None:
                    if not detection.is_alive() and self._handoff.empty():
                        break
                    continue
                self._process(*item, on_frame)
                self._periodic_status()
        finally:
            self.notifier.stopping()
            self.stop.set()
            detection.join(timeout=5)
            for cam in self._cameras:
                cam.reader.join(timeout=5)
            self._handle_source_events()
            for cam in self._cameras:
                self._end_tracks(cam)
                state = cam.state if cam.state is not SourceState.ONLINE else SourceState.ENDED
                self._status(cam, state, cam.message)
                cam.publisher.factory.sequence.close()
        if self._detector_error is not None:
            raise self._detector_error
        return [self._report(cam) for cam in self._cameras]

    def _produce(self) -> None:
        try:
            self._detect_loop()
        except Exception as exc:
            log.exception("detector failed")
            self._detector_error = exc
            self.stop.set()

    def _deliver(self, batch: list[CameraFrame], boxes: list[Boxes], embeddings: list[Embeddings]) -> bool:
        """Hand one batch to the main loop, waiting for room; False once stopping."""
        detected = any(cam_boxes is not None for cam_boxes in boxes)
        return self._handoff.put((batch, boxes, embeddings), detected, self.stop)

    def _process(
        self,
        batch: list[CameraFrame],
        boxes: list[Boxes],
        embeddings: list[Embeddings],
        on_frame: FrameCallback | None,
    ) -> None:
        for (cam, frame), cam_boxes, cam_embeddings in zip(batch, boxes, embeddings, strict=True):
            if cam.perception is None:
                cam.perception = self._perception(cam.camera_id, cam.reader.fps or 25.0)
                cam.publisher.appearance = cam.perception.tracker.appearance
            elif _is_gap(cam, frame):
                # Footage after a gap (an outage, a stall) is new footage, whichever reached
                # the loop first: the reconnect's event or frames queued before the loss.
                self._end_tracks(cam)
            try:
                facts = cam.perception.step(frame, cam_boxes, cam_embeddings)
                closed = cam.publisher.publish(facts)
            except Exception as exc:
                log.exception("camera %s: frame %d failed", cam.camera_id, frame.index)
                cam.message = f"processing failed: {exc}"
                continue
            cam.perception.tracker.forget(closed)
            for spell in cam.still.update(facts.detections, frame.capture_time_ns):
                x, y = spell.spot
                log.warning(
                    "camera %s: track %d has stayed at (%.0f, %.0f) for %.0f s: a person waiting, or an object taken "
                    "for one (if so, leave it out of the camera's coverage)",
                    cam.camera_id,
                    spell.track_id,
                    x,
                    y,
                    spell.seconds,
                )
            cam.still.forget(closed)
            self._maybe_snapshot(cam, frame, facts.detections.xyxy)
            cam.frames += 1
            cam.last_frame = frame
            now = time.time_ns()
            cam.recent.append(now / 1e9)
            cam.lag_ms = max(0.0, (now - frame.capture_time_ns) / 1e6)
            if self.metrics is not None:
                self.metrics.dropped_frames.labels(cam.camera_id).inc(cam.reader.dropped - cam.dropped_counted)
                cam.dropped_counted = cam.reader.dropped
                self.metrics.thinned_frames.labels(cam.camera_id).inc(cam.reader.thinned - cam.thinned_counted)
                cam.thinned_counted = cam.reader.thinned
                self.metrics.overloaded.labels(cam.camera_id).set(1 if cam.reader.overloaded else 0)
                self.metrics.frames.labels(cam.camera_id).inc()
                self.metrics.lag.labels(cam.camera_id).observe(cam.lag_ms / 1e3)
                self.metrics.tracks.labels(cam.camera_id).set(len(facts.detections))
                self.metrics.still_tracks.labels(cam.camera_id).set(cam.still.still_now())
                gate = cam.perception.tracker.appearance_gate
                if gate is not None:
                    self.metrics.appearance_gate.labels(cam.camera_id).set(gate.threshold)
                self.metrics.fps.labels(cam.camera_id).set(cam.fps())
            if on_frame is not None:
                on_frame(cam.camera_id, cam.frames, cam.fps(), cam.lag_ms)

    def _maybe_snapshot(self, cam: AgentCamera, frame: Frame, person_xyxy: NDArray[np.float32]) -> None:
        if self._snapshots is None or self.settings.snapshot_dir is None:
            return
        if frame.capture_time_ns - cam.last_snapshot_ns < self.settings.status_interval_s * 1e9:
            return
        data = self._snapshots.snapshot(frame.image, person_xyxy)
        if data is not None:
            cam.last_snapshot_ns = frame.capture_time_ns
            self.settings.snapshot_dir.mkdir(parents=True, exist_ok=True)
            write_atomically(self.settings.snapshot_dir / f"{cam.camera_id}.jpg", data)

    def _handle_source_events(self) -> None:
        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                return
            cam = next(c for c in self._cameras if c.camera_id == event.camera_id)
            if event.state is SourceState.RECONNECTING and cam.state is SourceState.ONLINE:
                # Footage after a gap is new footage: close every track, start fresh ids.
                self._end_tracks(cam)
                if self.metrics is not None:
                    self.metrics.reconnects.labels(cam.camera_id).inc()
            if event.state is SourceState.ENDED:
                # Frames still queued are processed before the final status goes out.
                cam.message = event.message
                continue
            cam.state = event.state
            cam.message = event.message
            if self.metrics is not None:
                self.metrics.camera_state.labels(cam.camera_id).set(1 if event.state is SourceState.ONLINE else 0)
            self._status(cam, event.state, event.message)

    def _end_tracks(self, cam: AgentCamera) -> None:
        if cam.perception is None:
            return
        end = cam.perception.analytics.close(cam.last_frame.capture_time_ns) if cam.last_frame else None
        closed = cam.publisher.close_all(end)
        cam.perception.tracker.forget(closed)
        cam.still.forget(closed)
        cam.perception.reset()
        cam.publisher.track_id_base = _track_id_base()

    def _periodic_status(self) -> None:
        now = time.time_ns()
        for cam in self._cameras:
            if cam.state is SourceState.ONLINE and now - cam.last_status_ns >= self.settings.status_interval_s * 1e9:
                self._status(cam, SourceState.ONLINE, "")

    def _status(self, cam: AgentCamera, state: SourceState, message: str) -> None:
        now = time.time_ns()
        cam.last_status_ns = now
        figures = StreamFigures(
            fps=cam.fps(),
            frames=cam.frames,
            dropped_frames=cam.reader.dropped,
            lag_ms=cam.lag_ms,
            thinned_frames=cam.reader.thinned,
            source_fps=cam.reader.fps,
            overloaded=cam.reader.overloaded,
        )
        cam.publisher.status(
            state,
            figures,
            # Never before the camera's newest frame: file timestamps can run ahead of the wall
            # clock, and a final status must not sort before the frames it reports on.
            time_ns=max(now, cam.last_frame.capture_time_ns) if cam.last_frame else now,
            model_versions=self._model_versions[cam.camera_id],
            message=message,
        )

    def _report(self, cam: AgentCamera) -> CameraReport:
        state = SourceState.OFFLINE if cam.reader.error else SourceState.ENDED
        return CameraReport(cam.camera_id, cam.frames, state.value, cam.reader.error, dict(cam.publisher.sent))


class EdgeAgent(AgentCore):
    """The CPU/TensorRT agent: a reader thread per camera, batched detection, an Embedder for ReID.

    `detector` serves every camera, or a mapping gives each camera its own (cameras sharing
    one Detector object are batched together).
    """

    def __init__(
        self,
        site: SiteConfig,
        camera_ids: list[str],
        detector: Detector | Mapping[str, Detector],
        embedder: Embedder | None,
        sink: EventSink,
        settings: AgentSettings,
        opener: Callable[[SourceSpec], FrameSource],
        metrics: AgentMetrics | None = None,
        notifier: SystemdNotifier | None = None,
    ) -> None:
        self.detectors = _per_camera(detector, camera_ids)
        if settings.detect_workers > 1:
            serial = sorted({type(d).__name__ for d in self.detectors.values() if not d.concurrent_calls})
            if serial:
                raise ValueError(
                    f"detect_workers={settings.detect_workers} needs detectors that allow concurrent calls; "
                    f"{', '.join(serial)} does not (use detect_workers=1)"
                )
        self.embedder = embedder
        self._opener = opener
        self._readers: dict[str, CameraReader] = {}
        # A camera faster than tracking.max_association_fps is associated at about that rate: the
        # frames its tracker carries are not detected. A reset tracker (a reconnect) follows this
        # pace again from its next detected frame.
        self._detection_pacers: dict[str, AssociationPacer] = {}
        super().__init__(
            site,
            camera_ids,
            sink,
            settings,
            {cid: d.model_id for cid, d in self.detectors.items()},
            embedder.model_id if embedder is not None else None,
            metrics,
            notifier,
        )

    def _camera_input(self, spec: SourceSpec) -> CameraReader:
        reader = CameraReader(
            spec,
            self._opener,
            self._events.put,
            self.stop,
            self.settings.backoff,
            self.settings.queue_size,
            self.site.load_shedding,
        )
        self._readers[spec.camera_id] = reader
        self._detection_pacers[spec.camera_id] = CameraPerception.detection_pacer(self.site)
        return reader

    def _perception(self, camera_id: str, frame_rate: float) -> CameraPerception:
        return CameraPerception.from_config(self.site, camera_id, frame_rate, self.embedder)

    def _detect_loop(self) -> None:
        """Batch the cameras' newest frames through the detector, overlapping the tracking of the previous batch."""
        order: _TakeOrder[_TakenFrame] = _TakeOrder()
        extra = [
            threading.Thread(target=self._detect_worker, args=(order,), name=f"detector-{i}", daemon=True)
            for i in range(1, self.settings.detect_workers)
        ]
        for worker in extra:
            worker.start()
        try:
            self._detect_worker(order)
        finally:
            for worker in extra:
                worker.join()
        if order.error is not None:
            raise order.error

    def _detect_worker(self, order: _TakeOrder[_TakenFrame]) -> None:
        try:
            # Frames are taken when their batch can be handed on, not before: the newest
            # frames then, not ones that would wait behind a full queue.
            while self._handoff.await_room(self.stop):
                ticket, taken = order.take(self._take_frames)
                if not taken:
                    if all(cam.reader.exhausted() for cam in self._cameras):
                        return
                    time.sleep(0.002)
                    continue
                boxes = self._detect(taken)
                batch = [(cam, frame) for cam, frame, _ in taken]
                if not order.hand_on(ticket, partial(self._deliver, batch, boxes, [None] * len(batch)), self.stop):
                    return
        except Exception as exc:
            # The batch this worker held never comes: the others must not wait for its turn.
            order.fail(exc)
            self.stop.set()

    def _detect(self, taken: list[_TakenFrame]) -> list[Boxes]:
        """One detector call per loaded model, for the due frames of the cameras it serves; None for the others."""
        due = [i for i, (_, _, is_due) in enumerate(taken) if is_due]
        found = detect_grouped([taken[i][1].image for i in due], lambda k: self.detectors[taken[due[k]][0].camera_id])
        boxes: list[Boxes] = [None] * len(taken)
        for i, cam_boxes in zip(due, found, strict=True):
            boxes[i] = cam_boxes
        return boxes

    def _take_frames(self) -> list[_TakenFrame]:
        # Under the take lock, so each camera's pacer sees its frames in the order they are tracked.
        taken = []
        for cam in self._cameras:
            try:
                frame = self._readers[cam.camera_id].frames.get_nowait()
            except queue.Empty:
                continue
            taken.append((cam, frame, self._detection_pacers[cam.camera_id].due(frame.capture_time_ns)))
        return taken


# A camera's frame as taken for detection, and whether it is due for it.
_TakenFrame = tuple[AgentCamera, Frame, bool]
_Taken = TypeVar("_Taken")


class _TakeOrder(Generic[_Taken]):
    """Hands detected batches on in the order their frames were taken, whichever worker finishes first."""

    def __init__(self) -> None:
        self._take_lock = threading.Lock()
        self._turn = threading.Condition()
        self._taken = 0
        self._handed = 0
        self.error: Exception | None = None

    def take(self, take_frames: Callable[[], list[_Taken]]) -> tuple[int, list[_Taken]]:
        """A batch of frames and its place in the hand-on order (counted only when not empty)."""
        with self._take_lock:
            batch = take_frames()
            ticket = self._taken
            if batch:
                self._taken += 1
            return ticket, batch

    def hand_on(self, ticket: int, deliver: Callable[[], bool], stop: threading.Event) -> bool:
        """Run `deliver` once every earlier batch has been handed on; False when stopping first."""
        with self._turn:
            while self._handed != ticket:
                if stop.is_set():
                    return False
                self._turn.wait(0.1)
            try:
                return deliver()
            finally:
                self._handed += 1
                self._turn.notify_all()

    def fail(self, exc: Exception) -> None:
        with self._turn:
            if self.error is None:
                self.error = exc
            self._turn.notify_all()


def _per_camera(detector: Detector | Mapping[str, Detector], camera_ids: list[str]) -> dict[str, Detector]:
    if isinstance(detector, Detector):
        return dict.fromkeys(camera_ids, detector)
    missing = sorted(set(camera_ids) - set(detector))
    if missing:
        raise ValueError(f"no detector given for camera(s) {', '.join(missing)}")
    return {cid: detector[cid] for cid in camera_ids}


def _is_gap(cam: AgentCamera, frame: Frame) -> bool:
    """True when `frame` comes longer after the camera's previous one than a track may stay unseen.

    BoT-SORT counts frames, not seconds, so it would match a person seen before an outage
    to whoever stands there after it; the publisher would have closed that track by time.
    """
    last = cam.last_frame
    return last is not None and frame.capture_time_ns - last.capture_time_ns > cam.publisher.close_after_ns
