"""CameraPublisher at the end of a stream: crossings still settling, zone exits, then every track closes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge.analytics import CameraFacts, Direction, LineCrossingEvent, StreamEndFacts, ZoneEvent, ZoneEventKind
from edge.detections import Detections
from edge.publish import InProcessSink
from edge.publish.camera_publisher import CameraPublisher
from edge.publish.envelopes import EnvelopeFactory
from edge.publish.sequence import SequenceCounter
from edge.publish.update_rate import UpdateThrottle
from shared.schema import pb

BASE = 1_000_000
SECOND = 1_000_000_000


def _publisher(tmp_path: Path, sent: list[pb.Envelope]) -> CameraPublisher:
    factory = EnvelopeFactory("mall", "cam-a", "edge-1", SequenceCounter(tmp_path, "cam-a"))
    return CameraPublisher(factory, InProcessSink(sent.append), UpdateThrottle(0.5), 3.5, track_id_base=BASE)


def _one_person(time_ns: int) -> CameraFacts:
    detections = Detections(
        xyxy=np.array([[100, 50, 130, 150]], dtype=np.float32),
        confidence=np.array([0.9], dtype=np.float32),
        class_id=np.zeros(1, dtype=np.int32),
        tracker_id=np.array([7], dtype=np.int64),
    )
    return CameraFacts("cam-a", time_ns, detections, np.array([[115.0, 150.0]]), np.full((1, 2), np.nan), [], [])


CROSSING = LineCrossingEvent("door", Direction.IN, 7, 2 * SECOND, (115.0, 150.0))
EXIT = ZoneEvent("shop", ZoneEventKind.EXIT, 7, 3 * SECOND, entered_time_ns=SECOND)


@pytest.mark.parametrize(
    ("end", "expected"),
    [
        pytest.param(
            StreamEndFacts([CROSSING], [EXIT]), ["line_crossing", "zone_transition", "track_closed"], id="both"
        ),
        pytest.param(StreamEndFacts([CROSSING], []), ["line_crossing", "track_closed"], id="crossing-only"),
        pytest.param(StreamEndFacts([], []), ["track_closed"], id="nothing-pending"),
        pytest.param(None, ["track_closed"], id="no-frame-seen"),
    ],
)
def test_stream_end_sends_pending_facts_before_closing_tracks(
    tmp_path: Path, end: StreamEndFacts | None, expected: list[str]
) -> None:
    sent: list[pb.Envelope] = []
    publisher = _publisher(tmp_path, sent)
    publisher.publish(_one_person(2 * SECOND))
    sent.clear()
    assert publisher.close_all(end) == {7}
    assert [e.WhichOneof("payload") for e in sent] == expected
    for envelope in sent:
        kind = envelope.WhichOneof("payload")
        assert getattr(envelope, kind).track_id == BASE + 7, kind
