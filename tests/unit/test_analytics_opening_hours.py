"""Footfall, visitors and dwell within and outside opening hours, on the embedded SQLite (the scene and
its expected figures: tests/support/opening_hours_scene.py; PostgreSQL runs the same table)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from support import opening_hours_scene as scene

from cloud.analytics.buckets import TimeRange
from cloud.analytics.dwell import dwell
from cloud.analytics.footfall import footfall
from cloud.analytics.hours import Hours, Window, WindowLookup, closed_intervals_ns, open_intervals_ns, parse_hours
from cloud.analytics.visitors import unique_visitors
from cloud.storage import create_db_engine, session_factory, upgrade

SITE = scene.make_site()


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    url = f"sqlite:///{tmp_path_factory.mktemp('hours') / 'hours.db'}"
    upgrade(url)
    engine = create_db_engine(url)
    with session_factory(engine).begin() as s:
        scene.load(s, SITE)
    with session_factory(engine)() as s:
        yield s
    engine.dispose()


@pytest.mark.parametrize("case", scene.FOOTFALL_CASES, ids=lambda c: c.name)
def test_footfall(session: Session, case: scene.FootfallCase) -> None:
    scene.run_footfall(session, SITE, case)


@pytest.mark.parametrize("case", scene.VISITORS_CASES, ids=lambda c: c.name)
def test_visitors(session: Session, case: scene.VisitorsCase) -> None:
    scene.run_visitors(session, SITE, case)


@pytest.mark.parametrize("case", scene.DWELL_CASES, ids=lambda c: c.name)
def test_dwell(session: Session, case: scene.DwellCase) -> None:
    scene.run_dwell(session, SITE, case)


def test_a_site_without_opening_hours_is_always_open(session: Session) -> None:
    """The same data under a site without opening hours: open is everything, outside nothing,
    and the default (all) answers as before opening hours existed."""
    plain = scene.make_site(opening_hours=None)
    week = scene.WEEK
    assert open_intervals_ns(plain, week) == [(week.start_ns, week.end_ns)]
    assert closed_intervals_ns(plain, week) == []
    ff = footfall(session, plain, week, "day", hours=Hours.OPEN)
    assert (ff.total_in, ff.total_out) == (86, 21)
    assert ff.outside_hours is not None and (ff.outside_hours.total_in, ff.outside_hours.total_out) == (0, 0)
    default = footfall(session, plain, week, "day")
    assert (default.hours, default.outside_hours, default.open_periods) == (Hours.ALL, None, ())
    visitors = unique_visitors(session, plain, week, hours=Hours.OPEN)
    assert visitors.total == 11 and visitors.outside_hours is not None and visitors.outside_hours.total == 0
    assert dwell(session, plain, week).hours is Hours.ALL


def test_open_periods_are_reported_in_site_time(session: Session) -> None:
    ff = footfall(session, SITE, scene.SUNDAY, "hour", hours=Hours.OPEN)
    assert [(p.start.isoformat(), p.end.isoformat()) for p in ff.open_periods] == [
        ("2026-10-25T00:00:00+01:00", "2026-10-25T01:30:00+00:00"),
        ("2026-10-25T11:00:00+00:00", "2026-10-25T17:00:00+00:00"),
    ]


def test_a_long_range_by_day_uses_day_rows_for_whole_open_days(session: Session) -> None:
    """A site open around the clock for 400 days: each open day is one window on the day
    rollup, and the figures equal those around the clock."""
    always = scene.make_site({"weekly": dict.fromkeys(scene.OPENING_HOURS["weekly"], "00:00-24:00")})
    span = TimeRange(scene.ns("2026-01-01T00:00:00+00:00"), scene.ns("2027-02-05T00:00:00+00:00"))
    opened = footfall(session, always, span, "day", hours=Hours.OPEN)
    whole = footfall(session, always, span, "day")
    assert opened.series == whole.series and (opened.total_in, opened.total_out) == (86, 21)
    assert len(opened.open_periods) == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [("open", Hours.OPEN), ("outside", Hours.OUTSIDE), ("all", Hours.ALL), ("closed", "hours must be one of")],
)
def test_parse_hours(text: str, expected: Hours | str) -> None:
    if isinstance(expected, Hours):
        assert parse_hours(text) is expected
    else:
        with pytest.raises(ValueError, match=expected):
            parse_hours(text)


def _row(out: str, measure: str) -> str:
    line = next((ln for ln in out.splitlines() if f" {measure} " in ln), None)
    assert line is not None, f"no row {measure!r} in\n{out}"
    return line.split("│")[2].strip()


def test_the_terminal_report_is_within_opening_hours_with_the_rest_beside(
    session: Session, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cloud.cli.report_cmd import print_site_report

    # Wide enough that no row wraps.
    monkeypatch.setenv("COLUMNS", "200")
    print_site_report(session, SITE, scene.WEEK, "week")
    out = capsys.readouterr().out
    assert _row(out, "footfall door in (opening hours)") == "41"
    assert _row(out, "footfall door in (outside hours)") == "45"
    assert _row(out, "unique visitors (opening hours)") == "6 (tracklets, visitors)"
    assert _row(out, "unique visitors (outside hours)") == "5 (seen only then)"
    assert _row(out, "dwell food (outside hours)") == "3 visits"

    print_site_report(session, scene.make_site(opening_hours=None), scene.WEEK, "week")
    out = capsys.readouterr().out
    assert _row(out, "footfall door in") == "86" and "hours)" not in out


# Two adjacent windows (one run in SQL), a gap, and a window given out of order.
LOOKUP = WindowLookup([Window(100, 200, 0), Window(200, 300, 1), Window(500, 600, 3), Window(400, 450, 2)])


@pytest.mark.parametrize(
    ("t", "index"),
    [(99, None), (100, 0), (199, 0), (200, 1), (299, 1), (300, None), (420, 2), (450, None), (599, 3), (600, None)],
)
def test_window_lookup_finds_the_window_a_time_falls_in(t: int, index: int | None) -> None:
    assert LOOKUP.index_of(t) == index


def test_window_lookup_covers_adjacent_windows_as_one_range() -> None:
    sql = str(LOOKUP.covers(sa.column("t", sa.BigInteger)).compile(compile_kwargs={"literal_binds": True}))
    assert sql == "t >= 100 AND t < 300 OR t >= 400 AND t < 450 OR t >= 500 AND t < 600"


def test_window_lookup_needs_windows() -> None:
    with pytest.raises(ValueError, match="no windows"):
        WindowLookup([])
