"""A sequence report's totals: zones signed (what a dashboard sums) and absolute (what cannot cancel); lines
against the debounced reference and against plain geometry."""

from __future__ import annotations

import pytest

from edge.evaluation.metrics import TrackingScores
from edge.evaluation.sequence import FloorAccuracy, LineAccuracy, SequenceReport, ZoneAccuracy

SCORES = TrackingScores(*([0.0] * 10), *([0] * 7))


def _report(zones: list[tuple[int, int, float, float]], lines: list[LineAccuracy] | None = None) -> SequenceReport:
    """zones: (reference visits, predicted visits, reference person-s, predicted person-s)."""
    return SequenceReport(
        camera_id="cam",
        frames=10,
        fps=7.0,
        wall_s=0.0,
        tracking=SCORES,
        lines=lines or [],
        zones=[ZoneAccuracy(f"z{i}", rv, pv, None, None, rs, ps) for i, (rv, pv, rs, ps) in enumerate(zones)],
        floor=FloorAccuracy(0, None, None, None),
    )


@pytest.mark.parametrize(
    ("zones", "person_s", "person_s_abs", "visits", "visits_abs"),
    [
        # One zone: both totals are that zone's error.
        ([(10, 11, 100.0, 90.0)], -10.0, 10.0, 10.0, 10.0),
        # A surplus in one zone hides a shortfall in the other in the signed sum only.
        ([(10, 12, 100.0, 120.0), (10, 8, 100.0, 80.0)], 0.0, 20.0, 0.0, 20.0),
        # Weighted by each zone's reference: a busy zone counts for more than an empty one.
        ([(18, 18, 300.0, 330.0), (2, 3, 100.0, 100.0)], 7.5, 7.5, 5.0, 5.0),
        # Nothing to judge against.
        ([(0, 2, 0.0, 5.0)], None, None, None, None),
        ([], None, None, None, None),
    ],
)
def test_zone_totals(
    zones: list[tuple[int, int, float, float]],
    person_s: float | None,
    person_s_abs: float | None,
    visits: float | None,
    visits_abs: float | None,
) -> None:
    report = _report(zones)
    assert report.zones_person_seconds_error_pct == pytest.approx(person_s)
    assert report.zones_person_seconds_abs_error_pct == pytest.approx(person_s_abs)
    assert report.zones_visits_error_pct == pytest.approx(visits)
    assert report.zones_visits_abs_error_pct == pytest.approx(visits_abs)
    totals = report.as_dict()
    assert totals["zones_person_seconds_abs_error_pct"] == pytest.approx(person_s_abs)
    assert totals["zones_visits_abs_error_pct"] == pytest.approx(visits_abs)


def _line(reference: tuple[int, int], predicted: tuple[int, int], geometric: tuple[int, int]) -> LineAccuracy:
    def as_dict(pair: tuple[int, int]) -> dict[str, int]:
        return {"in": pair[0], "out": pair[1]}

    return LineAccuracy("l", as_dict(reference), as_dict(predicted), as_dict(geometric))


@pytest.mark.parametrize(
    ("lines", "accuracy", "geometric"),
    [
        # The debounce drops an out-and-back pair the ground truth's path made; the prediction agrees.
        ([_line((5, 5), (5, 5), (6, 6))], 1.0, 10 / 12),
        # The prediction counts that pair: right by geometry, wrong by the reference.
        ([_line((5, 5), (6, 6), (6, 6))], 0.8, 1.0),
        # Errors add over lines and directions.
        ([_line((10, 0), (9, 1), (10, 0)), _line((0, 10), (0, 10), (0, 10))], 0.9, 0.9),
        ([_line((0, 0), (1, 0), (0, 0))], None, None),
        ([], None, None),
    ],
)
def test_line_totals(lines: list[LineAccuracy], accuracy: float | None, geometric: float | None) -> None:
    report = _report([], lines)
    assert report.count_accuracy == pytest.approx(accuracy)
    assert report.geometric_count_accuracy == pytest.approx(geometric)
    assert report.as_dict()["geometric_count_accuracy"] == pytest.approx(geometric)
