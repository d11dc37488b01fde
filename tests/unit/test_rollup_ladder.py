"""The rollup ladder: which rows answer a range, and that they answer as the minute rows would.

References are computed straight from the minute rows (every minute placed in its local
bucket), on random data around DST changes in timezones with 30 and 45 minute offsets.
"""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

import pytest
import sqlalchemy as sa
from analytics_db import NS, make_site, ns, seconds, sqlite_session
from sqlalchemy import func, select
from support.rollup_rows import add_footfall_rows, add_occupancy_rows, add_visitors

from cloud.analytics.buckets import LocalBuckets, RollupPiece, TimeRange
from cloud.analytics.footfall import footfall
from cloud.analytics.occupancy import occupancy_history
from cloud.analytics.visitors import unique_visitors
from cloud.storage import create_db_engine, session_factory, upgrade
from cloud.storage.migrate import downgrade
from cloud.storage.models import FootfallDay, FootfallMinute, OccupancyMinute, Visitor, VisitorsDay
from cloud.storage.rollups import Resolution, count_visitor_days
from cloud.storage.sites import sync_sites

M, Q, D = Resolution.MINUTE, Resolution.QUARTER, Resolution.DAY


@pytest.mark.parametrize(
    ("start", "end", "bucket", "timezone", "expected"),
    [
        # Whole local days: one day piece.
        ("2024-06-01T00:00:00+01:00", "2024-06-03T00:00:00+01:00", "day", "Europe/London", [(D, 0, 172800)]),
        # Ragged both ends: minutes, whole days, quarters, minutes.
        (
            "2024-06-01T00:00:00+01:00",
            "2024-06-02T00:20:00+01:00",
            "day",
            "Europe/London",
            [(D, 0, 86400), (Q, 86400, 87300), (M, 87300, 87600)],
        ),
        (
            "2024-05-31T23:50:00+01:00",
            "2024-06-02T00:00:00+01:00",
            "day",
            "Europe/London",
            [(M, 0, 600), (D, 600, 87000)],
        ),
        # Hours never use day rows.
        ("2024-06-01T00:00:00+01:00", "2024-06-02T00:00:00+01:00", "hour", "Europe/London", [(Q, 0, 86400)]),
        (
            "2024-06-01T00:07:00+01:00",
            "2024-06-01T00:37:30+01:00",
            "hour",
            "Europe/London",
            [(M, 0, 480), (Q, 480, 1380), (M, 1380, 1830)],
        ),
        # Minutes are only ever minute rows; inside one quarter too.
        ("2024-06-01T00:00:00+01:00", "2024-06-01T02:00:00+01:00", "minute", "Europe/London", [(M, 0, 7200)]),
        ("2024-06-01T00:01:00+01:00", "2024-06-01T00:14:00+01:00", "day", "Europe/London", [(M, 0, 780)]),
        # A day the range only partly covers is quarters, not a day row.
        ("2024-06-01T06:00:00+01:00", "2024-06-02T06:00:00+01:00", "day", "Europe/London", [(Q, 0, 86400)]),
        # The 25-hour day of the clocks going back is one day piece.
        ("2024-10-27T00:00:00+01:00", "2024-10-28T00:00:00+00:00", "day", "Europe/London", [(D, 0, 90000)]),
        # Kathmandu is UTC+5:45: its midnights are quarter edges in UTC.
        ("2024-06-01T00:00:00+05:45", "2024-06-02T00:00:00+05:45", "day", "Asia/Kathmandu", [(D, 0, 86400)]),
        ("2024-06-01T00:00:00+01:00", "2024-06-01T00:00:00+01:00", "day", "Europe/London", []),
    ],
)
def test_cover(start: str, end: str, bucket: str, timezone: str, expected: list[tuple[Resolution, int, int]]) -> None:
    """Pieces as seconds from the range's start."""
    span = TimeRange(ns(start), ns(end))
    t0 = seconds(start)
    pieces = LocalBuckets(span, bucket, timezone).cover(span)
    assert pieces == tuple(RollupPiece(r, t0 + lo, t0 + hi) for r, lo, hi in expected)


