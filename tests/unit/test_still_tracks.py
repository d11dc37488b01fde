"""Tracks that stay on one spot: which spells are found, from when, for how long."""

from __future__ import annotations

import re

import numpy as np
import pytest

from edge.analytics.still import StillSpell, StillTracks
from edge.detections import Detections

S = 1_000_000_000
FPS = 5


def _frame(boxes: dict[int, tuple[float, float]], height: float = 80.0) -> Detections:
    """Boxes 30 px wide and `height` tall centred at each track's (x, y)."""
    ids = list(boxes)
    xyxy = np.array(
        [[x - 15, y - height / 2, x + 15, y + height / 2] for x, y in boxes.values()], dtype=np.float32
    ).reshape(-1, 4)
    return Detections(
        xyxy=xyxy,
        confidence=np.full(len(ids), 0.9, np.float32),
        class_id=np.zeros(len(ids), np.int32),
        tracker_id=np.array(ids, dtype=np.int64),
    )


def _path(kind: str, t: float) -> tuple[float, float] | None:
    """Where a track of each kind is at t seconds (None: not seen)."""
    if kind == "object":  # never moves
        return (100.0, 200.0)
    if kind == "swaying":  # 15 px about one spot: within a quarter of 80 px
        return (300.0 + 15 * np.sin(t), 200.0 + 5 * np.cos(t))
    if kind == "walker":  # 40 px a second
        return (40.0 * t, 300.0)
    if kind == "walks-then-waits":  # walks 10 s, then stands
        return (40.0 * min(t, 10.0), 400.0)
    if kind == "hidden-in-between":  # stands, unseen from 20 to 30 s
        return None if 20 <= t < 30 else (500.0, 100.0)
    raise AssertionError(kind)


@pytest.mark.parametrize(
    ("kind", "min_s", "expected"),
    [
        ("object", 60.0, (0.0, 89.8)),
        ("object", 100.0, None),
        ("swaying", 60.0, (0.0, 89.8)),
        ("walker", 1.0, None),
        # The spell starts with the last steps that end within reach of where it stands (20 px: 0.4 s of walking).
        ("walks-then-waits", 60.0, (9.6, 80.2)),
        # Unseen is not moved: the spell goes on over the gap.
        ("hidden-in-between", 60.0, (0.0, 89.8)),
    ],
)
def test_spells(kind: str, min_s: float, expected: tuple[float, float] | None) -> None:
    still = StillTracks(min_s)
    for k in range(90 * FPS):
        t = k / FPS
        spot = _path(kind, t)
        still.update(_frame({} if spot is None else {7: spot}), k * S // FPS)
    spells = still.spells()
    if expected is None:
        assert spells == []
    else:
        [spell] = spells
        assert spell.track_id == 7
        assert (spell.start_ns / S, spell.seconds) == pytest.approx(expected, abs=0.21)


def test_longest_spell_per_track_longest_first_and_untracked_boxes_ignored() -> None:
    still = StillTracks(5.0)
    for k in range(40 * FPS):
        t = k / FPS
        # Track 1 stands 10 s, steps away, stands 28 s; track 2 stands all 40 s; -1 is an untracked box.
        one = (200.0, 200.0) if t < 10 else (300.0, 200.0) if t < 12 else (400.0, 200.0)
        frame = _frame({1: one, 2: (50.0, 50.0), -1: (600.0, 600.0)})
        still.update(frame, k * S // FPS)
    spells = still.spells()
    assert [s.track_id for s in spells] == [2, 1]
    assert spells[1].spot == (400.0, 200.0) and spells[1].start_ns == 12 * S
    assert spells[0].seconds == pytest.approx(39.8)


def test_spell_seconds() -> None:
    assert StillSpell(3, 2 * S, 5 * S + S // 2, (0.0, 0.0)).seconds == 3.5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_s": 0.0}, "min_s must be a positive number of seconds, got 0.0"),
        ({"min_s": float("inf")}, "min_s must be a positive number of seconds, got inf"),
        ({"min_s": 10.0, "reach": -0.1}, "reach must be a positive share of the box height, got -0.1"),
    ],
)
def test_bad_settings(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        StillTracks(**kwargs)


def test_a_spell_is_reported_once_when_it_reaches_the_threshold_and_forgotten_with_its_track() -> None:
    still = StillTracks(2.0)
    reached = []
    for k in range(6 * FPS):
        # Track 4 stands 3 s, walks away, stands 3 s again; track 5 keeps walking.
        x = 100.0 if k < 3 * FPS else 400.0
        reached += [(k, s.track_id) for s in still.update(_frame({4: (x, 100.0), 5: (20.0 * k, 300.0)}), k * S // FPS)]
    # Once per spell, at its frame that reaches 2 s: frame 10 (0 → 2 s) and frame 25 (3 → 5 s).
    assert reached == [(2 * FPS, 4), (5 * FPS, 4)]
    assert still.still_now() == 1
    still.forget({4, 99})
    assert still.still_now() == 0 and still.spells() == []
