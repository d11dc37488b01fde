"""Occupancy: live counts, history peaks carried through quiet buckets, operator rebase."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from analytics_db import make_site, ns, seconds, sqlite_session
from sqlalchemy.orm import Session
from support.rollup_rows import add_occupancy_rows

from cloud.analytics.buckets import TimeRange
from cloud.analytics.occupancy import OccupancyNow, live_occupancy, occupancy_history, rebase
from cloud.storage.models import Occupancy, OccupancyMinute, OccupancyQuarter

MINUTES = [
    # scope, id, UTC minute, max, last
    ("zone", "food", "2024-06-01T09:58:00+00:00", 4, 3),  # before the ranges below
    ("zone", "food", "2024-06-01T10:05:00+00:00", 5, 2),
    ("zone", "food", "2024-06-01T10:30:00+00:00", 2, 1),
    ("zone", "food", "2024-06-01T12:10:00+00:00", 6, 0),
    ("site", "mall", "2024-06-01T10:00:00+00:00", 40, 40),
]


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    with sqlite_session(tmp_path) as s:
        add_occupancy_rows(s, "Europe/London", (("mall", sc, i, seconds(t), m, la) for sc, i, t, m, la in MINUTES))
        for live in (
            Occupancy(site_id="mall", scope="site", scope_id="mall", count=40, updated_ns=7),
            Occupancy(site_id="mall", scope="zone", scope_id="food", count=0, updated_ns=8),
            Occupancy(site_id="mall", scope="zone", scope_id="removed", count=3, updated_ns=9),
        ):
            s.merge(live)
        s.commit()
        yield s


def test_live_occupancy_lists_every_configured_zone(session: Session) -> None:
    live = live_occupancy(session, make_site())
    assert live.site == OccupancyNow("site", "mall", 40, 7)
    assert live.zones == (
        OccupancyNow("zone", "food", 0, 8),
        OccupancyNow("zone", "shops", 0, None),
        OccupancyNow("zone", "empty", 0, None),
    )


@pytest.mark.parametrize(
    ("start", "end", "bucket", "food", "site"),
    [
        # 10h: carried 3, then 5; 11h: quiet, the last count (1) carries; 12h: 6.
        ("2024-06-01T10:00:00+00:00", "2024-06-01T13:00:00+00:00", "hour", (5, 1, 6), (40, 40, 40)),
        ("2024-06-01T10:04:00+00:00", "2024-06-01T10:07:00+00:00", "minute", (3, 5, 2), (40, 40, 40)),
        ("2024-06-01T00:00:00+01:00", "2024-06-02T00:00:00+01:00", "day", (6,), (40,)),
        ("2024-06-01T09:00:00+00:00", "2024-06-01T09:30:00+00:00", "hour", (0,), (0,)),
        ("2024-06-01T10:00:00+00:00", "2024-06-01T10:00:00+00:00", "hour", (), ()),
    ],
)
def test_history_peaks_carry_the_count_through_quiet_buckets(
    session: Session, start: str, end: str, bucket: str, food: tuple[int, ...], site: tuple[int, ...]
) -> None:
    history = occupancy_history(session, make_site(), TimeRange(ns(start), ns(end)), bucket)
    peaks = {z.scope_id: z.peaks for z in history.zones}
    assert (peaks["food"], history.site.peaks) == (food, site)
    assert peaks["shops"] == peaks["empty"] == (0,) * len(food) == (0,) * len(history.buckets)


def test_rebase_sets_the_live_count_and_the_history_carries_it(session: Session) -> None:
    site = make_site()
    now = ns("2024-06-01T12:30:10+00:00")
    assert rebase(session, make_site(), "zone", "food", 4, now_ns=now) == OccupancyNow("zone", "food", 4, now)
    session.commit()
    assert live_occupancy(session, site).zones[0] == OccupancyNow("zone", "food", 4, now)
    span = TimeRange(ns("2024-06-01T12:00:00+00:00"), ns("2024-06-01T14:00:00+00:00"))
    assert occupancy_history(session, site, span, "hour").zones[0].peaks == (6, 4)


def test_rebase_into_a_minute_with_a_higher_peak_keeps_the_peak(session: Session) -> None:
    rebase(session, make_site(), "zone", "food", 1, now_ns=ns("2024-06-01T10:05:30+00:00"))
    session.commit()
    for model, start in (
        (OccupancyMinute, "2024-06-01T10:05:00+00:00"),
        (OccupancyQuarter, "2024-06-01T10:00:00+00:00"),
    ):
        row = session.get(model, ("mall", "zone", "food", seconds(start)))
        assert row is not None and (row.max_count, row.last_count) == (5, 1)


@pytest.mark.parametrize(
    ("scope", "scope_id", "count", "message"),
    [
        ("zone", "food", -1, "occupancy count must be a non-negative integer, got -1"),
        ("zone", "food", 1.5, "occupancy count must be a non-negative integer, got 1.5"),
        ("zone", "food", True, "occupancy count must be a non-negative integer, got True"),
        ("floor", "ground", 1, "scope must be one of site, zone, got 'floor'"),
        ("site", "food", 1, "the site scope's id is the site id 'mall', got 'food'"),
    ],
)
def test_rebase_rejects(session: Session, scope: str, scope_id: str, count: int, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        rebase(session, make_site(), scope, scope_id, count)
    assert session.get(Occupancy, ("mall", "zone", "food")).count == 0  # type: ignore[union-attr]
