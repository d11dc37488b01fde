"""LineCounter on synthetic foot-point tracks: direction, finite segment, anti-jitter, ID switches."""

from __future__ import annotations

import numpy as np
import pytest

from edge.analytics import Direction, LineCounter, LineCrossingEvent
from edge.detections import Detections
from shared.config import Line, Space

# Vertical segment from P1 (bottom) to P2 (top): (P2−P1)×(X−P1) > 0 right of it, so
# walking right is `in`.
P1, P2 = (100.0, 200.0), (100.0, 0.0)
FRAME_NS = 100_000_000  # 10 fps

Frame = dict[int, tuple[float, float]]  # track id → foot point


def detections(frame: Frame, height: float = 40.0) -> Detections:
    ids = list(frame)
    xyxy = np.array([[x - 10, y - height, x + 10, y] for x, y in frame.values()], dtype=np.float32).reshape(-1, 4)
    return Detections(
        xyxy=xyxy,
        confidence=np.ones(len(ids), dtype=np.float32),
        class_id=np.zeros(len(ids), dtype=np.int32),
        tracker_id=np.array(ids, dtype=np.int64),
    )


def walk(track_id: int, xs: list[float], y: float = 100.0) -> list[Frame]:
    return [{track_id: (x, y)} for x in xs]


def run(counter: LineCounter, frames: list[Frame]) -> list[LineCrossingEvent]:
    events: list[LineCrossingEvent] = []
    for i, frame in enumerate(frames):
        events += counter.trigger(detections(frame), (i + 1) * FRAME_NS)
    return events


def line(settle_s: float = 0.2, dead_band: float = 0.0) -> Line:
    return Line(id="door", camera="cam", points=(P1, P2), settle_s=settle_s, dead_band=dead_band)


RIGHT = [60.0, 70.0, 80.0, 90.0, 110.0, 120.0, 130.0, 140.0]
LEFT = RIGHT[::-1]
JITTER = [99.0, 101.0] * 6


@pytest.mark.parametrize(
    ("frames", "settle_s", "dead_band", "expected"),
    [
        pytest.param(walk(1, RIGHT), 0.2, 0.0, (1, 0), id="clean-in"),
        pytest.param(walk(1, LEFT), 0.2, 0.0, (0, 1), id="clean-out"),
        pytest.param(walk(1, RIGHT), 0.0, 0.0, (1, 0), id="clean-in-settle-0s"),
        pytest.param(walk(1, RIGHT + LEFT), 0.2, 0.0, (1, 1), id="in-then-back-out"),
        pytest.param(walk(1, [60, 70, 80, 90, *JITTER, 90, 80, 70]), 0.2, 0.0, (0, 0), id="jitter-then-back"),
        pytest.param(walk(1, [60, 70, 80, 90, *JITTER, 110, 120, 130]), 0.2, 0.0, (1, 0), id="jitter-then-on"),
        pytest.param(walk(1, [60, 70, 80, *[97.0, 103.0] * 6, 80]), 0.0, 5.0, (0, 0), id="jitter-in-dead-band"),
        pytest.param(walk(1, [60, 70, 80, 90, 110, 120, 90, 80, 70]), 0.2, 0.0, (0, 0), id="excursion-2-frames"),
        pytest.param(walk(1, [60, 70, 80, 90, 110, 120, 130, 90, 80, 70]), 0.2, 0.0, (1, 1), id="excursion-3-frames"),
        pytest.param(walk(1, RIGHT, y=250.0), 0.2, 0.0, (0, 0), id="beside-segment"),
        pytest.param(walk(1, RIGHT, y=-30.0), 0.2, 0.0, (0, 0), id="beyond-far-end"),
        pytest.param(walk(1, RIGHT, y=203.0), 0.2, 5.0, (1, 0), id="end-within-dead-band"),
        pytest.param(walk(1, RIGHT, y=206.0), 0.2, 5.0, (0, 0), id="end-beyond-dead-band"),
        pytest.param(
            [*walk(1, [60, 70, 80]), {1: (80, 250)}, {1: (120, 250)}, *walk(1, [120, 130, 140])],
            0.0,
            0.0,
            (0, 0),
            id="around-the-end",
        ),
        pytest.param(walk(1, [110, 120, 130]), 0.0, 0.0, (0, 0), id="born-on-one-side"),
        pytest.param(walk(1, RIGHT) + walk(2, LEFT), 0.2, 0.0, (1, 1), id="two-tracks"),
    ],
)
def test_counts(frames: list[Frame], settle_s: float, dead_band: float, expected: tuple[int, int]) -> None:
    counter = LineCounter(line(settle_s, dead_band))
    events = run(counter, frames)
    assert (counter.counts[Direction.IN], counter.counts[Direction.OUT]) == expected
    assert [e.direction for e in events].count(Direction.IN) == expected[0]


