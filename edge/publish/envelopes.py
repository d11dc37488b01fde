"""Turn one camera's analytics into wire envelopes, each with the camera's next seq."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from google.protobuf.message import Message
from numpy.typing import NDArray

from edge.analytics.events import Direction, LineCrossingEvent, PointXY, ZoneEvent, ZoneEventKind
from edge.publish.sequence import SequenceCounter
from edge.publish.summary import Appearance, TrackSummary
from edge.sources.reconnect import SourceState
from shared.schema import SCHEMA_VERSION, pack_embedding, pb

_DIRECTIONS = {Direction.IN: pb.DIRECTION_IN, Direction.OUT: pb.DIRECTION_OUT}
_ZONE_EVENTS = {ZoneEventKind.ENTER: pb.ZONE_EVENT_ENTER, ZoneEventKind.EXIT: pb.ZONE_EVENT_EXIT}
_CAMERA_STATES = {
    SourceState.ONLINE: pb.CAMERA_STATE_ONLINE,
    SourceState.RECONNECTING: pb.CAMERA_STATE_RECONNECTING,
    SourceState.OFFLINE: pb.CAMERA_STATE_OFFLINE,
    SourceState.ENDED: pb.CAMERA_STATE_ENDED,
}


@dataclass(frozen=True)
class StreamFigures:
    """How a camera's stream is being processed, as a camera-status event reports it."""

    # Frames per second the agent processed.
    fps: float
    frames: int
    dropped_frames: int
    lag_ms: float
    thinned_frames: int = 0
    # The camera's own rate; 0 while unknown.
    source_fps: float = 0.0
    overloaded: bool = False

    def __post_init__(self) -> None:
        for name in ("fps", "source_fps"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be finite and >= 0, got {value}")
        for name in ("frames", "dropped_frames", "thinned_frames"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not math.isfinite(self.lag_ms):
            raise ValueError(f"lag_ms must be finite, got {self.lag_ms}")


class EnvelopeFactory:
    """Builds the envelopes of one camera.

    Every method validates its input before drawing a seq, so a rejected event leaves
    no gap. `clock` stamps publish_time_ns (wall clock, like event times).
    """

    def __init__(
        self,
        site_id: str,
        camera_id: str,
        edge_id: str,
        sequence: SequenceCounter,
        floor_id: str | None = None,
        model_id: str | None = None,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        for name, value in (("site_id", site_id), ("camera_id", camera_id), ("edge_id", edge_id)):
            if not value:
                raise ValueError(f"{name} must not be empty")
        if sequence.camera_id != camera_id:
            raise ValueError(f"the sequence counter belongs to camera {sequence.camera_id!r}, not {camera_id!r}")
        self.site_id = site_id
        self.camera_id = camera_id
        self.edge_id = edge_id
        self.sequence = sequence
        self.floor_id = floor_id
        self.model_id = model_id
        self.clock = clock

    def track_update(
        self,
        track_id: int,
        xyxy: Sequence[float] | NDArray[np.floating],
        confidence: float,
        image_foot: PointXY,
        floor_point: PointXY | None,
        embedding: Appearance | None,
        time_ns: int,
    ) -> pb.Envelope:
        if len(xyxy) != 4 or not all(math.isfinite(v) for v in xyxy):
            raise ValueError(f"xyxy must be 4 finite pixel coordinates, got {list(xyxy)}")
        x1, y1, x2, y2 = (float(v) for v in xyxy)
        update = pb.TrackUpdate(
            track_id=_track_id(track_id),
            bbox=pb.BBox(x1=x1, y1=y1, x2=x2, y2=y2),
            confidence=_unit(confidence, "confidence"),
            image_foot=_image_point(image_foot, "image_foot"),
        )
        self._set_floor(update, floor_point=floor_point)
        if embedding is not None:
            update.embedding.CopyFrom(self._embedding(embedding))
        return self._wrap(time_ns, "track_update", update)

    def track_closed(self, summary: TrackSummary) -> pb.Envelope:
        closed = pb.TrackClosed(
            track_id=summary.track_id,
            first_seen_ns=summary.first_seen_ns,
            last_seen_ns=summary.last_seen_ns,
            observations=summary.observations,
            mean_confidence=summary.mean_confidence,
            first_image_foot=_image_point(summary.first_image_foot, "first_image_foot"),
            last_image_foot=_image_point(summary.last_image_foot, "last_image_foot"),
        )
        self._set_floor(closed, first_floor_point=summary.first_floor_point, last_floor_point=summary.last_floor_point)
        if summary.embedding is not None:
            closed.embedding.CopyFrom(self._embedding(summary.embedding))
        # The track's end is what the event is about; stitching matches it to the next camera's start.
        return self._wrap(summary.last_seen_ns, "track_closed", closed)

    def line_crossing(self, event: LineCrossingEvent) -> pb.Envelope:
        crossing = pb.LineCrossing(
            line_id=event.line_id, direction=_DIRECTIONS[event.direction], track_id=_track_id(event.track_id)
        )
        floor = _floor(event.floor_point)
        if floor is not None:
            crossing.floor_point.CopyFrom(floor)
        return self._wrap(event.time_ns, "line_crossing", crossing)

    def zone_transition(self, event: ZoneEvent) -> pb.Envelope:
        transition = pb.ZoneTransition(
            zone_id=event.zone_id,
            event=_ZONE_EVENTS[event.kind],
            track_id=_track_id(event.track_id),
            entered_time_ns=event.entered_time_ns or 0,
        )
        floor = _floor(event.floor_point)
        if floor is not None:
            transition.floor_point.CopyFrom(floor)
        return self._wrap(event.time_ns, "zone_transition", transition)

    def camera_status(
        self,
        state: SourceState | str,
        figures: StreamFigures,
        *,
        time_ns: int,
        model_versions: Mapping[str, str] | None = None,
        message: str = "",
    ) -> pb.Envelope:
        try:
            source_state = SourceState(state)
        except ValueError:
            raise ValueError(f"state {state!r} is not one of {[s.value for s in SourceState]}") from None
        status = pb.CameraStatus(
            state=_CAMERA_STATES[source_state],
            fps=figures.fps,
            frames=figures.frames,
            dropped_frames=figures.dropped_frames,
            lag_ms=figures.lag_ms,
            model_versions=dict(model_versions or {}),
            message=message,
            thinned_frames=figures.thinned_frames,
            source_fps=figures.source_fps,
            overloaded=figures.overloaded,
        )
        return self._wrap(time_ns, "camera_status", status)

    def _embedding(self, appearance: Appearance) -> pb.Embedding:
        if self.model_id is None:
            raise ValueError(
                "an embedding needs the factory's model_id (vectors of different models are never compared)"
            )
        if appearance.samples < 1:
            raise ValueError(f"embedding samples must be >= 1, got {appearance.samples}")
        quality = _unit(appearance.quality, "embedding quality")
        return pack_embedding(appearance.vector, self.model_id, quality, appearance.samples)

    def _set_floor(self, payload: pb.TrackUpdate | pb.TrackClosed, **points: PointXY | None) -> None:
        projected = False
        for field, point in points.items():
            floor = _floor(point)
            if floor is not None:
                getattr(payload, field).CopyFrom(floor)
                projected = True
        # A floor id only means something next to floor coordinates.
        if projected and self.floor_id is not None:
            payload.floor_id = self.floor_id

    def _wrap(self, time_ns: int, field: str, payload: Message) -> pb.Envelope:
        if time_ns <= 0:
            raise ValueError(f"event time must be a positive epoch time in ns, got {time_ns}")
        envelope = pb.Envelope(
            schema_version=SCHEMA_VERSION,
            site_id=self.site_id,
            camera_id=self.camera_id,
            edge_id=self.edge_id,
            seq=self.sequence.next(),
            event_time_ns=time_ns,
            publish_time_ns=self.clock(),
        )
        getattr(envelope, field).CopyFrom(payload)
        return envelope


def _track_id(track_id: int) -> int:
    # Trackers report -1 for unconfirmed boxes; those must never reach the wire.
    if track_id < 0:
        raise ValueError(f"track_id must be >= 0 (a confirmed track), got {track_id}")
    return int(track_id)


def _unit(value: float, name: str) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be within [0, 1], got {value}")
    return float(value)


def _image_point(point: PointXY, name: str) -> pb.Point2:
    x, y = (float(v) for v in point)
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError(f"{name} must be finite pixel coordinates, got {point}")
    return pb.Point2(x=x, y=y)


def _floor(point: PointXY | None) -> pb.Point2 | None:
    """Floor metres, or None where the camera is uncalibrated or the point did not project (NaN)."""
    if point is None:
        return None
    x, y = (float(v) for v in point)
    if not (math.isfinite(x) and math.isfinite(y)):
        return None
    return pb.Point2(x=x, y=y)
