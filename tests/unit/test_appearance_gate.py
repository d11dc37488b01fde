"""The appearance gate a camera learns from pairs of people it sees side by side."""

from __future__ import annotations

import numpy as np
import pytest

from edge.tracking.appearance_gate import AppearanceGate


def side_by_side(n: int, confidence: float = 0.9, overlap: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """`n` person boxes in a row, apart (or stacked on one another), with their scores."""
    x = np.zeros(n) if overlap else np.arange(n) * 50.0
    xyxy = np.stack([x, np.zeros(n), x + 40, np.full(n, 100.0)], axis=1).astype(np.float32)
    return xyxy, np.full(n, confidence, dtype=np.float32)


def vectors_at_distance(n: int, distance: float, rng: np.random.Generator) -> np.ndarray:
    """`n` unit vectors whose pairwise cosine distance is about `distance`."""
    shared = rng.normal(size=64)
    shared /= np.linalg.norm(shared)
    own = rng.normal(size=(n, 64))
    own -= (own @ shared)[:, None] * shared
    own /= np.linalg.norm(own, axis=1, keepdims=True)
    # cos(a, b) = s^2 for a = s*shared + r*own_a with own_a ⟂ own_b (nearly, in 64-D) → distance = 1 - s^2.
    s = np.sqrt(1 - distance)
    return (s * shared + np.sqrt(1 - s**2) * own).astype(np.float32)


def taught(
    distance: float, frames: int, people: int = 4, interval_s: float = 0.1, **frame: bool | float
) -> AppearanceGate:
    rng = np.random.default_rng(0)
    gate = AppearanceGate(0.25, quantile=0.05, min_pairs=200, window_pairs=1000)
    xyxy, conf = side_by_side(people, **frame)  # type: ignore[arg-type]
    for index in range(frames):
        gate.tick(round(index * interval_s * 1e9))
        gate.observe(xyxy, conf, vectors_at_distance(people, distance, rng))
    return gate


@pytest.mark.parametrize(
    ("distance", "frames", "frame", "expected"),
    [
        # A sharp picture: different people lie far beyond the site's gate, which stays.
        (0.5, 100, {}, 0.25),
        # A poor one: they lie at ~0.15, and the gate tightens to below that.
        (0.15, 100, {}, pytest.approx(0.15, abs=0.03)),
        # Too few pairs to judge yet (6 a frame, 200 needed).
        (0.15, 30, {}, 0.25),
        # Boxes on top of one another may be one person twice; unsure boxes may be no one.
        (0.15, 100, {"overlap": True}, 0.25),
        (0.15, 100, {"confidence": 0.3}, 0.25),
    ],
)
def test_learns_from_people_apart_in_one_frame(
    distance: float, frames: int, frame: dict[str, bool | float], expected: object
) -> None:
    assert taught(distance, frames, **frame).threshold == expected


@pytest.mark.parametrize(
    ("interval_s", "in_force"),
    [(0.04, pytest.approx(0.15, abs=0.03)), (0.25, pytest.approx(0.15, abs=0.03)), (0.3, 0.25), (0.5, 0.25)],
)
def test_the_tighter_gate_holds_only_while_frames_come_often(interval_s: float, in_force: object) -> None:
    gate = taught(0.15, 100, interval_s=interval_s)
    assert gate.learned == pytest.approx(0.15, abs=0.03)
    assert gate.threshold == in_force


def test_the_pace_is_the_frames_actual_one_not_a_gap_now_and_then() -> None:
    gate = taught(0.15, 100)
    gate.tick(100 * 100_000_000 + 30_000_000_000)  # one 30 s gap (a reconnect) among 0.1 s steps
    assert gate.threshold == gate.learned < 0.25


def test_follows_a_picture_that_changes() -> None:
    rng = np.random.default_rng(1)
    gate = AppearanceGate(0.25, quantile=0.05, min_pairs=200, window_pairs=600)
    xyxy, conf = side_by_side(4)
    for distance in (0.15, 0.5):  # dusk, then the lights come on
        for _ in range(200):
            gate.observe(xyxy, conf, vectors_at_distance(4, distance, rng))
    assert gate.learned == 0.25
    assert gate.pairs == 600


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"configured": 0.0}, "appearance gate"),
        ({"configured": 1.5}, "appearance gate"),
        ({"configured": 0.25, "quantile": 0.0}, "quantile"),
        ({"configured": 0.25, "quantile": 1.0}, "quantile"),
        ({"configured": 0.25, "min_pairs": 0}, "min_pairs"),
        ({"configured": 0.25, "min_pairs": 10, "window_pairs": 5}, "min_pairs"),
    ],
)
def test_rejects(kwargs: dict[str, float], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        AppearanceGate(**kwargs)  # type: ignore[arg-type]


def test_rejects_rows_that_do_not_line_up() -> None:
    xyxy, conf = side_by_side(3)
    with pytest.raises(ValueError, match="differ in length"):
        AppearanceGate(0.25).observe(xyxy, conf, np.zeros((2, 8), np.float32))
