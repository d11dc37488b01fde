"""MotWriter: MOT rows in frame order as frames come, and short gaps filled on request."""

from __future__ import annotations

import io

import numpy as np
import pytest

from edge.detections import Detections
from edge.evaluation.mot_writer import MotWriter

# (frame, id, x) per sighting; every box is x, 10, 20 wide, 40 tall, score 0.5 + x / 1000.
Sighting = tuple[int, int, float]


def frame_of(sightings: list[Sighting], frame: int) -> Detections:
    mine = [(tid, x) for f, tid, x in sightings if f == frame]
    xyxy = np.array([[x, 10, x + 20, 50] for _, x in mine], dtype=np.float32).reshape(-1, 4)
    return Detections(
        xyxy=xyxy,
        confidence=np.array([0.5 + x / 1000 for _, x in mine], dtype=np.float32),
        class_id=np.zeros(len(mine), dtype=np.int32),
        tracker_id=np.array([tid for tid, _ in mine], dtype=np.int64),
    )


def written(sightings: list[Sighting], max_missing: int, last_frame: int) -> list[tuple[int, int, float]]:
    out = io.StringIO()
    writer = MotWriter(out, max_missing)
    for frame in range(1, last_frame + 1):
        writer.write(frame, frame_of(sightings, frame))
    writer.close()
    rows = [line.split(",") for line in out.getvalue().splitlines()]
    return [(int(r[0]), int(r[1]), float(r[2])) for r in rows]


@pytest.mark.parametrize(
    ("sightings", "max_missing", "expected"),
    [
        # Seen in every frame: nothing to fill.
        ([(1, 7, 0.0), (2, 7, 10.0)], 3, [(1, 7, 0.0), (2, 7, 10.0)]),
        # Two frames unseen, at most two filled: along the straight line between the sightings.
        ([(1, 7, 0.0), (4, 7, 30.0)], 2, [(1, 7, 0.0), (2, 7, 10.0), (3, 7, 20.0), (4, 7, 30.0)]),
        # Three unseen are more than two: the gap stays.
        ([(1, 7, 0.0), (5, 7, 40.0)], 2, [(1, 7, 0.0), (5, 7, 40.0)]),
        # 0 (the default): only what the tracker reported.
        ([(1, 7, 0.0), (3, 7, 20.0)], 0, [(1, 7, 0.0), (3, 7, 20.0)]),
        # A track that never comes back is not extended.
        ([(1, 7, 0.0), (2, 7, 10.0)], 5, [(1, 7, 0.0), (2, 7, 10.0)]),
        # Two tracks: rows by frame, then id, filled rows among them.
        (
            [(1, 9, 100.0), (1, 4, 0.0), (2, 9, 110.0), (3, 9, 120.0), (3, 4, 20.0)],
            1,
            [(1, 4, 0.0), (1, 9, 100.0), (2, 4, 10.0), (2, 9, 110.0), (3, 4, 20.0), (3, 9, 120.0)],
        ),
    ],
)
def test_gaps_up_to_max_missing_are_filled(
    sightings: list[Sighting], max_missing: int, expected: list[tuple[int, int, float]]
) -> None:
    assert written(sightings, max_missing, last_frame=6) == expected


def test_a_filled_row_interpolates_the_whole_box_and_score() -> None:
    out = io.StringIO()
    writer = MotWriter(out, max_missing=1)
    writer.write(1, frame_of([(1, 3, 0.0)], 1))
    writer.write(2, frame_of([], 2))
    writer.write(3, frame_of([(3, 3, 40.0)], 3))
    writer.close()
    assert out.getvalue().splitlines()[1] == "2,3,20.00,10.00,20.00,40.00,0.5200,-1,-1,-1"


@pytest.mark.parametrize(("max_missing", "written_after_frame_5"), [(0, 5), (2, 3)])
def test_rows_leave_as_soon_as_no_gap_can_reach_them(max_missing: int, written_after_frame_5: int) -> None:
    # A live source's file grows while it runs: a row waits only as long as a gap before it could still close.
    out = io.StringIO()
    writer = MotWriter(out, max_missing)
    for frame in range(1, 6):
        writer.write(frame, frame_of([(frame, 1, float(frame))], frame))
    frames = [int(line.split(",")[0]) for line in out.getvalue().splitlines()]
    assert frames == list(range(1, written_after_frame_5 + 1))
    writer.close()
    assert [int(line.split(",")[0]) for line in out.getvalue().splitlines()] == [1, 2, 3, 4, 5]


def test_negative_gap_is_rejected() -> None:
    with pytest.raises(ValueError, match="max_missing must be >= 0 frames, got -1"):
        MotWriter(io.StringIO(), -1)
