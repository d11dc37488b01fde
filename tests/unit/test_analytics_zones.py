"""ZoneMonitor on synthetic tracks: enter/exit, occlusion, border flicker, dwell, end of stream."""

from __future__ import annotations

import numpy as np
import pytest

from edge.analytics import ZoneEvent, ZoneEventKind, ZoneMonitor
from edge.detections import Detections
from shared.config import Zone

FRAME_NS = 100_000_000  # 10 fps
IN, OUT, GONE = (50.0, 50.0), (150.0, 50.0), None  # foot points of track 1; GONE = not detected

Step = tuple[float, float] | None


def detections(points: dict[int, tuple[float, float]]) -> Detections:
    xyxy = np.array([[x - 5, y - 20, x + 5, y] for x, y in points.values()], dtype=np.float32).reshape(-1, 4)
    return Detections(
        xyxy=xyxy,
        confidence=np.ones(len(points), dtype=np.float32),
        class_id=np.zeros(len(points), dtype=np.int32),
        tracker_id=np.array(list(points), dtype=np.int64),
    )


def zone(enter_s: float = 0.1, exit_grace_s: float = 1.0) -> Zone:
    return Zone(
        id="shop",
        camera="cam",
        polygon=[(0.0, 0.0), (100.0, 0.0), (100.0, 100.0), (0.0, 100.0)],
        enter_s=enter_s,
        exit_grace_s=exit_grace_s,
    )