def excursion(fps: float, beyond_s: float) -> list[tuple[int, Frame]]:
    """(time_ns, frame) at `fps`: left of the door for 1 s, right of it for `beyond_s`, back left for 1 s."""
    frames = []
    for i in range(round((2 + beyond_s) * fps)):
        t = i / fps
        x = 120.0 if 1.0 <= t < 1.0 + beyond_s else 80.0
        frames.append((round(t * 1e9) + 1, {1: (x, 100.0)}))
    return frames


@pytest.mark.parametrize("fps", [5.0, 7.0, 10.0, 25.0, 30.0])
@pytest.mark.parametrize(
    ("beyond_s", "expected"),
    [
        pytest.param(0.15, (0, 0), id="0.15s-beyond-is-jitter"),
        pytest.param(0.45, (1, 1), id="0.45s-beyond-is-a-crossing-and-back"),
    ],
)
def test_settle_means_the_same_at_any_frame_rate(fps: float, beyond_s: float, expected: tuple[int, int]) -> None:
    """settle_s is time: a step over the line and back counts the same at 5 and at 30 fps."""
    counter = LineCounter(line(settle_s=0.25))
    for time_ns, frame in excursion(fps, beyond_s):
        counter.trigger(detections(frame), time_ns)
    assert (counter.counts[Direction.IN], counter.counts[Direction.OUT]) == expected


# A person who walks through a door at the frame's edge is gone a frame or two after
# crossing: the track ends before it can settle (settle 0.2 s: 3 frames at 10 fps; band 5).
@pytest.mark.parametrize(
    ("xs", "ending", "expected"),
    [
        pytest.param([60, 70, 80, 90, 110], "lost", (1, 0), id="lost-1-frame-past"),
        pytest.param([60, 70, 80, 90, 110, 120], "lost", (1, 0), id="lost-2-frames-past"),
        pytest.param([60, 70, 80, 90, 110, 120], "stream-end", (1, 0), id="stream-ends-2-frames-past"),
        pytest.param([140, 130, 120, 110, 90], "stream-end", (0, 1), id="stream-ends-out"),
        pytest.param([60, 70, 80, 90, 103], "lost", (0, 0), id="lost-inside-band"),
        pytest.param([60, 70, 80, 90, 103], "stream-end", (0, 0), id="stream-ends-inside-band"),
        pytest.param([60, 70, 80, 90, 110, 90], "lost", (0, 0), id="lost-after-turning-back"),
        pytest.param([90, 110], "lost", (0, 0), id="never-settled-before"),
        pytest.param([60, 70, 80, 90, 110, 120, 130, 140], "lost", (1, 0), id="settled-counts-once"),
    ],
)
def test_track_ending_before_it_settles(xs: list[float], ending: str, expected: tuple[int, int]) -> None:
    counter = LineCounter(line(settle_s=0.2, dead_band=5.0), handover_s=1.0, forget_s=1.0)
    # "lost": unseen for longer than forget_s (1 s at 10 fps), the track is dropped on a later frame.
    events = run(counter, walk(1, [float(x) for x in xs]) + ([{}] * 13 if ending == "lost" else []))
    if ending == "stream-end":
        events += counter.close_all()
    assert (counter.counts[Direction.IN], counter.counts[Direction.OUT]) == expected
    assert len(events) == sum(expected)
    assert counter.close_all() == []


def test_crossing_counted_at_track_end_reports_its_first_frame_past_the_line() -> None:
    counter = LineCounter(line(settle_s=0.2, dead_band=5.0))
    run(counter, walk(1, [60.0, 70.0, 80.0, 90.0, 110.0, 120.0]))
    (event,) = counter.close_all()
    assert (event.track_id, event.direction, event.time_ns, event.image_point) == (
        1,
        Direction.IN,
        5 * FRAME_NS,
        (110.0, 100.0),
    )


