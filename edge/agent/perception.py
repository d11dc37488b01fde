"""One camera's perception after detection: gate → BoT-SORT (+ReID) → per-camera analytics.

Detection is not here: the agent batches it across cameras, and the Jetson path gets
boxes from DeepStream. Everything after the detector is the same on every engine.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from edge.analytics.camera import CameraAnalytics, CameraFacts
from edge.detections import Detections
from edge.frames import Frame
from edge.inference.base import Embedder
from edge.tracking.association_rate import AssociationPacer
from edge.tracking.base import Tracker
from edge.tracking.botsort import BotSortTracker
from edge.tracking.gate import DetectionGate
from shared.config.site import SiteConfig


class CameraPerception:
    def __init__(self, camera_id: str, gate: DetectionGate, tracker: Tracker, analytics: CameraAnalytics) -> None:
        self.camera_id = camera_id
        self.gate = gate
        self.tracker = tracker
        self.analytics = analytics

    @classmethod
    def from_config(
        cls,
        site: SiteConfig,
        camera_id: str,
        frame_rate: float,
        embedder: Embedder | None,
        *,
        motion_compensation: bool = True,
    ) -> CameraPerception:
        """`motion_compensation=False` turns the site's `cmc_method` off: the one input that needs real pixels."""
        camera = site.camera(camera_id)
        profile = site.detector_of(camera_id)
        gate = DetectionGate(profile.score_threshold, camera.ignore_regions, profile.resolved_foot_margin())
        tracking = site.tracking if motion_compensation else site.tracking.model_copy(update={"cmc_method": "none"})
        tracker = BotSortTracker(tracking, frame_rate, embedder if tracking.reid else None)
        return cls(camera_id, gate, tracker, CameraAnalytics.from_config(site, camera_id))

    @staticmethod
    def detection_pacer(site: SiteConfig) -> AssociationPacer:
        """The frames `from_config`'s tracker will associate, for a stage that must pick them before
        the perception exists (the agent's detection, ahead of a camera's first frame)."""
        return BotSortTracker.paced(site.tracking)

    def step(
        self, frame: Frame, boxes: NDArray[np.float32] | None, embeddings: NDArray[np.float32] | None = None
    ) -> CameraFacts:
        """Track one frame's (N, 6) detector output and run the camera's analytics on it.

        `boxes` None: the frame was not detected (the tracker's `detection_pacer` skipped it); its
        tracks are carried along their motion. `embeddings`: (N, D) ReID vectors of those boxes
        where the engine computed them alongside detection (DeepStream's secondary nvinfer); the
        tracker then takes them instead of asking its embedder.
        """
        if frame.camera_id != self.camera_id:
            raise ValueError(f"frame of camera {frame.camera_id!r} given to perception of {self.camera_id!r}")
        if boxes is None:
            return self.analytics.update(self.tracker.carry(frame.capture_time_ns), frame.capture_time_ns)
        detections = Detections.from_array(boxes)
        if embeddings is not None:
            detections = replace(detections, embeddings=np.asarray(embeddings, dtype=np.float32))
        detections = self.gate.apply(detections)
        tracked = self.tracker.update(detections, frame.image, frame.capture_time_ns)
        return self.analytics.update(tracked, frame.capture_time_ns)

    def reset(self) -> None:
        """After a reconnect: old track ids must not resume on new footage."""
        self.tracker.reset()
