"""SteadyFeet: foot points held through boxes cut or stretched by occlusion."""

from __future__ import annotations

import numpy as np
import pytest

from edge.analytics.feet import SteadyFeet
from edge.detections import Detections

FRAME_NS = 100_000_000  # 10 fps
TOP = 100.0


def box(height: float, track_id: int = 1, top: float = TOP) -> Detections:
    return Detections(
        xyxy=np.array([[40.0, top, 60.0, top + height]], dtype=np.float32),
        confidence=np.ones(1, dtype=np.float32),
        class_id=np.zeros(1, dtype=np.int32),
        tracker_id=np.array([track_id], dtype=np.int64),
    )


def feet_y(heights: list[float], track_id: int = 1, **settings: float) -> list[float]:
    feet = SteadyFeet(**settings)
    return [float(feet.points(box(h, track_id), (i + 1) * FRAME_NS)[0, 1]) for i, h in enumerate(heights)]


@pytest.mark.parametrize(
    ("heights", "expected"),
    [
        pytest.param([100, 100, 100, 100], [200, 200, 200, 200], id="unoccluded-walker"),
        pytest.param([100, 102, 104, 106, 108], [200, 202, 204, 206, 208], id="walking-towards-camera"),
        pytest.param([100, 100, 100, 60, 62, 100], [200, 200, 200, 200, 200, 200], id="cut-by-someone-in-front"),
        pytest.param([100, 100, 100, 85, 86, 100], [200, 200, 200, 200, 200, 200], id="legs-hidden-by-a-passer-by"),
        pytest.param([100, 100, 100, 140, 100], [200, 200, 200, 200, 200], id="merged-with-someone-in-front"),
        pytest.param([60, 100, 100], [160, 200, 200], id="too-little-history-to-judge"),
        pytest.param(
            [100, 100, 100, *[60] * 12],
            [200, 200, 200, *[200] * 10, 160, 160],
            id="lasting-change-becomes-the-new-size",
        ),
    ],
)
def test_foot_points(heights: list[float], expected: list[float]) -> None:
    assert feet_y(heights) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("heights", "expected"),
    [
        pytest.param([100, 100, 100, 100], [197, 197, 197, 197], id="unoccluded-walker"),
        pytest.param([100, 100, 100, 60, 100], [197, 197, 197, 197, 197], id="cut-by-someone-in-front"),
        pytest.param([200, 200, 200], [294, 294, 294], id="in-proportion-to-the-box"),
    ],
)
def test_foot_margin_raises_the_feet_to_the_soles(heights: list[float], expected: list[float]) -> None:
    assert feet_y(heights, foot_margin=0.03) == pytest.approx(expected)


def test_untracked_boxes_keep_their_bottom_edge() -> None:
    feet = SteadyFeet()
    for i in range(4):
        feet.points(box(100, track_id=-1), (i + 1) * FRAME_NS)
    assert feet.points(box(60, track_id=-1), 5 * FRAME_NS)[0, 1] == pytest.approx(160)


def test_tracks_are_independent_and_forgotten() -> None:
    feet = SteadyFeet(forget_s=1.0)
    for i in range(3):
        feet.points(box(100, track_id=1), (i + 1) * FRAME_NS)
    # Track 2 has no history of its own; track 1, unseen past forget_s, starts afresh.
    assert feet.points(box(60, track_id=2), 4 * FRAME_NS)[0, 1] == pytest.approx(160)
    assert feet.points(box(60, track_id=1), 30 * FRAME_NS)[0, 1] == pytest.approx(160)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"window_s": 0.0}, "window_s"),
        ({"tolerance": 0.0}, "tolerance"),
        ({"tolerance": 1.0}, "tolerance"),
        ({"window_s": 2.0, "forget_s": 1.0}, "forget_s"),
        ({"foot_margin": -0.1}, "foot_margin"),
        ({"foot_margin": 0.5}, "foot_margin"),
    ],
)
def test_invalid_settings(settings: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SteadyFeet(**settings)
