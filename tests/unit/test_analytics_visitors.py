"""Unique visitors per local day: stays across midnight, range clipping, the per-day tracklet fallback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from analytics_db import make_site, ns, sqlite_session
from sqlalchemy.orm import Session
from support.rollup_rows import add_visitors

from cloud.analytics.buckets import TimeRange
from cloud.analytics.visitors import unique_visitors
from cloud.storage.models import Tracklet, Visitor

VISITORS = [
    ("v1", "2024-06-01T10:00:00+01:00", "2024-06-01T11:00:00+01:00"),
    ("v2", "2024-06-01T23:30:00+01:00", "2024-06-02T00:30:00+01:00"),  # across midnight
    ("v3", "2024-06-02T12:00:00+01:00", "2024-06-02T12:05:00+01:00"),
    ("v4", "2024-10-26T23:50:00+01:00", "2024-10-27T00:10:00+01:00"),  # the night before the clocks go back
]
TRACKLETS = [
    # Ignored on 1 June (stitched visitors exist), counted on 3 June (none do).
    ("cam-a", 1, "2024-06-01T10:00:00+01:00", "2024-06-01T10:10:00+01:00"),
    ("cam-a", 2, "2024-06-03T09:00:00+01:00", "2024-06-03T09:10:00+01:00"),
    ("cam-b", 2, "2024-06-03T09:05:00+01:00", "2024-06-03T09:20:00+01:00"),
]


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    with sqlite_session(tmp_path) as s:
        add_visitors(
            s,
            "Europe/London",
            (
                Visitor(
                    site_id="mall", visitor_id=v, first_seen_ns=ns(a), last_seen_ns=ns(b), path=["cam-a"], tracklets=1
                )
                for v, a, b in VISITORS
            ),
        )
        s.add_all(
            Tracklet(
                site_id="mall",
                camera_id=c,
                track_id=t,
                first_seen_ns=ns(a),
                last_seen_ns=ns(b),
                observations=10,
                mean_confidence=0.9,
            )
            for c, t, a, b in TRACKLETS
        )
        s.commit()
        yield s


@pytest.mark.parametrize(
    ("start", "end", "days", "total"),
    [
        (
            "2024-06-01T00:00:00+01:00",
            "2024-06-04T00:00:00+01:00",
            [("2024-06-01", 2, "visitors"), ("2024-06-02", 2, "visitors"), ("2024-06-03", 2, "tracklets")],
            5,
        ),
        # The part of v2's stay before the range does not count.
        ("2024-06-02T00:00:00+01:00", "2024-06-03T00:00:00+01:00", [("2024-06-02", 2, "visitors")], 2),
        ("2024-06-01T00:00:00+01:00", "2024-06-01T23:45:00+01:00", [("2024-06-01", 2, "visitors")], 2),
        (
            "2024-10-26T00:00:00+01:00",
            "2024-10-28T00:00:00+00:00",
            [("2024-10-26", 1, "visitors"), ("2024-10-27", 1, "visitors")],
            1,
        ),
        ("2025-01-01T00:00:00+00:00", "2025-01-02T00:00:00+00:00", [("2025-01-01", 0, "tracklets")], 0),
        # Empty, at an instant v1 was present.
        ("2024-06-01T10:30:00+01:00", "2024-06-01T10:30:00+01:00", [], 0),
    ],
)
def test_visitors_count_on_each_local_day_they_are_present(
    session: Session, start: str, end: str, days: list[tuple[str, int, str]], total: int
) -> None:
    result = unique_visitors(session, make_site(), TimeRange(ns(start), ns(end)))
    assert [(d.day.date().isoformat(), d.visitors, d.source) for d in result.days] == days
    assert all(d.day.hour == 0 and d.day.minute == 0 for d in result.days)
    assert result.total == total
