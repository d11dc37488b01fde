"""UpdateThrottle: first sighting always, then at most once per interval per track."""

from __future__ import annotations

import math

import pytest

from edge.publish import UpdateThrottle

MS = 1_000_000
T0 = 1_700_000_000_000_000_000


@pytest.mark.parametrize(
    ("interval_s", "times_ms", "expected"),
    [
        pytest.param(0.5, [0], [True], id="first-sighting"),
        pytest.param(
            0.5, [0, 100, 200, 300, 400, 500, 600], [True, False, False, False, False, True, False], id="2hz-at-10fps"
        ),
        pytest.param(0.5, [0, 499, 500, 999, 1000], [True, False, True, False, True], id="boundaries"),
        pytest.param(0.5, [0, 700, 1000, 1200], [True, True, False, True], id="interval-from-last-sent"),
        pytest.param(0.1, [0, 100, 200, 300], [True, True, True, True], id="every-frame-at-10hz"),
        pytest.param(0.5, [1000, 1100, 200, 300], [True, False, True, False], id="clock-stepped-back"),
    ],
)
def test_due(interval_s: float, times_ms: list[int], expected: list[bool]) -> None:
    throttle = UpdateThrottle(interval_s)
    assert [throttle.due(1, T0 + t * MS) for t in times_ms] == expected


def test_tracks_are_independent() -> None:
    throttle = UpdateThrottle(0.5)
    assert throttle.due(1, T0)
    assert throttle.due(2, T0 + 100 * MS)
    assert not throttle.due(1, T0 + 200 * MS)
    assert throttle.due(1, T0 + 500 * MS)
    assert not throttle.due(2, T0 + 500 * MS)


def test_forget_makes_the_next_sighting_a_first_one() -> None:
    throttle = UpdateThrottle(0.5)
    throttle.due(1, T0)
    throttle.due(2, T0)
    throttle.forget([1, 99])
    assert throttle.due(1, T0 + MS)
    assert not throttle.due(2, T0 + MS)


@pytest.mark.parametrize("interval_s", [0.0, -1.0, math.nan, math.inf])
def test_invalid_interval(interval_s: float) -> None:
    with pytest.raises(ValueError, match="interval_s must be a positive number of seconds"):
        UpdateThrottle(interval_s)