def test_crossing_pending_at_a_handover_is_counted_once_by_the_new_id() -> None:
    """The old id vanishes just past the line and a new id takes over: one crossing, by the new id."""
    counter = LineCounter(line(settle_s=0.2), handover_s=1.0, forget_s=1.0)
    events = run(counter, walk(1, [60, 70, 80, 90, 110]) + walk(2, [115, 120, 125]) + [{}] * 13)
    events += counter.close_all()
    assert [(e.track_id, e.direction) for e in events] == [(2, Direction.IN)]


# A person turning back 6 px past the line: the band scales with their box height.
TURN_BACK = [60.0, 70.0, 80.0, 90.0, 106.0, 106.0, 106.0, 106.0, 90.0, 80.0, 70.0, 60.0]


@pytest.mark.parametrize(
    ("height", "dead_band_height", "dead_band", "space", "expected"),
    [
        pytest.param(40.0, 0.05, 0.0, Space.IMAGE, (1, 1), id="small-person-band-2px"),
        pytest.param(200.0, 0.05, 0.0, Space.IMAGE, (0, 0), id="tall-person-band-10px"),
        pytest.param(200.0, 0.0, 0.0, Space.IMAGE, (1, 1), id="relative-band-off"),
        pytest.param(40.0, 0.05, 8.0, Space.IMAGE, (0, 0), id="absolute-band-wider"),
        pytest.param(200.0, 0.05, 0.0, Space.FLOOR, (1, 1), id="floor-space-ignores-heights"),
    ],
)
def test_dead_band_scales_with_the_person(
    height: float, dead_band_height: float, dead_band: float, space: Space, expected: tuple[int, int]
) -> None:
    counter = LineCounter(
        Line(
            id="door",
            camera="cam",
            space=space,
            points=(P1, P2),
            settle_s=0.2,
            dead_band=dead_band,
            dead_band_height=dead_band_height,
        ),
        handover_distance=0.0,
    )
    for i, frame in enumerate(walk(1, TURN_BACK)):
        dets = detections(frame, height)
        counter.trigger(dets, (i + 1) * FRAME_NS, dets.foot_points())
    assert (counter.counts[Direction.IN], counter.counts[Direction.OUT]) == expected


def test_event_reports_first_frame_on_new_side() -> None:
    events = run(LineCounter(line(settle_s=0.2)), walk(7, RIGHT))
    assert events == [
        LineCrossingEvent(
            line_id="door",
            direction=Direction.IN,
            track_id=7,
            time_ns=5 * FRAME_NS,  # x=110, the first frame right of the line
            image_point=(110.0, 100.0),
            floor_point=None,
        )
    ]


def test_floor_points_are_attached_and_tested_points_override_foot_points() -> None:
    counter = LineCounter(line(settle_s=0.0))
    frames = walk(1, RIGHT)
    events = []
    for i, frame in enumerate(frames):
        dets = detections(frame)
        # Test shifted points: the crossing happens one frame later than with the foot points.
        shifted = dets.foot_points() - [15.0, 0.0]
        events += counter.trigger(dets, (i + 1) * FRAME_NS, shifted, floor_points=np.array([[float(i), 2.0]]))
    assert [(e.time_ns, e.image_point, e.floor_point) for e in events] == [(6 * FRAME_NS, (120.0, 100.0), (5.0, 2.0))]


