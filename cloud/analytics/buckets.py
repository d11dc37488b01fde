"""Time ranges and the site-local minute/hour/day buckets the analytics report in.

Storage keeps UTC (epoch ns for facts, epoch seconds of the UTC minute or hour start for
rollups); the operator reads local time. Bucket edges are computed once per query with
zoneinfo, so DST days have 23 or 25 hourly buckets and a local day is 23-25 hours long;
rows are then placed by bisection on those edges.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cloud.storage.rollups import QUARTER_S, Resolution

NS = 1_000_000_000
# Longer than any local day (DST makes them 23-25 h), shorter than two: adding it to a
# day's start always lands in the next day.
_DAY_STEP_S = 26 * 3600


class Bucket(StrEnum):
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"


def parse_bucket(value: str) -> Bucket:
    try:
        return Bucket(value)
    except ValueError:
        allowed = ", ".join(repr(b.value) for b in Bucket)
        raise ValueError(f"bucket must be one of {allowed}, got {value!r}") from None


def ceil_s(ns: int) -> int:
    """The first whole epoch second at or after `ns`."""
    return -(-ns // NS)


@dataclass(frozen=True)
class TimeRange:
    """Half-open [start_ns, end_ns) in epoch nanoseconds; start == end is an empty range."""

    start_ns: int
    end_ns: int

    def __post_init__(self) -> None:
        for name in ("start_ns", "end_ns"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"{name} must be an integer of epoch nanoseconds, got {value!r}")
        if self.end_ns < self.start_ns:
            raise ValueError(f"time range ends (end_ns={self.end_ns}) before it starts (start_ns={self.start_ns})")

    @property
    def empty(self) -> bool:
        return self.start_ns == self.end_ns

    def bucket_bounds_s(self) -> tuple[int, int]:
        """[lo, hi) of rollup `bucket_s` values whose bucket starts inside the range.

        A rollup row belongs to the range its start falls in, so adjacent ranges never
        count a row twice; ranges aligned to the rollup's resolution lose nothing.
        """
        return ceil_s(self.start_ns), ceil_s(self.end_ns)


@dataclass(frozen=True)
class RollupPiece:
    """Rows of one rollup resolution whose bucket starts in [lo_s, hi_s)."""

    resolution: Resolution
    lo_s: int
    hi_s: int


def _nonempty(pieces: list[RollupPiece]) -> tuple[RollupPiece, ...]:
    return tuple(p for p in pieces if p.lo_s < p.hi_s)


class LocalBuckets:
    """The site-local buckets overlapping a range, and which one a UTC instant falls in."""

    def __init__(self, span: TimeRange, bucket: str, timezone: str) -> None:
        self.bucket = parse_bucket(bucket)
        try:
            self.tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {timezone!r} (an IANA name such as 'Europe/London')") from None
        self.starts_s: tuple[int, ...] = () if span.empty else self._starts(span)

    def _floor(self, epoch_s: int) -> int:
        """Epoch seconds of the start of the local hour or day holding `epoch_s`."""
        local = datetime.fromtimestamp(epoch_s, self.tz)
        if self.bucket is Bucket.HOUR:
            # replace() keeps `fold`, so the repeated hour of a DST fall-back stays distinct.
            local = local.replace(minute=0, second=0, microsecond=0)
        else:
            # A midnight skipped by DST resolves (fold=0) to the instant the day begins.
            local = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return int(local.timestamp())

    def _starts(self, span: TimeRange) -> tuple[int, ...]:
        first_s = span.start_ns // NS
        if self.bucket is Bucket.MINUTE:
            # Offsets are whole minutes: local minutes are UTC minutes, no zoneinfo needed.
            return tuple(range(first_s - first_s % 60, ceil_s(span.end_ns), 60))
        step = 3600 if self.bucket is Bucket.HOUR else _DAY_STEP_S
        starts = [self._floor(first_s)]
        while (nxt := self._floor(starts[-1] + step)) * NS < span.end_ns:
            starts.append(nxt)
        return tuple(starts)

    def cover(self, span: TimeRange) -> tuple[RollupPiece, ...]:
        """The coarsest rollup rows that exactly make up the range, as time-ordered pieces.

        Each piece's rows start in [lo_s, hi_s) and fall wholly inside one bucket: whole
        local days (day buckets only), then UTC quarter hours (never a minute bucket),
        then minutes at the ragged edges.
        """
        lo, hi = span.bucket_bounds_s()
        if self.bucket is Bucket.MINUTE or lo >= hi:
            return _nonempty([RollupPiece(Resolution.MINUTE, lo, hi)])
        q_lo, q_hi = -(-lo // QUARTER_S) * QUARTER_S, hi // QUARTER_S * QUARTER_S
        if q_lo >= q_hi:
            return _nonempty([RollupPiece(Resolution.MINUTE, lo, hi)])
        d_lo = d_hi = q_hi
        if self.bucket is Bucket.DAY:
            edges = [*self.starts_s, self._floor(self.starts_s[-1] + _DAY_STEP_S)]
            whole = [(s, e) for s, e in pairwise(edges) if s >= q_lo and e <= q_hi]
            if whole:
                d_lo, d_hi = whole[0][0], whole[-1][1]
        return _nonempty(
            [
                RollupPiece(Resolution.MINUTE, lo, q_lo),
                RollupPiece(Resolution.QUARTER, q_lo, d_lo),
                RollupPiece(Resolution.DAY, d_lo, d_hi),
                RollupPiece(Resolution.QUARTER, d_hi, q_hi),
                RollupPiece(Resolution.MINUTE, q_hi, hi),
            ]
        )

    def __len__(self) -> int:
        return len(self.starts_s)

    def index(self, epoch_s: int) -> int:
        """Position of the bucket holding `epoch_s` (which must lie in the range)."""
        return bisect.bisect_right(self.starts_s, epoch_s) - 1

    def labels(self) -> tuple[datetime, ...]:
        """Bucket starts as aware datetimes in the site's timezone."""
        return tuple(datetime.fromtimestamp(s, self.tz) for s in self.starts_s)
