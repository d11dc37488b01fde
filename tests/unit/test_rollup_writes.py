"""The rollup writers sum a batch per minute first; every level must still hold what writing
each crossing and each level into each bucket one by one gives (the reference below), in
the order given: several levels in one minute, levels out of time order, across a DST change."""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

import pytest
from analytics_db import seconds, sqlite_session
from sqlalchemy import select

from cloud.storage.rollups import (
    FOOTFALL,
    OCCUPANCY,
    FootfallCount,
    OccupancyLevel,
    Resolution,
    add_footfall,
    bucket_start_s,
    record_occupancy,
)

TIMEZONES = {"mall": "Europe/London", "annex": "Asia/Kathmandu"}
# 2024-10-27 01:00 UTC: London's clocks go back.
CHANGE_S = seconds("2024-10-27T01:00:00+00:00")


def _footfall_reference(counts: list[FootfallCount], resolution: Resolution) -> dict[tuple[object, ...], int]:
    out: dict[tuple[object, ...], int] = defaultdict(int)
    for c in counts:
        out[(c.site_id, c.line_id, c.direction, bucket_start_s(resolution, c.time_s, TIMEZONES[c.site_id]))] += c.count
    return dict(out)


def _occupancy_reference(
    levels: list[OccupancyLevel], resolution: Resolution
) -> dict[tuple[object, ...], tuple[int, int]]:
    out: dict[tuple[object, ...], tuple[int, int]] = {}
    for lv in levels:
        key = (lv.site_id, lv.scope, lv.scope_id, bucket_start_s(resolution, lv.time_s, TIMEZONES[lv.site_id]))
        peak, _ = out.get(key, (0, 0))
        out[key] = (max(peak, lv.peak, lv.count), lv.count)
    return out


def _levels(rng: random.Random, n: int, spread_s: int, shuffled: bool) -> list[OccupancyLevel]:
    times = sorted(CHANGE_S - spread_s // 2 + rng.randrange(spread_s) for _ in range(n))
    if shuffled:
        rng.shuffle(times)
    levels = []
    for t in times:
        count = rng.randint(0, 9)
        levels.append(
            OccupancyLevel(
                rng.choice(["mall", "annex"]), rng.choice(["site", "zone"]), rng.choice(["a", "b"]), t, count, count
            )
        )
    return levels


@pytest.mark.parametrize(
    ("n", "spread_s", "shuffled"),
    [
        (1, 60, False),  # one level
        (40, 50, False),  # many levels in one or two minutes
        (200, 3 * 3600, False),  # a few hours across the clock change
        (200, 3 * 3600, True),  # levels out of time order: the last given is the last count
        (300, 3 * 86400, True),  # several local days
    ],
)
def test_occupancy_levels_land_as_one_by_one(tmp_path: Path, n: int, spread_s: int, shuffled: bool) -> None:
    levels = _levels(random.Random(n + spread_s), n, spread_s, shuffled)
    with sqlite_session(tmp_path) as session:
        record_occupancy(session, TIMEZONES, levels)
        for resolution, model in OCCUPANCY.items():
            stored = {
                (r.site_id, r.scope, r.scope_id, r.bucket_s): (r.max_count, r.last_count)
                for r in session.scalars(select(model))
            }
            assert stored == _occupancy_reference(levels, resolution), resolution


@pytest.mark.parametrize(
    ("n", "spread_s", "levels"),
    [
        (1, 60, tuple(Resolution)),
        (60, 50, tuple(Resolution)),
        (300, 3 * 86400, tuple(Resolution)),
        (300, 3 * 86400, (Resolution.DAY,)),  # rebuild_days writes days only
    ],
)
def test_footfall_counts_land_as_one_by_one(
    tmp_path: Path, n: int, spread_s: int, levels: tuple[Resolution, ...]
) -> None:
    rng = random.Random(n)
    counts = [
        FootfallCount(
            rng.choice(["mall", "annex"]),
            rng.choice(["door", "passage"]),
            rng.choice(["in", "out"]),
            CHANGE_S - spread_s // 2 + rng.randrange(spread_s),
            rng.randint(1, 3),
        )
        for _ in range(n)
    ]
    with sqlite_session(tmp_path) as session:
        add_footfall(session, TIMEZONES, counts, levels)
        for resolution, model in FOOTFALL.items():
            stored = {(r.site_id, r.line_id, r.direction, r.bucket_s): r.count for r in session.scalars(select(model))}
            assert stored == (_footfall_reference(counts, resolution) if resolution in levels else {}), resolution
