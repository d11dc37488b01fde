"""Dwell per zone: completed visits entered in the range, numpy statistics, histogram bins."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from analytics_db import NS, make_site, ns, sqlite_session
from sqlalchemy.orm import Session

from cloud.analytics.buckets import TimeRange
from cloud.analytics.dwell import dwell
from cloud.storage.models import ZoneVisit

T0 = ns("2024-06-01T10:00:00+01:00")
SPAN = TimeRange(T0, T0 + 3600 * NS)
VISITS = [
    # zone, track, entered (s after T0), dwell s or None while open
    ("food", 1, 0, 5.0),
    ("food", 2, 10, 15.0),
    ("food", 3, 20, 45.0),
    ("food", 4, 30, 4000.0),  # exits after the range: entered inside, so it counts
    ("food", 5, 40, None),  # still inside
    ("food", 6, -1, 7.0),  # entered before the range
    ("food", 7, 3600, 7.0),  # entered at the range end
    ("shops", 8, 50, 100.0),
    ("removed", 9, 50, 100.0),  # not a configured zone
]
FOOD = np.array([5.0, 15.0, 45.0, 4000.0])


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    with sqlite_session(tmp_path) as s:
        s.add_all(
            ZoneVisit(
                site_id="mall",
                camera_id="cam-a",
                zone_id=z,
                track_id=t,
                entered_ns=T0 + e * NS,
                exited_ns=None if d is None else T0 + e * NS + round(d * NS),
                dwell_s=d,
            )
            for z, t, e, d in VISITS
        )
        s.commit()
        yield s


def test_statistics_per_zone(session: Session) -> None:
    report = dwell(session, make_site(), SPAN)
    food, shops, empty = report.zones
    assert (food.zone_id, food.visits) == ("food", 4)
    assert (food.mean_s, food.median_s, food.p90_s, food.max_s) == pytest.approx(
        (FOOD.mean(), np.median(FOOD), np.percentile(FOOD, 90), 4000.0)
    )
    assert report.bin_edges_s == (0.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
    assert food.histogram == (1, 1, 1, 0, 0, 0, 0, 0, 1)
    assert (shops.visits, shops.mean_s, shops.p90_s, shops.histogram[3]) == (1, 100.0, 100.0, 1)
    # A zone nobody visited: counted as zero, no statistics.
    assert (empty.zone_id, empty.visits, empty.mean_s, empty.median_s, empty.p90_s, empty.max_s) == (
        "empty",
        0,
        None,
        None,
        None,
        None,
    )
    assert empty.histogram == (0,) * 9


@pytest.mark.parametrize(("edges", "histogram"), [((0, 60), (3, 1)), ((0.0, 5.0, 3600), (0, 3, 1))])
def test_custom_bins(session: Session, edges: Sequence[float], histogram: tuple[int, ...]) -> None:
    assert dwell(session, make_site(), SPAN, edges).zones[0].histogram == histogram


def test_empty_range(session: Session) -> None:
    assert all(z.visits == 0 for z in dwell(session, make_site(), TimeRange(T0, T0)).zones)


@pytest.mark.parametrize(
    ("edges", "message"),
    [
        ((), "must start at 0 seconds"),
        ((1.0, 2.0), "must start at 0 seconds"),
        ((0.0, 0.0), "strictly increasing"),
        ((0.0, 10.0, 5.0), "strictly increasing"),
        ((0.0, float("inf")), "finite"),
    ],
)
def test_invalid_bins(session: Session, edges: Sequence[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dwell(session, make_site(), SPAN, edges)
