from __future__ import annotations

import numpy as np
import pytest
from support.scenes import crossing_people

from edge.detections import Detections
from edge.tracking.association_rate import AssociationPacer, CarriedTracks, corner_velocity
from edge.tracking.botsort import BotSortTracker
from shared.config.site import Tracking

SECOND = 1_000_000_000


@pytest.mark.parametrize(
    ("max_fps", "camera_fps", "associated_of_first_12"),
    [
        (None, 30.0, 12),
        (15.0, 7.0, 12),  # slower than the cap: every frame
        (15.0, 15.0, 12),
        (15.0, 16.0, 12),  # a little faster: still every frame, not half of them
        (15.0, 25.0, 6),  # every 2nd: 12.5 a second
        (15.0, 30.0, 6),  # every 2nd: 15 a second
        (15.0, 60.0, 3),  # every 4th
        (10.0, 30.0, 4),  # every 3rd
    ],
)
def test_pacer_associates_about_the_capped_rate(
    max_fps: float | None, camera_fps: float, associated_of_first_12: int
) -> None:
    pacer = AssociationPacer(max_fps)
    due = [pacer.due(round(i * SECOND / camera_fps)) for i in range(12)]
    assert due[0] and sum(due) == associated_of_first_12
    assert pacer.rate(camera_fps) == pytest.approx(camera_fps * associated_of_first_12 / 12)


def test_pacer_starts_afresh_when_the_clock_goes_back() -> None:
    pacer = AssociationPacer(15.0)
    assert pacer.due(10 * SECOND) and not pacer.due(10 * SECOND + SECOND // 30)
    assert pacer.due(SECOND)  # a replay or a reconnected camera
    pacer.reset()
    assert pacer.due(SECOND)


@pytest.mark.parametrize("max_fps", [0.0, -15.0])
def test_pacer_rejects(max_fps: float) -> None:
    with pytest.raises(ValueError, match="max_fps must be > 0"):
        AssociationPacer(max_fps)


def _tracks(n: int, embeddings: bool = True) -> Detections:
    xyxy = np.array([[10 + 50 * i, 20, 40 + 50 * i, 100] for i in range(n)], dtype=np.float32)
    return Detections(
        xyxy=xyxy,
        confidence=np.full(n, 0.8, np.float32),
        class_id=np.zeros(n, np.int32),
        tracker_id=np.arange(1, n + 1, dtype=np.int64),
        embeddings=np.ones((n, 4), np.float32) if embeddings else None,
    )


def test_carried_tracks_move_along_their_velocity() -> None:
    carried = CarriedTracks()
    assert len(carried.at(SECOND)) == 0
    tracks = _tracks(2)
    velocity = np.array([[30, 0, 30, 0], [0, -10, 0, -10]], dtype=np.float32)  # pixels a second
    carried.hold(tracks, velocity, SECOND)
    half = carried.at(SECOND + SECOND // 2)
    np.testing.assert_allclose(half.xyxy, tracks.xyxy + velocity / 2)
    assert half.tracker_id.tolist() == [1, 2] and half.confidence.tolist() == pytest.approx([0.8, 0.8])
    # No fresh appearance between associations.
    assert half.embeddings is not None and not half.embeddings.any()
    np.testing.assert_allclose(carried.at(SECOND // 2).xyxy, tracks.xyxy)  # never backwards
    carried.reset()
    assert len(carried.at(2 * SECOND)) == 0


def test_carried_tracks_reject_a_velocity_per_other_boxes() -> None:
    with pytest.raises(ValueError, match=r"velocity_per_s must have shape \(2, 4\)"):
        CarriedTracks().hold(_tracks(2), np.zeros((3, 4), np.float32), 0)


def test_corner_velocity_from_centre_and_size() -> None:
    # Moving right 4 px while growing 2 px wide and 6 px tall.
    np.testing.assert_allclose(corner_velocity(np.array([[4.0, 0.0, 2.0, 6.0]])), [[3.0, -3.0, 5.0, 3.0]])


class BoxmotCalls:
    """Counts the associations a BotSortTracker hands to boxmot."""

    def __init__(self, tracker: BotSortTracker) -> None:
        self.calls = 0
        self.watch(tracker)

    def watch(self, tracker: BotSortTracker) -> None:
        """Count on the tracker's current boxmot instance (a reset makes a new one)."""
        update = tracker._tracker.update

        def counted(*args: object) -> object:
            self.calls += 1
            return update(*args)

        tracker._tracker.update = counted  # type: ignore[method-assign]


@pytest.mark.parametrize(("max_fps", "associations"), [(None, 24), (15.0, 12)])
def test_botsort_associates_at_the_cap_and_reports_every_frame(max_fps: float | None, associations: int) -> None:
    """Two people walking past each other at 30 fps: every frame has both, with steady ids."""
    tracker = BotSortTracker(Tracking(reid=False, max_association_fps=max_fps), frame_rate=30)
    # A lost track lives track_buffer_s (3 s) in associations, not in camera frames.
    assert tracker._tracker.max_time_lost == round(3 * tracker.pacer.rate(30))
    boxmot = BoxmotCalls(tracker)
    seen = []
    for frame in range(24):
        image, people = crossing_people(frame // 2)  # the scene's steps halved: 30 fps walking
        out = tracker.update(people, image, round(frame * SECOND / 30))
        seen.append(out)
    assert boxmot.calls == associations
    confirmed = [out for out in seen[4:] if len(out) == 2]
    assert len(confirmed) == 20
    assert all(sorted(out.tracker_id.tolist()) == sorted(confirmed[0].tracker_id.tolist()) for out in confirmed)
    # Between associations the boxes are where the detections are (within a few pixels).
    for frame, out in enumerate(seen[4:], start=4):
        _, people = crossing_people(frame // 2)
        left = out.xyxy[np.argsort(out.xyxy[:, 0])]
        expected = people.xyxy[np.argsort(people.xyxy[:, 0])]
        np.testing.assert_allclose(left, expected, atol=6)


@pytest.mark.parametrize("reset_before", [None, 7, 8])
def test_botsort_associates_every_frame_detected_on_its_pacers_pace_even_after_a_reset(
    reset_before: int | None,
) -> None:
    """The agent detects only the frames its own pacer finds due, and carries the rest: the tracker
    associates exactly those frames, also after a reconnect reset it between two of them."""
    tracker = BotSortTracker(Tracking(reid=False, max_association_fps=15.0), frame_rate=30)
    upstream = tracker.detection_pacer()
    boxmot = BoxmotCalls(tracker)
    detected = 0
    for frame in range(24):
        if frame == reset_before:
            tracker.reset()
            boxmot.watch(tracker)
        image, people = crossing_people(frame // 2)
        time_ns = round(frame * SECOND / 30)
        if upstream.due(time_ns):
            detected += 1
            out = tracker.update(people, image, time_ns)
        else:
            out = tracker.carry(time_ns)
            assert out.embeddings is None or not out.embeddings.any()
        if frame >= 4 and (reset_before is None or frame >= reset_before + 4):
            assert len(out) == 2, f"frame {frame}: {len(out)} tracks"
    assert detected == 12
    assert boxmot.calls == 12
