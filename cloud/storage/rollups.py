"""The rollup ladder: footfall and occupancy kept at minute, quarter-hour and site-local day.

Every UTC offset and DST change in use is a multiple of 15 minutes, so a UTC quarter hour
never straddles a local hour or day edge: a local hour is four quarter rows, a local day
one day row, and a range of any length is answered from a handful of coarse rows plus
the minute rows at its ragged edges. The three levels are written together, in the
transaction of the batch whose events they count, so they always agree.

Day rows are keyed by the epoch second of the local midnight in the site's timezone
when they were written; `rebuild_days` recomputes them from the quarter rows when a
site's timezone changes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cloud.storage.bulk import RowSet, writer_for
from cloud.storage.models import (
    FootfallDay,
    FootfallMinute,
    FootfallQuarter,
    OccupancyDay,
    OccupancyMinute,
    OccupancyQuarter,
    Visitor,
    VisitorsDay,
)

QUARTER_S = 900
NS = 1_000_000_000
_FOOTFALL_COLUMNS = ("site_id", "line_id", "direction", "bucket_s", "count")
_OCCUPANCY_COLUMNS = ("site_id", "scope", "scope_id", "bucket_s", "max_count", "last_count")


class Resolution(StrEnum):
    MINUTE = "minute"
    QUARTER = "quarter"
    DAY = "day"


FOOTFALL: Mapping[Resolution, type[FootfallMinute | FootfallQuarter | FootfallDay]] = {
    Resolution.MINUTE: FootfallMinute,
    Resolution.QUARTER: FootfallQuarter,
    Resolution.DAY: FootfallDay,
}
OCCUPANCY: Mapping[Resolution, type[OccupancyMinute | OccupancyQuarter | OccupancyDay]] = {
    Resolution.MINUTE: OccupancyMinute,
    Resolution.QUARTER: OccupancyQuarter,
    Resolution.DAY: OccupancyDay,
}


@lru_cache(maxsize=4096)
def _local_midnight_s(timezone: str, quarter_s: int) -> int:
    local = datetime.fromtimestamp(quarter_s, ZoneInfo(timezone))
    # A midnight skipped by DST resolves (fold=0) to the instant the day begins.
    return int(local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp())


def _minute_s(epoch_s: int) -> int:
    return epoch_s - epoch_s % 60


def bucket_start_s(resolution: Resolution, epoch_s: int, timezone: str) -> int:
    """Start (epoch seconds) of the bucket of `resolution` holding `epoch_s`."""
    if resolution is Resolution.MINUTE:
        return _minute_s(epoch_s)
    quarter = epoch_s - epoch_s % QUARTER_S
    # A quarter lies inside one local day, so the day is looked up per quarter and cached.
    return quarter if resolution is Resolution.QUARTER else _local_midnight_s(timezone, quarter)


@dataclass(frozen=True)
class FootfallCount:
    site_id: str
    line_id: str
    direction: str
    time_s: int
    count: int


@dataclass(frozen=True)
class OccupancyLevel:
    """A live count as it was at `time_s`; `peak` is the highest it reached since the previous level."""

    site_id: str
    scope: str
    scope_id: str
    time_s: int
    peak: int
    count: int


def add_footfall(
    session: Session,
    timezone_of: Mapping[str, str],
    counts: Iterable[FootfallCount],
    levels: Iterable[Resolution] = tuple(Resolution),
) -> None:
    """Add crossings to the levels of the footfall ladder (all of them unless told)."""
    # Summed per minute first: a batch's crossings fall in a few minutes, so the coarser
    # levels add up those sums instead of looking every crossing up again.
    minutes: dict[tuple[str, str, str, int], int] = defaultdict(int)
    for c in counts:
        minutes[(c.site_id, c.line_id, c.direction, _minute_s(c.time_s))] += c.count
    writer = writer_for(session)
    for resolution in levels:
        per_bucket: dict[tuple[str, str, str, int], int] = defaultdict(int)
        for (site_id, line_id, direction, minute_s), n in minutes.items():
            per_bucket[(site_id, line_id, direction, bucket_start_s(resolution, minute_s, timezone_of[site_id]))] += n
        writer.increment(
            RowSet.of(FOOTFALL[resolution], _FOOTFALL_COLUMNS, [(*k, n) for k, n in per_bucket.items()]), ["count"]
        )


def record_occupancy(session: Session, timezone_of: Mapping[str, str], levels: Iterable[OccupancyLevel]) -> None:
    """Record live counts, in time order, at every level of the occupancy ladder."""
    # Per minute first (a batch's levels fall in a few minutes), each minute kept in the
    # order of its last level, so that the coarser buckets built from the minutes take the
    # last level given as their last count.
    minutes: dict[tuple[str, str, str, int], tuple[int, int]] = {}
    for lv in levels:
        key = (lv.site_id, lv.scope, lv.scope_id, _minute_s(lv.time_s))
        before = minutes.pop(key, None)
        peak = max(lv.peak, lv.count) if before is None else max(before[0], lv.peak, lv.count)
        minutes[key] = (peak, lv.count)
    writer = writer_for(session)
    for resolution in Resolution:
        per_bucket: dict[tuple[str, str, str, int], tuple[int, int]] = {}
        for (site_id, scope, scope_id, minute_s), (peak, last) in minutes.items():
            key = (site_id, scope, scope_id, bucket_start_s(resolution, minute_s, timezone_of[site_id]))
            before = per_bucket.get(key)
            per_bucket[key] = (peak if before is None else max(before[0], peak), last)
        rows = [(*k, *v) for k, v in per_bucket.items()]
        writer.upsert_peak(RowSet.of(OCCUPANCY[resolution], _OCCUPANCY_COLUMNS, rows))


def local_days(timezone: str, first_s: int, last_s: int) -> range:
    """Proleptic ordinals of the local days that [first_s, last_s] touches (see `day_start_s`)."""
    return range(_day_number(timezone, first_s), _day_number(timezone, last_s) + 1)


def _day_number(timezone: str, epoch_s: int) -> int:
    return datetime.fromtimestamp(epoch_s, ZoneInfo(timezone)).date().toordinal()


def day_start_s(timezone: str, day_number: int) -> int:
    """Epoch seconds of the local midnight starting the day with this proleptic ordinal."""
    day = date.fromordinal(day_number)
    return int(datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(timezone)).timestamp())


def count_visitor_days(
    session: Session, site_id: str, timezone: str, stays: Iterable[tuple[tuple[int, int] | None, tuple[int, int]]]
) -> None:
    """Count visitors on the local days their stays newly touch, and on the day they arrived.

    Each stay is (before, after) as [first, last] epoch ns: before is None for a new
    visitor, else the stay before it grew; only days in after and not in before count. A
    stay that grew back to an earlier day moves its arrival there.
    """
    added: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for before, after in stays:
        old = local_days(timezone, before[0] // NS, before[1] // NS) if before else range(0)
        new = local_days(timezone, after[0] // NS, after[1] // NS)
        for day in new:
            if day not in old:
                added[day_start_s(timezone, day)][0] += 1
        # A stay's first day is the one it arrived on.
        arrived, was = new.start, old.start if before else None
        if arrived != was:
            added[day_start_s(timezone, arrived)][1] += 1
            if was is not None:
                added[day_start_s(timezone, was)][1] -= 1
    writer_for(session).increment(
        RowSet.of(
            VisitorsDay,
            ("site_id", "day_s", "visitors", "arrivals"),
            [(site_id, d, n, a) for d, (n, a) in added.items()],
        ),
        ["visitors", "arrivals"],
    )


def rebuild_days(session: Session, site_id: str, timezone: str) -> None:
    """Recompute a site's local-day rows for a (new) timezone, from quarter rows and visitors."""
    for model in (FootfallDay, OccupancyDay, VisitorsDay):
        session.execute(delete(model).where(model.site_id == site_id))
    stays = session.execute(select(Visitor.first_seen_ns, Visitor.last_seen_ns).where(Visitor.site_id == site_id))
    count_visitor_days(session, site_id, timezone, ((None, (first, last)) for first, last in stays))
    footfall = session.execute(
        select(
            FootfallQuarter.line_id, FootfallQuarter.direction, FootfallQuarter.bucket_s, FootfallQuarter.count
        ).where(FootfallQuarter.site_id == site_id)
    )
    add_footfall(
        session,
        {site_id: timezone},
        (FootfallCount(site_id, ln, d, b, n) for ln, d, b, n in footfall),
        levels=(Resolution.DAY,),
    )
    occupancy = session.execute(
        select(
            OccupancyQuarter.scope,
            OccupancyQuarter.scope_id,
            OccupancyQuarter.bucket_s,
            OccupancyQuarter.max_count,
            OccupancyQuarter.last_count,
        )
        .where(OccupancyQuarter.site_id == site_id)
        .order_by(OccupancyQuarter.scope, OccupancyQuarter.scope_id, OccupancyQuarter.bucket_s)
    )
    days: dict[tuple[str, str, int], tuple[int, int]] = {}
    for scope, scope_id, bucket_s, peak, last in occupancy:
        key = (scope, scope_id, bucket_start_s(Resolution.DAY, bucket_s, timezone))
        days[key] = (max(days.get(key, (0, 0))[0], peak), last)
    writer_for(session).upsert_peak(
        RowSet.of(OccupancyDay, _OCCUPANCY_COLUMNS, [(site_id, *k, *v) for k, v in days.items()])
    )