def run(monitor: ZoneMonitor, steps: list[Step]) -> list[tuple[ZoneEventKind, int, int | None]]:
    """Events as (kind, frame index of time_ns, frame index of entered_time_ns), emitted frame index."""
    out = []
    for i, step in enumerate(steps):
        for event in monitor.trigger(detections({} if step is None else {1: step}), i * FRAME_NS):
            entered = None if event.entered_time_ns is None else event.entered_time_ns // FRAME_NS
            out.append((event.kind, event.time_ns // FRAME_NS, entered))
    return out


ENTER, EXIT = ZoneEventKind.ENTER, ZoneEventKind.EXIT


@pytest.mark.parametrize(
    ("steps", "enter_s", "grace_s", "expected"),
    [
        pytest.param([OUT] * 2 + [IN] * 5 + [OUT] * 12, 0.1, 1.0, [(ENTER, 2, None), (EXIT, 7, 2)], id="enter-exit"),
        pytest.param([IN] * 5 + [OUT] * 3, 0.0, 0.0, [(ENTER, 0, None), (EXIT, 5, 0)], id="no-grace"),
        pytest.param([IN] * 5 + [GONE] * 12, 0.1, 1.0, [(ENTER, 0, None), (EXIT, 5, 0)], id="vanishes-inside"),
        pytest.param(
            [IN] * 5 + [GONE] * 5 + [IN] * 5 + [OUT] * 12,
            0.1,
            1.0,
            [(ENTER, 0, None), (EXIT, 15, 0)],
            id="occlusion-bridged",
        ),
        pytest.param(
            [IN] * 5 + [GONE] * 15 + [IN] * 5 + [OUT] * 12,
            0.1,
            1.0,
            [(ENTER, 0, None), (EXIT, 5, 0), (ENTER, 20, None), (EXIT, 25, 20)],
            id="occlusion-over-grace",
        ),
        pytest.param(
            [IN] * 3 + [OUT, IN] * 6 + [OUT] * 12, 0.1, 1.0, [(ENTER, 0, None), (EXIT, 15, 0)], id="border-flicker"
        ),
        pytest.param([OUT, IN] * 8, 0.1, 1.0, [], id="flicker-never-settles-inside"),
        pytest.param([IN, GONE] * 8, 0.1, 1.0, [], id="missed-frames-break-enter-run"),
        pytest.param([IN] * 2 + [OUT] * 20, 0.2, 1.0, [], id="too-short-to-enter"),
    ],
)
def test_events(
    steps: list[Step], enter_s: float, grace_s: float, expected: list[tuple[ZoneEventKind, int, int | None]]
) -> None:
    assert run(ZoneMonitor(zone(enter_s, grace_s)), steps) == expected


@pytest.mark.parametrize("fps", [5.0, 7.0, 10.0, 25.0, 30.0])
@pytest.mark.parametrize(
    ("inside_s", "visits"),
    [pytest.param(0.05, 0, id="0.05s-over-the-edge-is-flicker"), pytest.param(0.5, 1, id="0.5s-inside-is-a-visit")],
)
def test_enter_means_the_same_at_any_frame_rate(fps: float, inside_s: float, visits: int) -> None:
    """enter_s is time: a foot point over the edge for a moment opens no visit at 5 fps nor at 30."""
    monitor = ZoneMonitor(zone(enter_s=0.1))
    events: list[ZoneEvent] = []
    for i in range(round((2 + inside_s) * fps)):
        t = i / fps
        events += monitor.trigger(detections({1: IN if 1.0 <= t < 1.0 + inside_s else OUT}), round(t * 1e9))
    events += monitor.close_all(round(3 * 1e9))
    assert [e.kind for e in events] == [ZoneEventKind.ENTER, ZoneEventKind.EXIT] * visits


def test_exit_is_emitted_when_grace_expires() -> None:
    monitor = ZoneMonitor(zone(enter_s=0.0, exit_grace_s=1.0))
    emitted_at = []
    for i, step in enumerate([IN] * 3 + [OUT] * 15):
        if monitor.trigger(detections({1: step}), i * FRAME_NS):
            emitted_at.append(i)
    assert emitted_at == [0, 12]  # last inside at frame 2, + 1 s


@pytest.mark.parametrize(("frames_inside", "dwell_s"), [(1, 0.1), (2, 0.2), (10, 1.0), (31, 3.1)])
def test_dwell_counts_every_frame_inside(frames_inside: int, dwell_s: float) -> None:
    monitor = ZoneMonitor(zone(enter_s=0.0, exit_grace_s=0.5))
    events: list[ZoneEvent] = []
    for i, step in enumerate([OUT] * 3 + [IN] * frames_inside + [OUT] * 10):
        events += monitor.trigger(detections({1: step}), i * FRAME_NS, floor_points=np.array([[i, 0.0]]))
    enter, exit_ = events
    assert (enter.dwell_s, exit_.dwell_s) == (None, pytest.approx(dwell_s))
    assert enter.floor_point == (3.0, 0.0)
    assert exit_.floor_point == (3.0 + frames_inside - 1, 0.0)


def test_close_all_exits_everyone_inside_and_forgets() -> None:
    monitor = ZoneMonitor(zone(enter_s=0.1, exit_grace_s=1.0))
    steps = [{1: IN, 2: IN, 3: OUT}, {1: IN, 2: IN, 3: IN}, {1: IN, 3: (60.0, 60.0)}, {1: OUT}]
    for i, frame in enumerate(steps):
        monitor.trigger(detections(frame), i * FRAME_NS)
    assert monitor.inside == {1, 2, 3}
    events = monitor.close_all(4 * FRAME_NS)
    # Each visit ends with the end of its last frame inside: the next frame's time.
    assert sorted((e.track_id, e.entered_time_ns, e.time_ns) for e in events) == [
        (1, 0, 3 * FRAME_NS),
        (2, 0, 2 * FRAME_NS),
        (3, FRAME_NS, 3 * FRAME_NS),
    ]
    assert all(e.kind is ZoneEventKind.EXIT for e in events)
    assert monitor.inside == set()
    assert monitor.close_all(5 * FRAME_NS) == []


def test_close_all_times_a_track_inside_in_the_last_frame_to_that_frame_end() -> None:
    monitor = ZoneMonitor(zone(enter_s=0.0))
    for i in range(4):
        monitor.trigger(detections({1: IN}), i * FRAME_NS)
    (event,) = monitor.close_all(3 * FRAME_NS)
    assert (event.entered_time_ns, event.time_ns, event.dwell_s) == (0, 4 * FRAME_NS, pytest.approx(0.4))


NEAR = (60.0, 55.0)  # 11 px from IN: within reach (0.75 x the 20 px box)


def run_ids(monitor: ZoneMonitor, frames: list[dict[int, tuple[float, float]]]) -> list[tuple[ZoneEventKind, int, int]]:
    """Events as (kind, track id, frame index of time_ns)."""
    out = []
    for i, points in enumerate(frames):
        out += [(e.kind, e.track_id, e.time_ns // FRAME_NS) for e in monitor.trigger(detections(points), i * FRAME_NS)]
    return out


@pytest.mark.parametrize(
    ("frames", "expected"),
    [
        pytest.param(
            [{1: IN}] * 5 + [{}] * 2 + [{2: NEAR}] * 5 + [{2: OUT}] * 12,
            [(ENTER, 1, 0), (EXIT, 1, 12)],
            id="id-switch-inside-continues-the-visit",
        ),
        pytest.param(
            [{1: IN}] * 5 + [{2: NEAR}] * 5 + [{2: OUT}] * 12,
            [(ENTER, 1, 0), (EXIT, 1, 10)],
            id="new-id-in-the-next-frame",
        ),
        pytest.param(
            [{1: (10.0, 10.0)}] * 5 + [{}] * 2 + [{2: (90.0, 90.0)}] * 5 + [{2: OUT}] * 12,
            [(ENTER, 1, 0), (ENTER, 2, 7), (EXIT, 1, 5), (EXIT, 2, 12)],
            id="far-away-is-someone-else",
        ),
        pytest.param(
            [{1: IN}] * 5 + [{}] * 15 + [{2: NEAR}] * 5 + [{2: OUT}] * 12,
            [(ENTER, 1, 0), (EXIT, 1, 5), (ENTER, 2, 20), (EXIT, 2, 25)],
            id="after-the-grace-a-new-visit",
        ),
        pytest.param(
            [{1: IN, 2: NEAR}] * 3 + [{2: NEAR}] * 3 + [{2: OUT}] * 12,
            [(ENTER, 1, 0), (ENTER, 2, 0), (EXIT, 1, 3), (EXIT, 2, 6)],
            id="both-seen-together-stay-two-people",
        ),
    ],
)
def test_id_switch_inside_the_zone(
    frames: list[dict[int, tuple[float, float]]], expected: list[tuple[ZoneEventKind, int, int]]
) -> None:
    events = run_ids(ZoneMonitor(zone(enter_s=0.1, exit_grace_s=1.0)), frames)
    assert sorted(events, key=lambda e: (e[0] != ENTER, e[2], e[1])) == sorted(
        expected, key=lambda e: (e[0] != ENTER, e[2], e[1])
    )


def test_image_points_are_tested_unless_points_given() -> None:
    monitor = ZoneMonitor(zone(enter_s=0.0))
    assert monitor.trigger(detections({1: OUT}), 0) == []
    # Floor-space zones get their points from the caller; here they put the track inside.
    events = monitor.trigger(detections({1: OUT}), FRAME_NS, np.array([[10.0, 10.0]]))
    assert [e.kind for e in events] == [ZoneEventKind.ENTER]


def test_untracked_and_nan_points_are_ignored() -> None:
    monitor = ZoneMonitor(zone(enter_s=0.0))
    untracked = Detections.from_array(np.array([[45, 30, 55, 50, 0.9, 0]]))
    assert monitor.trigger(untracked, 0) == []
    assert monitor.trigger(detections({1: IN}), FRAME_NS, np.array([[np.nan, np.nan]])) == []
    assert monitor.inside == set()


def test_time_checks() -> None:
    monitor = ZoneMonitor(zone())
    monitor.trigger(detections({1: IN}), 5 * FRAME_NS)
    with pytest.raises(ValueError, match="time_ns must increase"):
        monitor.trigger(detections({1: IN}), 4 * FRAME_NS)
    with pytest.raises(ValueError, match="is before the last frame"):
        monitor.close_all(4 * FRAME_NS)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": ZoneEventKind.EXIT}, "an exit event needs entered_time_ns"),
        ({"kind": ZoneEventKind.EXIT, "entered_time_ns": 20}, r"entered_time_ns \(20\) is after the exit time"),
        ({"kind": ZoneEventKind.ENTER, "entered_time_ns": 5}, "only exit events carry entered_time_ns"),
    ],
)
def test_zone_event_validation(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ZoneEvent(zone_id="z", track_id=1, time_ns=10, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("handover_height", "visits"),
    [pytest.param(0.75, 2, id="reach-15px-someone-else"), pytest.param(2.0, 1, id="reach-40px-the-same-visit")],
)
def test_handover_reach_is_a_share_of_the_person_height(handover_height: float, visits: int) -> None:
    """Boxes 20 px tall; the new id appears 30 px from where the old one vanished inside."""
    monitor = ZoneMonitor(zone().model_copy(update={"handover_height": handover_height}))
    frames = [{1: IN}] * 5 + [{}] * 2 + [{2: (80.0, 50.0)}] * 5 + [{2: OUT}] * 12
    events = run_ids(monitor, frames)
    assert sum(kind is ENTER for kind, _, _ in events) == visits
