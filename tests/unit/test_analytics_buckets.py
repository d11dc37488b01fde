"""Site-local buckets: DST days in Europe/London, empty and invalid ranges, invalid bucket names."""

from __future__ import annotations

import re

import pytest
from analytics_db import NS, ns, seconds

from cloud.analytics.buckets import LocalBuckets, TimeRange

CASES = [
    # Spring forward: the local day has 23 hours, 01:00 never happens.
    ("Europe/London", "2024-03-31T00:00:00+00:00", "2024-03-31T23:00:00+00:00", "hour", 23, "2024-03-31T00:00:00+00:00", "2024-03-31T23:00:00+01:00"),
    # Fall back: 25 hours, 01:00 twice (BST, then GMT).
    ("Europe/London", "2024-10-26T23:00:00+00:00", "2024-10-28T00:00:00+00:00", "hour", 25, "2024-10-27T00:00:00+01:00", "2024-10-27T23:00:00+00:00"),
    ("Europe/London", "2024-03-30T00:00:00+00:00", "2024-04-02T00:00:00+01:00", "day", 3, "2024-03-30T00:00:00+00:00", "2024-04-01T00:00:00+01:00"),
    ("Europe/London", "2024-10-26T23:00:00+00:00", "2024-10-28T00:00:00+00:00", "day", 1, "2024-10-27T00:00:00+01:00", "2024-10-27T00:00:00+01:00"),
    # An unaligned range still gets the whole buckets it overlaps.
    ("Europe/London", "2024-06-01T10:30:00+01:00", "2024-06-01T12:00:01+01:00", "hour", 3, "2024-06-01T10:00:00+01:00", "2024-06-01T12:00:00+01:00"),
    ("Asia/Kolkata", "2024-06-01T00:00:00+05:30", "2024-06-01T02:00:00+05:30", "hour", 2, "2024-06-01T00:00:00+05:30", "2024-06-01T01:00:00+05:30"),
    ("UTC", "2024-06-01T00:00:30+00:00", "2024-06-01T00:03:00+00:00", "minute", 3, "2024-06-01T00:00:00+00:00", "2024-06-01T00:02:00+00:00"),
]  # fmt: skip


@pytest.mark.parametrize(("timezone", "start", "end", "bucket", "n", "first", "last"), CASES)
def test_local_buckets(timezone: str, start: str, end: str, bucket: str, n: int, first: str, last: str) -> None:
    buckets = LocalBuckets(TimeRange(ns(start), ns(end)), bucket, timezone)
    labels = buckets.labels()
    assert len(buckets) == len(labels) == n
    assert (labels[0].isoformat(), labels[-1].isoformat()) == (first, last)
    assert labels[0].tzinfo is not None and str(labels[0].tzinfo) == timezone


@pytest.mark.parametrize(
    ("instant", "index"),
    [
        ("2024-10-27T00:59:59+01:00", 0),
        ("2024-10-27T01:00:00+01:00", 1),
        ("2024-10-27T01:59:59+01:00", 1),
        # The second 01:00 is its own bucket.
        ("2024-10-27T01:00:00+00:00", 2),
        ("2024-10-27T23:59:59+00:00", 24),
    ],
)
def test_instant_falls_in_its_local_hour(instant: str, index: int) -> None:
    day = TimeRange(ns("2024-10-27T00:00:00+01:00"), ns("2024-10-28T00:00:00+00:00"))
    assert LocalBuckets(day, "hour", "Europe/London").index(seconds(instant)) == index


@pytest.mark.parametrize("bucket", ["minute", "hour", "day"])
def test_empty_range_has_no_buckets(bucket: str) -> None:
    at = ns("2024-06-01T10:30:00+00:00")
    assert LocalBuckets(TimeRange(at, at), bucket, "Europe/London").labels() == ()


@pytest.mark.parametrize(
    ("start_ns", "end_ns", "lo", "hi"),
    [(0, 0, 0, 0), (1, NS, 1, 1), (60 * NS, 120 * NS + 1, 60, 121), (-NS - 1, -1, -1, 0)],
)
def test_rollup_rows_belong_to_the_range_their_start_is_in(start_ns: int, end_ns: int, lo: int, hi: int) -> None:
    assert TimeRange(start_ns, end_ns).bucket_bounds_s() == (lo, hi)


@pytest.mark.parametrize(
    ("start_ns", "end_ns", "message"),
    [
        (10, 9, "ends (end_ns=9) before it starts (start_ns=10)"),
        (1.5, 9, "start_ns must be an integer"),
        (1, True, "end_ns must be an integer"),
    ],
)
def test_invalid_range(start_ns: int, end_ns: int, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        TimeRange(start_ns, end_ns)


@pytest.mark.parametrize("bucket", ["week", "Hour", ""])
def test_invalid_bucket(bucket: str) -> None:
    with pytest.raises(ValueError, match=f"bucket must be one of 'minute', 'hour', 'day', got '{bucket}'"):
        LocalBuckets(TimeRange(0, 1), bucket, "UTC")


def test_unknown_timezone() -> None:
    with pytest.raises(ValueError, match="unknown timezone 'Mars/Olympus'"):
        LocalBuckets(TimeRange(0, 1), "day", "Mars/Olympus")
