"""From one camera's per-frame facts to envelopes on a sink.

What goes out, and how often:
  * line crossings and zone transitions: every one, at once;
  * track updates: per track at the site's `update_hz`, carrying the track's
    aggregated embedding only when it changed meaningfully since last sent;
  * track closed: once, when a track has been unseen for `close_after_s` (or at the
    end of the stream), with its summary and final embedding — what stitching uses.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from edge.analytics.camera import CameraFacts, StreamEndFacts
from edge.analytics.events import LineCrossingEvent, PointXY, ZoneEvent
from edge.publish.envelopes import EnvelopeFactory, StreamFigures
from edge.publish.sink import EventSink
from edge.publish.summary import Appearance, TrackSummary
from edge.publish.update_rate import UpdateThrottle
from edge.sources.reconnect import SourceState
from edge.tracking.appearance import TrackAppearance
from shared.schema import pb


def _point(values: NDArray[np.float64]) -> PointXY | None:
    x, y = float(values[0]), float(values[1])
    return (x, y) if np.isfinite(x) and np.isfinite(y) else None


@dataclass
class _OpenTrack:
    first_seen_ns: int
    last_seen_ns: int
    observations: int
    confidence_sum: float
    first_image_foot: PointXY
    last_image_foot: PointXY
    first_floor_point: PointXY | None
    last_floor_point: PointXY | None
    # Last frame the tracker had it, reported or not (outside the camera's coverage).
    last_alive_ns: int


class CameraPublisher:
    """Publishes one camera's facts; returns which tracks it closed so the tracker can forget them.

    Track ids on the wire are `track_id_base + tracker id`: the base is chosen by the agent
    per run (and per reconnect), so ids never repeat on a camera across restarts.
    """

    def __init__(
        self,
        factory: EnvelopeFactory,
        sink: EventSink,
        throttle: UpdateThrottle,
        close_after_s: float,
        appearance: TrackAppearance | None = None,
        track_id_base: int = 0,
    ) -> None:
        if close_after_s <= 0:
            raise ValueError(f"close_after_s must be > 0, got {close_after_s}")
        if track_id_base < 0:
            raise ValueError(f"track_id_base must be >= 0, got {track_id_base}")
        self.factory = factory
        self.sink = sink
        self.throttle = throttle
        self.close_after_ns = round(close_after_s * 1e9)
        self.appearance = appearance
        self.track_id_base = track_id_base
        self.sent: Counter[str] = Counter()
        self._open: dict[int, _OpenTrack] = {}

    def _wire_id(self, track_id: int) -> int:
        return self.track_id_base + track_id

    def _appearance(self, track_id: int) -> Appearance | None:
        if self.appearance is None:
            return None
        found = self.appearance.embedding(track_id)
        return None if found is None else Appearance(*found)

    def _send(self, kind: str, envelope: pb.Envelope) -> None:
        self.sink.send(envelope)
        self.sent[kind] += 1

    def publish(self, facts: CameraFacts) -> set[int]:
        """Send what this frame produced; returns the tracker ids closed on this frame."""
        det = facts.detections
        foot = facts.foot_points
        for i, tid in enumerate(det.tracker_id.tolist()):
            if tid < 0:
                continue
            image_foot = (float(foot[i, 0]), float(foot[i, 1]))
            floor = _point(facts.floor_points[i])
            self._observe(tid, facts.time_ns, float(det.confidence[i]), image_foot, floor)
            if self.throttle.due(tid, facts.time_ns):
                embedding = None
                if self.appearance is not None and self.appearance.changed(tid):
                    embedding = self._appearance(tid)
                self._send(
                    "track_update",
                    self.factory.track_update(
                        self._wire_id(tid),
                        det.xyxy[i],
                        min(1.0, float(det.confidence[i])),
                        image_foot,
                        floor,
                        embedding,
                        facts.time_ns,
                    ),
                )
        for crossing in facts.line_events:
            self._send("line_crossing", self.factory.line_crossing(self._rebase_crossing(crossing)))
        for event in facts.zone_events:
            self._send("zone_transition", self.factory.zone_transition(self._rebase_zone(event)))
        # A track the tracker still follows outside the coverage stays open: when its person
        # comes back in, it goes on under the same id rather than reopening a closed one.
        for tid in facts.outside_track_ids:
            if (track := self._open.get(tid)) is not None:
                track.last_alive_ns = facts.time_ns
        stale = [tid for tid, t in self._open.items() if facts.time_ns - t.last_alive_ns > self.close_after_ns]
        return self._close(stale)

    def status(
        self,
        state: SourceState,
        figures: StreamFigures,
        *,
        time_ns: int,
        model_versions: Mapping[str, str],
        message: str,
    ) -> None:
        self._send(
            "camera_status",
            self.factory.camera_status(state, figures, time_ns=time_ns, model_versions=model_versions, message=message),
        )

    def close_all(self, end: StreamEndFacts | None) -> set[int]:
        """End of stream or reconnect: crossings still settling, final zone exits, then every open track closes."""
        for crossing in end.line_events if end else []:
            self._send("line_crossing", self.factory.line_crossing(self._rebase_crossing(crossing)))
        for event in end.zone_events if end else []:
            self._send("zone_transition", self.factory.zone_transition(self._rebase_zone(event)))
        return self._close(list(self._open))

    def _observe(self, tid: int, time_ns: int, confidence: float, image_foot: PointXY, floor: PointXY | None) -> None:
        track = self._open.get(tid)
        if track is None:
            self._open[tid] = _OpenTrack(time_ns, time_ns, 1, confidence, image_foot, image_foot, floor, floor, time_ns)
            return
        track.last_seen_ns = track.last_alive_ns = time_ns
        track.observations += 1
        track.confidence_sum += confidence
        track.last_image_foot = image_foot
        if floor is not None:
            track.first_floor_point = track.first_floor_point or floor
            track.last_floor_point = floor

    def _close(self, track_ids: list[int]) -> set[int]:
        for tid in track_ids:
            t = self._open.pop(tid)
            summary = TrackSummary(
                track_id=self._wire_id(tid),
                first_seen_ns=t.first_seen_ns,
                last_seen_ns=t.last_seen_ns,
                observations=t.observations,
                mean_confidence=min(1.0, t.confidence_sum / t.observations),
                first_image_foot=t.first_image_foot,
                last_image_foot=t.last_image_foot,
                first_floor_point=t.first_floor_point,
                last_floor_point=t.last_floor_point,
                embedding=self._appearance(tid),
            )
            self._send("track_closed", self.factory.track_closed(summary))
        self.throttle.forget(track_ids)
        return set(track_ids)

    def _rebase_crossing(self, event: LineCrossingEvent) -> LineCrossingEvent:
        return replace(event, track_id=self._wire_id(event.track_id))

    def _rebase_zone(self, event: ZoneEvent) -> ZoneEvent:
        return replace(event, track_id=self._wire_id(event.track_id))