ZONES = ["Europe/London", "Asia/Kathmandu", "America/St_Johns"]
# Around the autumn clock change in both hemispheres' DST zones used here.
FIRST_S = seconds("2024-10-25T00:00:00+00:00")
LAST_S = seconds("2024-11-06T00:00:00+00:00")


def _random_rows(
    rng: random.Random,
) -> tuple[list[tuple[str, str, str, int, int]], list[tuple[str, str, str, int, int, int]]]:
    minutes = sorted(rng.sample(range(FIRST_S // 60, LAST_S // 60), 600))
    footfall_rows = [
        ("mall", rng.choice(["door", "passage"]), rng.choice(["in", "out"]), m * 60, rng.randint(1, 5)) for m in minutes
    ]
    occupancy_rows = []
    level = 0
    for m in minutes:
        level = max(0, level + rng.randint(-3, 3))
        occupancy_rows.append(("mall", "zone", "food", m * 60, level + rng.randint(0, 2), level))
    return footfall_rows, occupancy_rows


def _random_span(rng: random.Random) -> TimeRange:
    a, b = sorted(rng.randrange(FIRST_S, LAST_S) for _ in range(2))
    # Some ranges on whole local hours or days, most ragged.
    return TimeRange(a * NS + rng.choice([0, 1, 500_000_000]), b * NS)


@pytest.mark.parametrize("timezone", ZONES)
def test_ladder_answers_as_the_minute_rows(tmp_path: Path, timezone: str) -> None:
    rng = random.Random(timezone)
    footfall_rows, occupancy_rows = _random_rows(rng)
    site = make_site(timezone=timezone)
    with sqlite_session(tmp_path) as session:
        add_footfall_rows(session, timezone, footfall_rows)
        add_occupancy_rows(session, timezone, occupancy_rows)
        sync_sites(session, [site])
        session.commit()
        spans = [_random_span(rng) for _ in range(40)]
        spans += [TimeRange(ns("2024-10-26T00:00:00+00:00"), ns("2024-11-02T00:00:00+00:00"))]
        for span in spans:
            for bucket in ("minute", "hour", "day"):
                buckets = LocalBuckets(span, bucket, timezone)
                if len(buckets) > 2000:
                    continue
                assert _series(footfall(session, site, span, bucket, all_lines=True)) == _footfall_reference(
                    footfall_rows, span, buckets
                ), (span, bucket)
                food = occupancy_history(session, site, span, bucket).zones[0]
                assert food.peaks == _occupancy_reference(occupancy_rows, span, buckets), (span, bucket)


def _series(result: object) -> dict[tuple[str, str], tuple[int, ...]]:
    return {(s.line_id, s.direction): s.counts for s in result.series if s.total}  # type: ignore[attr-defined]


def _footfall_reference(
    rows: list[tuple[str, str, str, int, int]], span: TimeRange, buckets: LocalBuckets
) -> dict[tuple[str, str], tuple[int, ...]]:
    lo, hi = span.bucket_bounds_s()
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * len(buckets))
    for _, line, direction, at_s, n in rows:
        if lo <= at_s < hi:
            counts[(line, direction)][buckets.index(at_s)] += n
    return {k: tuple(v) for k, v in counts.items()}


def _occupancy_reference(
    rows: list[tuple[str, str, str, int, int, int]], span: TimeRange, buckets: LocalBuckets
) -> tuple[int, ...]:
    lo, hi = span.bucket_bounds_s()
    level = max((r for r in rows if r[3] < lo), key=lambda r: r[3], default=None)
    carried = level[5] if level else 0
    peaks = []
    for i in range(len(buckets)):
        inside = [r for r in rows if lo <= r[3] < hi and buckets.index(r[3]) == i]
        peaks.append(max([carried, *(max(r[4], r[5]) for r in inside)]))
        carried = inside[-1][5] if inside else carried
    return tuple(peaks)


def test_a_new_timezone_rekeys_the_day_rows(tmp_path: Path) -> None:
    rng = random.Random(7)
    footfall_rows, occupancy_rows = _random_rows(rng)
    with sqlite_session(tmp_path) as session:
        sync_sites(session, [make_site(timezone="Europe/London")])
        add_footfall_rows(session, "Europe/London", footfall_rows)
        add_occupancy_rows(session, "Europe/London", occupancy_rows)
        add_visitors(
            session,
            "Europe/London",
            [
                Visitor(
                    site_id="mall",
                    visitor_id="late",
                    first_seen_ns=ns("2024-10-28T23:30:00+00:00"),
                    last_seen_ns=ns("2024-10-28T23:40:00+00:00"),
                    path=["cam-a"],
                    tracklets=1,
                )
            ],
        )
        session.commit()
        moved = make_site(timezone="Asia/Kathmandu")
        sync_sites(session, [moved])
        session.commit()
        span = TimeRange(ns("2024-10-26T00:00:00+05:45"), ns("2024-11-04T00:00:00+05:45"))
        buckets = LocalBuckets(span, "day", "Asia/Kathmandu")
        assert _series(footfall(session, moved, span, "day", all_lines=True)) == _footfall_reference(
            footfall_rows, span, buckets
        )
        assert occupancy_history(session, moved, span, "day").zones[0].peaks == _occupancy_reference(
            occupancy_rows, span, buckets
        )
        # 23:30 in London is 05:15 the next day in Kathmandu.
        per_day = {d.day.date().isoformat(): d.visitors for d in unique_visitors(session, moved, span).days}
        assert per_day["2024-10-29"] == 1 and sum(per_day.values()) - per_day["2024-10-29"] == 0
        assert session.scalar(select(func.sum(FootfallDay.count))) == sum(r[4] for r in footfall_rows)


@pytest.mark.parametrize(
    ("stays", "expected"),
    [
        # A new visitor counts on each day its stay touches.
        ([(None, ("2024-06-01T23:30:00+01:00", "2024-06-02T00:30:00+01:00"))], {"2024-06-01": 1, "2024-06-02": 1}),
        # A stay that grows counts only on the days it newly reaches.
        (
            [
                (None, ("2024-06-01T10:00:00+01:00", "2024-06-01T11:00:00+01:00")),
                (
                    ("2024-06-01T10:00:00+01:00", "2024-06-01T11:00:00+01:00"),
                    ("2024-06-01T10:00:00+01:00", "2024-06-02T00:10:00+01:00"),
                ),
            ],
            {"2024-06-01": 1, "2024-06-02": 1},
        ),
        (
            [
                (
                    ("2024-06-01T10:00:00+01:00", "2024-06-01T11:00:00+01:00"),
                    ("2024-06-01T09:00:00+01:00", "2024-06-01T12:00:00+01:00"),
                )
            ],
            {},
        ),
    ],
)
def test_count_visitor_days(
    tmp_path: Path, stays: list[tuple[tuple[str, str] | None, tuple[str, str]]], expected: dict[str, int]
) -> None:
    with sqlite_session(tmp_path) as session:
        count_visitor_days(
            session,
            "mall",
            "Europe/London",
            [((ns(b[0]), ns(b[1])) if b else None, (ns(a[0]), ns(a[1]))) for b, a in stays],
        )
        rows = session.execute(select(VisitorsDay.day_s, VisitorsDay.visitors)).all()
    got = {
        LocalBuckets(TimeRange(d * NS, d * NS + 1), "day", "Europe/London").labels()[0].date().isoformat(): n
        for d, n in rows
    }
    assert got == expected


def test_migration_rolls_up_the_rows_already_stored(tmp_path: Path) -> None:
    """A database with minute rows and visitors from before the ladder answers the same after 0004."""
    rng = random.Random(11)
    footfall_rows, occupancy_rows = _random_rows(rng)
    site = make_site(timezone="America/St_Johns")
    stays = [(f"v{i}", a, a + rng.randint(60, 7200)) for i, a in enumerate(rng.sample(range(FIRST_S, LAST_S), 50))]

    def visitors() -> list[Visitor]:
        return [
            Visitor(
                site_id="mall", visitor_id=v, first_seen_ns=a * NS, last_seen_ns=b * NS, path=["cam-a"], tracklets=1
            )
            for v, a, b in stays
        ]

    answers = []
    for name, old in (("written", False), ("migrated", True)):
        url = f"sqlite:///{tmp_path / name}.db"
        upgrade(url, "0003" if old else "head")
        with session_factory(create_db_engine(url))() as session:
            sync_sites(session, [site])
            if old:
                session.add_all(
                    FootfallMinute(site_id=s, line_id=ln, direction=d, bucket_s=b, count=n)
                    for s, ln, d, b, n in footfall_rows
                )
                session.add_all(
                    OccupancyMinute(site_id=s, scope=sc, scope_id=i, bucket_s=b, max_count=m, last_count=la)
                    for s, sc, i, b, m, la in occupancy_rows
                )
                # Core, not the ORM: the models have columns a 0003 database lacks (staff, from 0005).
                columns = ("site_id", "visitor_id", "first_seen_ns", "last_seen_ns", "path", "tracklets")
                session.execute(
                    sa.table("visitors", *(sa.column(c) for c in columns)).insert(),
                    [{c: getattr(v, c) for c in columns} | {"path": '["cam-a"]'} for v in visitors()],
                )
            else:
                add_footfall_rows(session, site.site.timezone, footfall_rows)
                add_occupancy_rows(session, site.site.timezone, occupancy_rows)
                add_visitors(session, site.site.timezone, visitors())
            session.commit()
        if old:
            upgrade(url)
        with session_factory(create_db_engine(url))() as session:
            span = TimeRange(FIRST_S * NS, LAST_S * NS)
            answers.append(
                [
                    footfall(session, site, span, "day", all_lines=True),
                    occupancy_history(session, site, span, "day"),
                    unique_visitors(session, site, span),
                    # From a local midnight: the total from the day rollup's arrivals (0009).
                    unique_visitors(session, site, TimeRange(ns("2024-10-26T00:00:00-02:30"), LAST_S * NS)),
                ]
            )
        downgrade(url, "0003")
        upgrade(url)
    assert answers[0] == answers[1]
    assert answers[0][2].total == 50
    assert answers[0][3].total == sum(1 for _, _, b in stays if b * NS >= ns("2024-10-26T00:00:00-02:30"))


@pytest.mark.parametrize("timezone", ["Europe/London", "America/St_Johns", "Asia/Kathmandu"])
def test_unique_visitors_of_ranges_from_a_midnight_equal_a_count_of_the_stays(tmp_path: Path, timezone: str) -> None:
    """Such ranges take their total from the day rollup (first day's visitors + later arrivals):
    it must count exactly the stays that meet the range, with stays growing later and earlier
    (stitching moves first_seen back when an earlier tracklet joins) across DST changes."""
    rng = random.Random(5)
    site = make_site(timezone=timezone)
    with sqlite_session(tmp_path) as session:
        sync_sites(session, [site])
        stays: dict[str, tuple[int, int]] = {}
        for i in range(300):
            first = rng.randrange(FIRST_S, LAST_S) * NS
            stays[f"v{i}"] = (first, first + rng.randint(60, 30 * 3600) * NS)
            count_visitor_days(session, "mall", timezone, [(None, stays[f"v{i}"])])
        for v in rng.sample(sorted(stays), 100):
            before = stays[v]
            stays[v] = (before[0] - rng.randint(0, 40 * 3600) * NS, before[1] + rng.randint(0, 20 * 3600) * NS)
            count_visitor_days(session, "mall", timezone, [(before, stays[v])])
        session.add_all(
            Visitor(site_id="mall", visitor_id=v, first_seen_ns=a, last_seen_ns=b, path=["cam-a"], tracklets=1)
            for v, (a, b) in stays.items()
        )
        session.commit()
        midnights = LocalBuckets(TimeRange(FIRST_S * NS, LAST_S * NS), "day", timezone).starts_s
        for _ in range(60):
            start = rng.choice(midnights) * NS
            end = start + rng.randint(1, 8 * 86400) * NS
            if rng.random() < 0.3:
                end = rng.choice(midnights) * NS
            if end <= start:
                continue
            expected = sum(1 for a, b in stays.values() if b >= start and a < end)
            assert unique_visitors(session, site, TimeRange(start, end)).total == expected, (start, end)
