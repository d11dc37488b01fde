"""CameraPublisher: when tracks close (the coverage keeps them open), what the end of a stream sends, and that
a crossing counted when its track vanished goes out before the track closes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge.analytics import (
    CameraAnalytics,
    CameraFacts,
    Direction,
    LineCrossingEvent,
    StreamEndFacts,
    ZoneEvent,
    ZoneEventKind,
)
from edge.analytics.camera import track_end_s
from edge.detections import Detections
from edge.publish import InProcessSink
from edge.publish.camera_publisher import CameraPublisher
from edge.publish.envelopes import EnvelopeFactory
from edge.publish.sequence import SequenceCounter
from edge.publish.update_rate import UpdateThrottle
from shared.config import parse_site_config
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


def _nobody_reported(time_ns: int, outside: frozenset[int]) -> CameraFacts:
    empty = Detections.from_array(np.zeros((0, 6), dtype=np.float32))
    return CameraFacts("cam-a", time_ns, empty, np.zeros((0, 2)), np.zeros((0, 2)), [], [], outside)


@pytest.mark.parametrize(
    ("outside_until_s", "closed_at_s"),
    [
        pytest.param(0, 6, id="gone-closes-after-3.5-s"),
        pytest.param(20, 24, id="outside-the-coverage-stays-open"),
    ],
)
def test_a_track_followed_outside_the_coverage_stays_open(
    tmp_path: Path, outside_until_s: int, closed_at_s: int
) -> None:
    sent: list[pb.Envelope] = []
    publisher = _publisher(tmp_path, sent)
    publisher.publish(_one_person(2 * SECOND))
    closed_at = None
    for second in range(3, 30):
        outside = frozenset({7, 8}) if second <= outside_until_s else frozenset()
        if publisher.publish(_nobody_reported(second * SECOND, outside)) and closed_at is None:
            closed_at = second
    assert closed_at == closed_at_s
    # Track 8 was never reported: nothing is sent for it.
    kinds = [e.WhichOneof("payload") for e in sent]
    assert kinds.count("track_closed") == 1 and kinds.count("track_update") == 1


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


def _walker(x: float) -> Detections:
    return Detections(
        xyxy=np.array([[x - 15, 50, x + 15, 150]], dtype=np.float32),
        confidence=np.array([0.9], dtype=np.float32),
        class_id=np.zeros(1, dtype=np.int32),
        tracker_id=np.array([7], dtype=np.int64),
    )


@pytest.mark.parametrize("track_buffer_s", [1.0, 3.0, 6.0])
def test_a_crossing_left_unsettled_reaches_kafka_before_its_track_closes(tmp_path: Path, track_buffer_s: float) -> None:
    """A person steps through a door line and leaves the view before the line settles (0.25 s)."""
    site = parse_site_config(
        {
            "site": {"id": "mall"},
            "floors": [{"id": "f"}],
            "cameras": [{"id": "cam-a", "source": "0", "floor": "f"}],
            "lines": [{"id": "door", "camera": "cam-a", "points": [[200, 0], [200, 300]]}],
            "tracking": {"track_buffer_s": track_buffer_s},
        }
    )
    analytics = CameraAnalytics.from_config(site, "cam-a")
    sent: list[pb.Envelope] = []
    factory = EnvelopeFactory("mall", "cam-a", "edge-1", SequenceCounter(tmp_path, "cam-a"))
    publisher = CameraPublisher(
        factory, InProcessSink(sent.append), UpdateThrottle(0.5), track_end_s(site, "cam-a"), track_id_base=BASE
    )
    frame_ns = SECOND // 10
    for i, x in enumerate([130.0, 150.0, 170.0, 190.0, 215.0], start=1):
        publisher.publish(analytics.update(_walker(x), i * frame_ns))
    empty = Detections.from_array(np.zeros((0, 6), dtype=np.float32))
    for i in range(6, 200):
        publisher.publish(analytics.update(empty, i * frame_ns))
    kinds = [e.WhichOneof("payload") for e in sent if e.WhichOneof("payload") != "track_update"]
    assert kinds == ["line_crossing", "track_closed"]
