"""Footfall on hand-built rollup rows: DST days in Europe/London, line selection, empty and invalid input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from analytics_db import make_site, ns, seconds, sqlite_session
from sqlalchemy.orm import Session
from support.rollup_rows import add_footfall_rows

from cloud.analytics.buckets import TimeRange
from cloud.analytics.footfall import footfall

ROWS = [
    # line, direction, UTC minute, count
    ("door", "in", "2024-03-30T23:30:00+00:00", 2),  # 23:30 GMT, Sat 30th
    ("door", "in", "2024-03-31T00:30:00+00:00", 3),  # 00:30 GMT, Sun 31st
    ("door", "out", "2024-03-31T01:30:00+00:00", 1),  # 02:30 BST
    ("door", "in", "2024-03-31T22:59:00+00:00", 4),  # 23:59 BST, still Sunday
    ("door", "in", "2024-03-31T23:00:00+00:00", 5),  # 00:00 BST, Monday
    ("passage", "in", "2024-03-31T12:00:00+00:00", 7),  # not an entrance
    ("old-door", "out", "2024-03-31T12:00:00+00:00", 8),  # no longer configured
    ("door", "in", "2024-10-27T00:30:00+00:00", 10),  # 01:30 BST
    ("door", "in", "2024-10-27T01:30:00+00:00", 20),  # 01:30 GMT, an hour later
]


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    with sqlite_session(tmp_path) as s:
        add_footfall_rows(s, "Europe/London", (("mall", ln, d, seconds(t), n) for ln, d, t, n in ROWS))
        add_footfall_rows(s, "Europe/London", [("other", "door", "in", seconds(ROWS[1][2]), 99)])
        s.commit()
        yield s


@pytest.mark.parametrize(
    ("start", "end", "bucket", "expected"),
    [
        (
            "2024-03-30T00:00:00+00:00",
            "2024-04-02T00:00:00+01:00",
            "day",
            {
                ("door", "in"): {
                    "2024-03-30T00:00:00+00:00": 2,
                    "2024-03-31T00:00:00+00:00": 7,
                    "2024-04-01T00:00:00+01:00": 5,
                },
                ("door", "out"): {"2024-03-31T00:00:00+00:00": 1},
            },
        ),
        (
            "2024-03-31T00:00:00+00:00",
            "2024-04-01T00:00:00+01:00",
            "hour",
            {
                ("door", "in"): {"2024-03-31T00:00:00+00:00": 3, "2024-03-31T23:00:00+01:00": 4},
                ("door", "out"): {"2024-03-31T02:00:00+01:00": 1},
            },
        ),
        (
            "2024-10-27T00:00:00+01:00",
            "2024-10-28T00:00:00+00:00",
            "hour",
            {("door", "in"): {"2024-10-27T01:00:00+01:00": 10, "2024-10-27T01:00:00+00:00": 20}},
        ),
        (
            "2024-10-27T00:00:00+01:00",
            "2024-10-28T00:00:00+00:00",
            "day",
            {("door", "in"): {"2024-10-27T00:00:00+01:00": 30}},
        ),
        (
            "2024-03-31T01:30:00+00:00",
            "2024-03-31T01:32:00+00:00",
            "minute",
            {("door", "out"): {"2024-03-31T02:30:00+01:00": 1}},
        ),
    ],
)
def test_buckets_are_local_and_dst_correct(
    session: Session, start: str, end: str, bucket: str, expected: dict[tuple[str, str], dict[str, int]]
) -> None:
    result = footfall(session, make_site(), TimeRange(ns(start), ns(end)), bucket)
    labels = [b.isoformat() for b in result.buckets]
    got = {
        (s.line_id, s.direction): {labels[i]: n for i, n in enumerate(s.counts) if n} for s in result.series if s.total
    }
    assert got == expected
    assert [(s.line_id, s.direction) for s in result.series] == [("door", "in"), ("door", "out")]
    assert result.total_in == sum(sum(v.values()) for (_, d), v in expected.items() if d == "in")


def test_all_lines_include_internal_and_unconfigured_lines(session: Session) -> None:
    span = TimeRange(ns("2024-03-31T00:00:00+00:00"), ns("2024-04-01T00:00:00+01:00"))
    result = footfall(session, make_site(), span, "day", all_lines=True)
    totals = {(s.line_id, s.direction): s.total for s in result.series}
    assert totals == {
        ("door", "in"): 7,
        ("door", "out"): 1,
        ("passage", "in"): 7,
        ("passage", "out"): 0,
        ("old-door", "out"): 8,
    }
    assert (result.total_in, result.total_out) == (14, 9)


@pytest.mark.parametrize("bucket", ["minute", "hour", "day"])
def test_empty_range(session: Session, bucket: str) -> None:
    at = ns("2024-03-31T00:30:00+00:00")
    result = footfall(session, make_site(), TimeRange(at, at), bucket)
    assert result.buckets == () and (result.total_in, result.total_out) == (0, 0)
    assert all(s.counts == () for s in result.series)


def test_range_without_rows_has_zero_buckets(session: Session) -> None:
    span = TimeRange(ns("2025-01-01T00:00:00+00:00"), ns("2025-01-02T00:00:00+00:00"))
    result = footfall(session, make_site(), span, "hour")
    assert len(result.buckets) == 24 and all(s.counts == (0,) * 24 for s in result.series)


def test_invalid_bucket(session: Session) -> None:
    with pytest.raises(ValueError, match="bucket must be one of 'minute', 'hour', 'day', got 'week'"):
        footfall(session, make_site(), TimeRange(0, 1), "week")