@pytest.mark.parametrize(
    ("frames", "expected_ids"),
    [
        pytest.param(walk(1, [60, 70, 80, 90]) + walk(2, [110, 120, 130, 140]), [2], id="old-vanishes-before-line"),
        pytest.param(walk(1, [60, 70, 80, 90, 105]) + walk(2, [115, 125, 135]), [2], id="old-vanishes-after-line"),
        pytest.param(
            walk(1, [60, 70, 80, 90, 110, 120, 130]) + walk(2, [135, 140, 145, 150]), [1], id="old-completed-crossing"
        ),
        pytest.param(walk(1, [60, 70, 80, 90]) + [{}] * 3 + walk(2, [110, 120, 130, 140]), [2], id="short-gap-bridged"),
        # The default window (2 s) bridges a person hidden for 1.2 s while crossing, not 2.2 s.
        pytest.param(walk(1, [60, 70, 80, 90]) + [{}] * 12 + walk(2, [110, 120, 130, 140]), [2], id="gap-1.2s-bridged"),
        pytest.param(
            walk(1, [60, 70, 80, 90]) + [{}] * 22 + walk(2, [110, 120, 130, 140]), [], id="gap-over-handover-s"
        ),
        pytest.param(walk(1, [60, 70, 80, 90]) + walk(2, [190, 200, 210, 220]), [], id="new-id-too-far"),
        # Old id vanishes 65 px from the line, 50 px from the new one: the new id starts afresh
        # and has only two frames left of the line, too few to settle there (0.2 s).
        pytest.param(
            walk(1, [15, 25, 35]) + walk(2, [85, 95, 105, 115, 125, 135]), [], id="old-vanished-far-from-line"
        ),
    ],
)
def test_id_switch_at_line(frames: list[Frame], expected_ids: list[int]) -> None:
    events = run(LineCounter(line(settle_s=0.2)), frames)
    assert [(e.track_id, e.direction) for e in events] == [(i, Direction.IN) for i in expected_ids]


@pytest.mark.parametrize(
    ("handover_s", "hidden_frames", "expected_ids"),
    [
        pytest.param(1.0, 6, [2], id="1s-bridges-0.6s"),
        pytest.param(1.0, 12, [], id="1s-misses-1.2s"),
        pytest.param(2.0, 12, [2], id="2s-bridges-1.2s"),
        pytest.param(2.0, 22, [], id="2s-misses-2.2s"),
        pytest.param(0.0, 1, [], id="off"),
    ],
)
def test_handover_window_comes_from_the_line(handover_s: float, hidden_frames: int, expected_ids: list[int]) -> None:
    """A person hidden while crossing and found again under a new id counts once, within the line's `handover_s`."""
    door = line(settle_s=0.2).model_copy(update={"handover_s": handover_s})
    frames = walk(1, [60, 70, 80, 90]) + [{}] * hidden_frames + walk(2, [110, 120, 130, 140])
    events = run(LineCounter(door), frames)
    assert [(e.track_id, e.direction) for e in events] == [(i, Direction.IN) for i in expected_ids]


@pytest.mark.parametrize(("handover_s", "forget_s"), [(0.0, 5.0), (2.0, 5.0), (5.0, 5.0)])
def test_default_forget_covers_the_handover_window(handover_s: float, forget_s: float) -> None:
    counter = LineCounter(line().model_copy(update={"handover_s": handover_s}))
    assert counter._forget_ns == round(forget_s * 1e9)


def test_id_switch_is_inherited_once() -> None:
    """Two new ids next to one vanished track: only the nearest inherits, nothing is counted twice."""
    counter = LineCounter(line(settle_s=0.0))
    frames: list[Frame] = [{1: (x, 100.0)} for x in (60, 70, 80, 90)]
    frames += [{2: (105.0 + k, 100.0), 3: (108.0 + k, 120.0)} for k in (0, 10, 20)]
    events = run(counter, frames)
    assert [(e.track_id, e.direction) for e in events] == [(2, Direction.IN)]


def test_revived_old_id_starts_afresh() -> None:
    counter = LineCounter(line(settle_s=0.0))
    frames = walk(1, [60, 70, 80, 90]) + walk(2, [110, 120]) + [{1: (130.0, 100.0), 2: (130.0, 140.0)}]
    frames += [{1: (140.0, 100.0), 2: (140.0, 140.0)}]
    events = run(counter, frames)
    assert [(e.track_id, e.direction) for e in events] == [(2, Direction.IN)]


def test_untracked_and_nan_points_are_ignored() -> None:
    counter = LineCounter(line(settle_s=0.0))
    for i, x in enumerate(RIGHT):
        dets = Detections.from_array(np.array([[x - 10, 60, x + 10, 100, 0.9, 0]]))  # tracker_id −1
        counter.trigger(dets, (i + 1) * FRAME_NS)
        counter.trigger(detections({5: (x, 100.0)}), (i + 1) * FRAME_NS + 1, np.array([[np.nan, np.nan]]))
    assert counter.counts == {Direction.IN: 0, Direction.OUT: 0}


