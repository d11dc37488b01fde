"""BoT-SORT from boxmot, fed with our detections and our own (scheduled) OSNet embeddings.

We never let boxmot build its own ReID backend: its ONNX path pins and pip-installs
another onnxruntime at run time. Embeddings come from an `Embedder` we pass in, or
arrive with the detections (`Detections.embeddings`, e.g. from DeepStream's secondary
nvinfer): then the same schedule picks which of those rows count as fresh, so an engine
that hands over the vectors the embedder would have computed yields the same tracks.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from boxmot import BotSort
from boxmot.structures import Boxes
from boxmot.structures import Detections as BoxmotDetections
from numpy.typing import NDArray

from edge.detections import Detections
from edge.inference.base import Embedder
from edge.tracking.appearance import TrackAppearance
from edge.tracking.appearance_gate import AppearanceGate
from edge.tracking.association_rate import AssociationPacer, CarriedTracks, corner_velocity
from edge.tracking.base import Tracker
from edge.tracking.reid_schedule import ReidSchedule
from shared.config.site import Tracking

# boxmot attaches its own INFO-level console handler and prints every tracker it builds;
# the agent builds one per camera and per reconnect, so only its warnings get through.
logging.getLogger("boxmot").setLevel(logging.WARNING)


def visibility(boxes: NDArray[np.float32]) -> NDArray[np.float32]:
    """Fraction of each box not covered by the box in front of it (lower bottom edge = closer)."""
    n = len(boxes)
    vis = np.ones(n, dtype=np.float32)
    if n < 2:
        return vis
    x1 = np.maximum(boxes[:, None, 0], boxes[None, :, 0])
    y1 = np.maximum(boxes[:, None, 1], boxes[None, :, 1])
    x2 = np.minimum(boxes[:, None, 2], boxes[None, :, 2])
    y2 = np.minimum(boxes[:, None, 3], boxes[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    in_front = boxes[None, :, 3] > boxes[:, None, 3]
    covered = np.where(in_front, inter, 0).max(axis=1) / np.maximum(area, 1e-9)
    return np.asarray(1.0 - np.clip(covered, 0, 1), dtype=np.float32)


class BotSortTracker(Tracker):
    """boxmot's BoT-SORT with camera-motion compensation and scheduled, batched OSNet embeddings.

    `frame_rate` is the stream's real rate: boxmot sizes its Kalman steps and lost-track
    buffer in frames. The image given to `update` is read only by the embedder (for boxes
    without precomputed vectors) and by camera-motion compensation; with `cmc_method: none`
    boxmot takes nothing from it but its size.
    """

    def __init__(self, settings: Tracking, frame_rate: float, embedder: Embedder | None = None) -> None:
        if settings.reid and embedder is None:
            raise ValueError("tracking.reid is on but no embedder was given (or set reid: false)")
        if frame_rate <= 0:
            raise ValueError(f"frame_rate must be > 0, got {frame_rate}")
        self.settings = settings
        self.frame_rate = frame_rate
        self.pacer = self.paced(settings)
        self._carried = CarriedTracks()
        self.embedder = embedder if settings.reid else None
        self.appearance = TrackAppearance()
        self.schedule = ReidSchedule(refresh_frames=settings.reid_refresh_frames)
        # What the camera taught the gate outlives a reset: the picture is the same after a reconnect.
        self.appearance_gate = (
            AppearanceGate(settings.appearance_thresh, settings.appearance_gate_quantile)
            if settings.reid and settings.appearance_gate_quantile is not None
            else None
        )
        self.embeddings_computed = 0
        self._prev_boxes = np.zeros((0, 4), dtype=np.float32)
        self._prev_ids = np.zeros(0, dtype=np.int64)
        self._last_embedding: dict[int, NDArray[np.float32]] = {}
        self._tracker = self._new_tracker()

    def _new_tracker(self) -> BotSort:
        s = self.settings
        return BotSort(
            track_high_thresh=s.track_high_thresh,
            track_low_thresh=s.track_low_thresh,
            new_track_thresh=s.new_track_thresh,
            # boxmot scales track_buffer by frame_rate / 30 to get frames.
            track_buffer=max(1, round(s.track_buffer_s * 30)),
            frame_rate=max(1, round(self.pacer.rate(self.frame_rate))),
            match_thresh=s.match_thresh,
            proximity_thresh=s.proximity_thresh,
            second_match_thresh=s.second_match_thresh,
            appearance_thresh=s.appearance_thresh,
            use_cmc=s.cmc_method != "none",
            cmc_method=s.cmc_method if s.cmc_method != "none" else "sof",
            use_embeddings=s.reid,
        )

    @staticmethod
    def paced(settings: Tracking) -> AssociationPacer:
        """A fresh pacer of the frames a tracker with `settings` associates."""
        return AssociationPacer(settings.max_association_fps)

    def detection_pacer(self) -> AssociationPacer:
        return self.paced(self.settings)

    def reset(self) -> None:
        self._tracker = self._new_tracker()
        self.pacer.reset()
        self._carried.reset()
        self.appearance.reset()
        self.schedule.reset()
        self._last_embedding.clear()
        self._prev_boxes = np.zeros((0, 4), dtype=np.float32)
        self._prev_ids = np.zeros(0, dtype=np.int64)

    def _embeddings_for(
        self, detections: Detections, image: NDArray[np.uint8]
    ) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
        """(N, D) embeddings for all boxes (fresh or borrowed) and the mask of fresh ones."""
        assert self.embedder is not None
        n = len(detections)
        dim = self.embedder.dim
        precomputed = detections.embeddings
        if precomputed is not None and precomputed.shape[1] != dim:
            raise ValueError(
                f"detections carry {precomputed.shape[1]}-D embeddings but {self.embedder.model_id} gives {dim}-D ones"
            )
        embs = np.zeros((n, dim), dtype=np.float32)
        # BoT-SORT uses appearance only for its first (high-confidence) association.
        high = detections.confidence >= self.settings.track_high_thresh
        needs_fresh, borrow = self.schedule.plan(detections.xyxy, self._prev_boxes, self._prev_ids)
        for i in np.flatnonzero(high & ~needs_fresh):
            last = self._last_embedding.get(int(borrow[i]))
            if last is None:
                needs_fresh[i] = True
            else:
                embs[i] = last
        fresh = high & needs_fresh
        idx = np.flatnonzero(fresh)
        if len(idx):
            if precomputed is not None:
                embs[idx] = precomputed[idx]
            else:
                embs[idx] = self.embedder.embed(image, detections.xyxy[idx])
            self.embeddings_computed += len(idx)
        return embs, fresh

    def update(self, detections: Detections, image: NDArray[np.uint8], time_ns: int) -> Detections:
        # A detected frame the tracker's own pace skips (a caller that detects every frame) is carried
        # too. Where detection was paced ahead, every detected frame is due here: this pacer's last
        # frame is that one's last, or none after a reset.
        if not self.pacer.due(time_ns):
            return self.carry(time_ns)
        persons = detections
        embs: NDArray[np.float32] | None = None
        fresh = np.zeros(len(persons), dtype=bool)
        if self.embedder is not None and len(persons):
            embs, fresh = self._embeddings_for(persons, image)
            if self.appearance_gate is not None:
                self.appearance_gate.observe(persons.xyxy[fresh], persons.confidence[fresh], embs[fresh])
        if self.appearance_gate is not None:
            self.appearance_gate.tick(time_ns)
            self._tracker.appearance_thresh = self.appearance_gate.threshold
        boxmot_dets = BoxmotDetections(
            geometry=Boxes(torch.from_numpy(np.ascontiguousarray(persons.xyxy, dtype=np.float32))),
            scores=torch.from_numpy(np.clip(persons.confidence, 0, 1).astype(np.float32)),
            class_ids=torch.from_numpy(persons.class_id.astype(np.int64)),
            sample_id=str(time_ns),
            embeddings=None if embs is None else torch.from_numpy(embs),
        )
        tracks = self._tracker.update(boxmot_dets, image)
        ids = tracks.track_ids.numpy().astype(np.int64)
        det_idx = tracks.detection_indices.numpy().astype(np.int64)
        xyxy = tracks.geometry.values.numpy().astype(np.float32)
        out_embs = None
        if embs is not None:
            out_embs = np.where(fresh[det_idx, None], embs[det_idx], 0).astype(np.float32)
            vis = visibility(xyxy)
            heights = xyxy[:, 3] - xyxy[:, 1]
            conf = persons.confidence[det_idx]
            fresh_ids = ids[fresh[det_idx]]
            for k in np.flatnonzero(fresh[det_idx]):
                tid = int(ids[k])
                self._last_embedding[tid] = out_embs[k]
                q = self.appearance.quality(float(conf[k]), float(vis[k]), float(heights[k]))
                self.appearance.add(tid, out_embs[k], q)
            self.schedule.mark_fresh(fresh_ids)
        self._prev_boxes, self._prev_ids = xyxy, ids
        out = Detections(
            xyxy=xyxy,
            confidence=tracks.scores.numpy().astype(np.float32),
            class_id=tracks.class_ids.numpy().astype(np.int32),
            tracker_id=ids,
            embeddings=out_embs,
        )
        self._carried.hold(out, self._velocity_per_s(ids, time_ns), time_ns)
        return out

    def carry(self, time_ns: int) -> Detections:
        return self._carried.at(time_ns)

    def _velocity_per_s(self, ids: NDArray[np.int64], time_ns: int) -> NDArray[np.float32]:
        """(N, 4) corner velocities of the output tracks from boxmot's Kalman state (per association step)."""
        previous = self._carried.time_ns
        step_ns = None if previous is None else time_ns - previous
        if step_ns is None or step_ns <= 0:
            return np.zeros((len(ids), 4), dtype=np.float32)
        # boxmot's Kalman state: centre x, y, width, height, then their velocities per update.
        state = {t.id: t.mean[4:8] for t in self._tracker.active_tracks if t.mean is not None}
        per_step = np.array([state.get(int(i), np.zeros(4)) for i in ids], dtype=np.float64).reshape(-1, 4)
        return corner_velocity(per_step) / np.float32(step_ns / 1e9)

    def forget(self, track_ids: set[int]) -> None:
        """Release per-track memory for tracks the caller has closed."""
        for tid in track_ids:
            self._last_embedding.pop(tid, None)
            self.appearance.drop(tid)
        self.schedule.forget(track_ids)
