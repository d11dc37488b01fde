"""A mall with opening hours, and traffic inside, outside and on the edges of them, around the
night the clocks go back in London (Sunday 25 October 2026: 02:00 BST -> 01:00 GMT).

Hours: Monday-Friday 10:00-21:00, Saturday 10:00-01:30 (the cinema: until 01:30 on Sunday,
the second 01:30 that night), Sunday 11:00-17:00; Monday 26 October a bank holiday (closed).
The cases below say what footfall, visitors and dwell must report for each choice of hours;
SQLite (tests/unit) and PostgreSQL (tests/integration) run the same table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from cloud.analytics.buckets import TimeRange
from cloud.analytics.dwell import dwell
from cloud.analytics.footfall import footfall
from cloud.analytics.hours import Hours
from cloud.analytics.visitors import unique_visitors
from cloud.storage import create_db_engine, session_factory, upgrade
from cloud.storage.models import LineCrossing, Tracklet, Visitor, ZoneVisit
from cloud.storage.sites import sync_sites
from shared.config import SiteConfig, parse_site_config
from support.rollup_rows import add_footfall_rows, add_visitors

NS = 1_000_000_000
TZ = "Europe/London"
TRIANGLE = [[0, 0], [100, 0], [100, 100]]
OPENING_HOURS: dict[str, Any] = {
    "weekly": {
        "monday": "10:00-21:00",
        "tuesday": "10:00-21:00",
        "wednesday": "10:00-21:00",
        "thursday": "10:00-21:00",
        "friday": "10:00-21:00",
        "saturday": "10:00-01:30",
        "sunday": "11:00-17:00",
    },
    "exceptions": [{"date": "2026-10-26", "hours": "closed", "name": "Bank holiday"}],
}


def make_site(opening_hours: dict[str, Any] | None = OPENING_HOURS, site_id: str = "mall") -> SiteConfig:
    raw: dict[str, Any] = {
        "site": {"id": site_id, "timezone": TZ},
        "floors": [{"id": "ground"}],
        "cameras": [
            {"id": "cam-a", "source": "/dev/null", "floor": "ground"},
            {"id": "cam-b", "source": "/dev/null", "floor": "ground"},
        ],
        "lines": [
            {"id": "door", "camera": "cam-a", "points": [[0, 50], [100, 50]]},
            {"id": "passage", "camera": "cam-b", "points": [[0, 50], [100, 50]], "entrance": False},
        ],
        "zones": [{"id": "food", "camera": "cam-a", "polygon": TRIANGLE}],
    }
    if opening_hours is not None:
        raw["opening_hours"] = opening_hours
    return parse_site_config(raw)


def ns(iso: str) -> int:
    when = datetime.fromisoformat(iso)
    assert when.tzinfo is not None, iso
    return int(when.timestamp()) * NS


# (line, direction, when, count, staff)
CROSSINGS = [
    ("door", "in", "2026-10-24T09:58:00+01:00", 1, True),  # staff, before opening
    ("door", "in", "2026-10-24T09:59:00+01:00", 1, False),  # before opening
    ("door", "in", "2026-10-24T10:00:00+01:00", 2, False),  # the opening minute
    ("door", "in", "2026-10-24T10:05:00+01:00", 1, True),  # staff, open
    ("door", "out", "2026-10-24T23:59:00+01:00", 3, False),
    ("door", "in", "2026-10-25T00:30:00+01:00", 4, False),  # Sunday, in Saturday's night
    ("door", "in", "2026-10-25T01:15:00+01:00", 5, False),  # the first 01:15
    ("door", "in", "2026-10-25T01:15:00+00:00", 6, False),  # the second 01:15: still open
    ("door", "in", "2026-10-25T01:30:00+00:00", 7, False),  # closed at the second 01:30
    ("door", "out", "2026-10-25T10:59:00+00:00", 8, False),
    ("door", "in", "2026-10-25T11:00:00+00:00", 9, False),
    ("door", "out", "2026-10-25T16:59:00+00:00", 10, False),
    ("door", "in", "2026-10-25T17:00:00+00:00", 11, False),
    ("door", "in", "2026-10-26T12:00:00+00:00", 12, False),  # bank holiday
    ("door", "in", "2026-10-27T20:59:00+00:00", 14, False),
    ("door", "in", "2026-10-27T21:00:00+00:00", 13, False),
    ("passage", "in", "2026-10-27T12:00:00+00:00", 50, False),  # internal: only with all_lines
]
# (visitor, first seen, last seen, staff)
VISITORS = [
    ("v1", "2026-10-24T09:00:00+01:00", "2026-10-24T09:30:00+01:00", False),  # gone before opening
    ("v2", "2026-10-24T09:50:00+01:00", "2026-10-24T10:10:00+01:00", False),  # waited for the doors
    ("v3", "2026-10-24T23:50:00+01:00", "2026-10-25T00:40:00+01:00", False),  # Saturday night: open both days
    ("v4", "2026-10-25T01:40:00+00:00", "2026-10-25T02:00:00+00:00", False),  # after the late close
    ("v5", "2026-10-26T12:00:00+00:00", "2026-10-26T12:30:00+00:00", False),  # bank holiday
    ("v6", "2026-10-27T20:30:00+00:00", "2026-10-27T21:30:00+00:00", False),  # stayed past closing
    ("v7", "2026-10-27T08:00:00+00:00", "2026-10-27T09:00:00+00:00", True),  # staff, early
    ("v8", "2026-10-25T12:00:00+00:00", "2026-10-25T12:30:00+00:00", True),  # staff, open
]
# Wednesday 28th has no stitched visitors: its day is counted from tracklets. (camera, track, first, last)
TRACKLETS = [
    ("cam-a", 901, "2026-10-28T09:00:00+00:00", "2026-10-28T09:10:00+00:00"),  # before opening
    ("cam-b", 902, "2026-10-28T12:00:00+00:00", "2026-10-28T12:05:00+00:00"),
    ("cam-a", 903, "2026-10-28T20:55:00+00:00", "2026-10-28T21:10:00+00:00"),  # over closing time
]
# (entered, dwell seconds, staff): zone food.
VISITS = [
    ("2026-10-24T09:59:00+01:00", 30.0, False),
    ("2026-10-24T10:00:00+01:00", 60.0, False),
    ("2026-10-25T01:20:00+00:00", 10.0, False),  # the second 01:20: open
    ("2026-10-25T01:31:00+00:00", 20.0, False),
    ("2026-10-26T12:00:00+00:00", 40.0, False),
    ("2026-10-27T12:00:00+00:00", 50.0, True),
]


def load(session: Session, site: SiteConfig) -> None:
    sync_sites(session, [site])
    sid = site.site.id
    add_footfall_rows(session, TZ, [(sid, line, d, ns(t) // NS, n) for line, d, t, n, _ in CROSSINGS])
    for seq, (line, d, t, n, staff) in enumerate(CROSSINGS):
        for k in range(n):
            session.add(
                LineCrossing(
                    site_id=sid,
                    camera_id="cam-a",
                    seq=seq * 100 + k,
                    line_id=line,
                    direction=d,
                    track_id=seq,
                    event_ns=ns(t) + k * NS,
                    staff=staff,
                )
            )
    add_visitors(
        session,
        TZ,
        [
            Visitor(
                site_id=sid,
                visitor_id=v,
                first_seen_ns=ns(a),
                last_seen_ns=ns(b),
                path=["cam-a"],
                tracklets=1,
                staff=staff,
            )
            for v, a, b, staff in VISITORS
        ],
    )
    for cam, track, a, b in TRACKLETS:
        session.add(
            Tracklet(
                site_id=sid,
                camera_id=cam,
                track_id=track,
                first_seen_ns=ns(a),
                last_seen_ns=ns(b),
                observations=10,
                mean_confidence=0.9,
            )
        )
    for track, (t, seconds, staff) in enumerate(VISITS):
        session.add(
            ZoneVisit(
                site_id=sid,
                camera_id="cam-a",
                zone_id="food",
                track_id=track,
                entered_ns=ns(t),
                exited_ns=ns(t) + int(seconds * NS),
                dwell_s=seconds,
                staff=staff,
            )
        )


def span(start: str, end: str) -> TimeRange:
    return TimeRange(ns(start), ns(end))


WEEK = span("2026-10-24T00:00:00+01:00", "2026-10-29T00:00:00+00:00")  # Saturday to Wednesday, 5 local days
SUNDAY = span("2026-10-25T00:00:00+01:00", "2026-10-26T00:00:00+00:00")  # 25 hours


@dataclass(frozen=True)
class FootfallCase:
    name: str
    span: TimeRange
    bucket: str
    hours: Hours
    exclude_staff: bool
    all_lines: bool
    # (total in, total out) of the figures, and of outside_hours (None: no such block).
    totals: tuple[int, int]
    outside: tuple[int, int] | None
    # door in per bucket, as {bucket index: count}, of the figures and of outside_hours.
    door_in: dict[int, int]
    door_in_outside: dict[int, int] | None


FOOTFALL_CASES = [
    FootfallCase("week by day", WEEK, "day", Hours.OPEN, False, False, (41, 13), (45, 8),
                 {0: 3, 1: 24, 3: 14}, {0: 2, 1: 18, 2: 12, 3: 13}),
    FootfallCase("week by day, outside", WEEK, "day", Hours.OUTSIDE, False, False, (45, 8), None,
                 {0: 2, 1: 18, 2: 12, 3: 13}, None),
    FootfallCase("week by day, all", WEEK, "day", Hours.ALL, False, False, (86, 21), None,
                 {0: 5, 1: 42, 2: 12, 3: 27}, None),
    FootfallCase("week by day, no staff", WEEK, "day", Hours.OPEN, True, False, (40, 13), (44, 8),
                 {0: 2, 1: 24, 3: 14}, {0: 1, 1: 18, 2: 12, 3: 13}),
    # Hours of the week: Saturday h -> h; Sunday 00 BST 24, 01 BST 25, 01 GMT 26, h GMT 25 + h;
    # Monday h -> 49 + h; Tuesday h -> 73 + h. The passage (50 in, Tuesday noon) counts too.
    FootfallCase("week by hour, every line", WEEK, "hour", Hours.OPEN, False, True, (91, 13), (45, 8),
                 {10: 3, 24: 4, 25: 5, 26: 6, 36: 9, 93: 14}, {9: 2, 26: 7, 42: 11, 61: 12, 94: 13}),
    # The DST day in hours: 00:00 BST, 01:00 BST, 01:00 GMT (open until 01:30), 02:00 GMT...
    FootfallCase("Sunday by hour", SUNDAY, "hour", Hours.OPEN, False, False, (24, 10), (18, 8),
                 {0: 4, 1: 5, 2: 6, 12: 9}, {2: 7, 18: 11}),
    FootfallCase("the second 01:00 hour by minute", span("2026-10-25T01:00:00+00:00", "2026-10-25T02:00:00+00:00"),
                 "minute", Hours.OPEN, False, False, (6, 0), (7, 0), {15: 6}, {30: 7}),
    # Ranges cut inside a minute: a row counts where its minute starts (09:59 is left out of the first).
    FootfallCase("cut at 09:59:30", span("2026-10-24T09:59:30+01:00", "2026-10-24T10:05:30+01:00"), "minute",
                 Hours.OPEN, False, False, (3, 0), (0, 0), {1: 2, 6: 1}, {}),
    FootfallCase("cut at 09:58:30", span("2026-10-24T09:58:30+01:00", "2026-10-24T10:05:30+01:00"), "minute",
                 Hours.OPEN, True, False, (2, 0), (1, 0), {2: 2}, {1: 1}),
    FootfallCase("empty range", span("2026-10-24T12:00:00+01:00", "2026-10-24T12:00:00+01:00"), "hour",
                 Hours.OPEN, False, False, (0, 0), (0, 0), {}, {}),
]  # fmt: skip


def door_in(result: Any) -> dict[int, int]:
    series = next(s for s in result if s.line_id == "door" and s.direction == "in")
    return {i: n for i, n in enumerate(series.counts) if n}


def run_footfall(session: Session, site: SiteConfig, case: FootfallCase) -> None:
    """Check one case, and that within + outside opening hours is the whole, bucket by bucket."""
    got = footfall(
        session,
        site,
        case.span,
        case.bucket,
        all_lines=case.all_lines,
        exclude_staff=case.exclude_staff,
        hours=case.hours,
    )
    assert got.hours is case.hours
    assert (got.total_in, got.total_out) == case.totals, case.name
    assert door_in(got.series) == case.door_in, case.name
    if case.outside is None:
        assert got.outside_hours is None
    else:
        assert got.outside_hours is not None
        assert (got.outside_hours.total_in, got.outside_hours.total_out) == case.outside, case.name
        if case.door_in_outside is not None:
            assert door_in(got.outside_hours.series) == case.door_in_outside, case.name
        whole = footfall(
            session,
            site,
            case.span,
            case.bucket,
            all_lines=case.all_lines,
            exclude_staff=case.exclude_staff,
            hours=Hours.ALL,
        )
        assert [(s.line_id, s.direction) for s in got.series] == [(s.line_id, s.direction) for s in whole.series]
        for a, b, w in zip(got.series, got.outside_hours.series, whole.series, strict=True):
            assert [x + y for x, y in zip(a.counts, b.counts, strict=True)] == list(w.counts), (case.name, w.line_id)


@dataclass(frozen=True)
class VisitorsCase:
    name: str
    span: TimeRange
    hours: Hours
    exclude_staff: bool
    # per day, total; and of outside_hours (None: no such block)
    days: list[int]
    total: int
    outside_days: list[int] | None
    outside_total: int | None


VISITORS_CASES = [
    VisitorsCase("week", WEEK, Hours.OPEN, False, [2, 2, 0, 1, 2], 6, [1, 1, 1, 1, 1], 5),
    VisitorsCase("week, outside", WEEK, Hours.OUTSIDE, False, [1, 1, 1, 1, 1], 5, None, None),
    VisitorsCase("week, all", WEEK, Hours.ALL, False, [3, 3, 1, 2, 3], 11, None, None),
    VisitorsCase("week, no staff", WEEK, Hours.OPEN, True, [2, 1, 0, 1, 2], 5, [1, 1, 1, 0, 1], 4),
    # Cut ranges: only the part of a stay inside the range counts.
    VisitorsCase("Saturday 10:00 to Sunday 00:20",
                 span("2026-10-24T10:00:00+01:00", "2026-10-25T00:20:00+01:00"), Hours.OPEN, False,
                 [2, 1], 2, [0, 0], 0),
    VisitorsCase("Saturday 09:00 to 10:00", span("2026-10-24T09:00:00+01:00", "2026-10-24T10:00:00+01:00"),
                 Hours.OPEN, False, [0], 0, [2], 2),
    VisitorsCase("empty range", span("2026-10-24T12:00:00+01:00", "2026-10-24T12:00:00+01:00"), Hours.OPEN, False,
                 [], 0, [], 0),
]  # fmt: skip


def run_visitors(session: Session, site: SiteConfig, case: VisitorsCase) -> None:
    got = unique_visitors(session, site, case.span, exclude_staff=case.exclude_staff, hours=case.hours)
    assert got.hours is case.hours
    assert ([d.visitors for d in got.days], got.total) == (case.days, case.total), case.name
    if case.outside_days is None:
        assert got.outside_hours is None
        return
    assert got.outside_hours is not None
    outside = got.outside_hours
    assert ([d.visitors for d in outside.days], outside.total) == (case.outside_days, case.outside_total), case.name
    whole = unique_visitors(session, site, case.span, exclude_staff=case.exclude_staff)
    assert [a.visitors + b.visitors for a, b in zip(got.days, outside.days, strict=True)] == [
        d.visitors for d in whole.days
    ]
    assert [d.source for d in got.days] == [d.source for d in whole.days]
    assert got.total + outside.total == whole.total


@dataclass(frozen=True)
class DwellCase:
    name: str
    span: TimeRange
    hours: Hours
    exclude_staff: bool
    # (visits, mean, max) of food, and of outside_hours
    food: tuple[int, float | None, float | None]
    outside: tuple[int, float | None, float | None] | None


DWELL_CASES = [
    DwellCase("week", WEEK, Hours.OPEN, False, (3, 40.0, 60.0), (3, 30.0, 40.0)),
    DwellCase("week, outside", WEEK, Hours.OUTSIDE, False, (3, 30.0, 40.0), None),
    DwellCase("week, all", WEEK, Hours.ALL, False, (6, 35.0, 60.0), None),
    DwellCase("week, no staff", WEEK, Hours.OPEN, True, (2, 35.0, 60.0), (3, 30.0, 40.0)),
    DwellCase("Sunday", SUNDAY, Hours.OPEN, False, (1, 10.0, 10.0), (1, 20.0, 20.0)),
    DwellCase("Monday (closed)", span("2026-10-26T00:00:00+00:00", "2026-10-27T00:00:00+00:00"), Hours.OPEN, False,
              (0, None, None), (1, 40.0, 40.0)),
]  # fmt: skip


def run_dwell(session: Session, site: SiteConfig, case: DwellCase) -> None:
    got = dwell(session, site, case.span, exclude_staff=case.exclude_staff, hours=case.hours)
    assert got.hours is case.hours
    (food,) = got.zones
    assert (food.visits, food.mean_s, food.max_s) == case.food, case.name
    if case.outside is None:
        assert got.outside_hours is None
        return
    assert got.outside_hours is not None
    (other,) = got.outside_hours.zones
    assert (other.visits, other.mean_s, other.max_s) == case.outside, case.name
    whole = dwell(session, site, case.span, exclude_staff=case.exclude_staff).zones[0]
    assert tuple(a + b for a, b in zip(food.histogram, other.histogram, strict=True)) == whole.histogram


def make_database(directory: Path) -> str:
    """An SQLite database with the scene under `mall` (opening hours) and `plain` (none)."""
    url = f"sqlite:///{directory / 'hours.db'}"
    upgrade(url)
    engine = create_db_engine(url)
    with session_factory(engine).begin() as s:
        load(s, make_site())
        load(s, make_site(opening_hours=None, site_id="plain"))
    engine.dispose()
    return url