def test_forgets_unseen_tracks() -> None:
    counter = LineCounter(line(settle_s=0.0), handover_s=1.0, forget_s=1.0)
    run(counter, walk(1, [60, 70]) + [{}] * 11 + walk(1, [110, 120]))
    assert counter.counts == {Direction.IN: 0, Direction.OUT: 0}
    assert len(counter._tracks) == 1


@pytest.mark.parametrize(
    ("box_height", "handover_height", "handover_distance", "expected_ids"),
    [
        pytest.param(40.0, 0.75, None, [], id="small-person-reach-30px"),
        pytest.param(80.0, 0.75, None, [2], id="tall-person-reach-60px"),
        pytest.param(40.0, 1.5, None, [2], id="line-handover-height-1.5"),
        pytest.param(80.0, 0.75, 30.0, [], id="fixed-distance-overrides"),
    ],
)
def test_handover_reach_scales_with_the_person(
    box_height: float, handover_height: float, handover_distance: float | None, expected_ids: list[int]
) -> None:
    """Found again 45 px from where they vanished: near for a person 80 px tall, far for one 40 px tall."""
    door = line(settle_s=0.2).model_copy(update={"handover_height": handover_height})
    counter = LineCounter(door, handover_distance=handover_distance)
    frames = walk(1, [60, 70, 80, 90]) + walk(2, [135, 145, 155, 165])
    events = []
    for i, frame in enumerate(frames):
        events += counter.trigger(detections(frame, height=box_height), (i + 1) * FRAME_NS)
    assert [e.track_id for e in events] == expected_ids


def test_floor_lines_hand_over_within_a_metre() -> None:
    floor_line = Line(id="f", camera="cam", space=Space.FLOOR, points=((0.0, -5.0), (0.0, 5.0)), settle_s=0.0)
    counter = LineCounter(floor_line)
    # Old id vanishes 0.3 m before the line; a new one appears 0.9 m further on, the other side.
    steps = [(1, -1.2), (1, -0.9), (1, -0.6), (1, -0.3), (2, 0.6), (2, 0.9)]
    events = []
    for i, (tid, x) in enumerate(steps):
        events += counter.trigger(detections({tid: (0.0, 0.0)}), (i + 1) * FRAME_NS, np.array([[x, 0.0]]))
    assert [(e.track_id, e.direction) for e in events] == [(2, Direction.OUT)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"handover_distance": -1.0}, "handover_distance must be >= 0"),
        ({"handover_distance": float("nan")}, "handover_distance must be >= 0"),
        ({"handover_s": -0.5}, "handover_s must be >= 0"),
        ({"handover_s": 2.0, "forget_s": 1.0}, r"forget_s \(1.0\) must be at least handover_s \(2.0\)"),
    ],
)
def test_bad_constructor_arguments(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LineCounter(line(), **kwargs)


def test_time_must_increase() -> None:
    counter = LineCounter(line())
    counter.trigger(detections({1: (60.0, 100.0)}), 2 * FRAME_NS)
    with pytest.raises(ValueError, match="time_ns must increase"):
        counter.trigger(detections({1: (70.0, 100.0)}), 2 * FRAME_NS)


@pytest.mark.parametrize(
    ("points", "floor_points", "message"),
    [
        (np.zeros((2, 2)), None, r"points must have shape \(1, 2\)"),
        (np.zeros(2), None, r"points must have shape \(1, 2\)"),
        (None, np.zeros((1, 3)), r"floor_points must have shape \(1, 2\)"),
    ],
)
def test_bad_points(points: np.ndarray | None, floor_points: np.ndarray | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LineCounter(line()).trigger(detections({1: (60.0, 100.0)}), FRAME_NS, points, floor_points=floor_points)


def test_duplicate_track_ids_rejected() -> None:
    dets = Detections(
        xyxy=np.array([[0, 0, 10, 10], [20, 0, 30, 10]], dtype=np.float32),
        confidence=np.ones(2, dtype=np.float32),
        class_id=np.zeros(2, dtype=np.int32),
        tracker_id=np.array([4, 4]),
    )
    with pytest.raises(ValueError, match=r"tracker ids \[4\] appear more than once"):
        LineCounter(line()).trigger(dets, FRAME_NS)
