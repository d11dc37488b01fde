"""Opening hours in the site YAML: what an operator writes, what it means, and the errors for what cannot be meant."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from shared.config import ConfigError, load_site_config, parse_site_config
from shared.config.opening_hours import OpeningHours, Period

SITE: dict[str, Any] = {
    "site": {"id": "mall", "timezone": "Europe/London"},
    "floors": [{"id": "f1"}],
    "cameras": [{"id": "cam-a", "source": "0", "floor": "f1"}],
}
WEEK = {
    "monday": "10:00-21:00",
    "tuesday": "10:00-21:00",
    "wednesday": "10:00-21:00",
    "thursday": "10:00-21:00",
    "friday": "10:00-22:00",
    "saturday": "10:00-01:30",
    "sunday": "11:00-17:00",
}
LONDON = ZoneInfo("Europe/London")


def hours(weekly: dict[str, Any] | None = None, exceptions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The site with opening hours: WEEK changed by `weekly` (None as a value leaves a day out)."""
    week = {**WEEK, **(weekly or {})}
    section: dict[str, Any] = {"weekly": {d: v for d, v in week.items() if v is not None}}
    if exceptions is not None:
        section["exceptions"] = exceptions
    return {**SITE, "opening_hours": section}


def p(opens: str, closes: str, *, next_day: bool = False) -> Period:
    def minutes(t: str) -> int:
        h, m = t.split(":")
        return int(h) * 60 + int(m)

    return Period(minutes(opens), minutes(closes) + (1440 if next_day else 0))


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("closed", ()),
        ("Closed", ()),
        ([], ()),
        ("10:00-21:00", (p("10:00", "21:00"),)),
        ("9:00 \u2013 17:30", (p("09:00", "17:30"),)),  # en dash and spaces, one-digit hour
        ("00:00-24:00", (p("00:00", "24:00"),)),
        # Closing at midnight, either way it is written.
        ("22:00-00:00", (p("22:00", "24:00"),)),
        # A closing time before the opening time is the next morning.
        ("18:00-02:00", (p("18:00", "02:00", next_day=True),)),
        ("20:00-06:00", (p("20:00", "06:00", next_day=True),)),
        # Periods come sorted; touching ones are fine.
        (["15:00-22:00", "10:00-14:00"], (p("10:00", "14:00"), p("15:00", "22:00"))),
        (["10:00-14:00", "14:00-18:00"], (p("10:00", "14:00"), p("14:00", "18:00"))),
    ],
)
def test_a_day_is_written_as_an_operator_would(written: Any, expected: tuple[Period, ...]) -> None:
    site = parse_site_config(hours({"wednesday": written}))
    assert site.opening_hours is not None
    assert site.opening_hours.weekly.wednesday == expected


@pytest.mark.parametrize(
    ("weekly", "exceptions", "expected"),
    [
        # --- one day's periods
        (
            {"monday": 600},
            None,
            "opening_hours.weekly.monday: got the number 600 (YAML reads a lone 10:00 as a number)",
        ),
        (
            {"monday": "10-21"},
            None,
            "opening_hours.weekly.monday: '10-21': '10' is not a time of day; write HH:MM, e.g. 09:30",
        ),
        ({"monday": "10:00 to 21:00"}, None, "'10:00 to 21:00' is not a period"),
        ({"monday": "25:00-26:00"}, None, "'25:00-26:00': 25:00 is not a time of day (an opening time is 00:00-23:59)"),
        ({"monday": "10:60-12:00"}, None, "'10:60-12:00': 10:60 is not a time of day"),
        ({"monday": "10:00-24:30"}, None, "24:30 is not a time of day (a closing time is 00:00-24:00)"),
        ({"monday": "24:00-02:00"}, None, "24:00 is not a time of day (an opening time is 00:00-23:59)"),
        ({"monday": "ten-nine"}, None, "'ten-nine': 'ten' is not a time of day; write HH:MM"),
        (
            {"monday": "10:00-10:00"},
            None,
            "'10:00-10:00' opens and closes at the same time: a whole day is 00:00-24:00",
        ),
        ({"monday": None}, None, "opening_hours.weekly: monday missing: give every day's hours, `closed` for a day"),
        ({"monday": [None]}, None, "got None in the list: each period is HH:MM-HH:MM"),
        (
            {"monday": {"open": "10:00"}},
            None,
            "got dict: give the day's hours as HH:MM-HH:MM, a list of them, or closed",
        ),
        ({"monday": ["closed"]}, None, "'closed' inside a list of periods: a closed day is written `closed` alone"),
        # --- crossing midnight wrongly
        (
            {"monday": "10:00-09:00"},
            None,
            "opening_hours.weekly.monday: '10:00-09:00' would close at 09:00 the next day (23 h): a period may run "
            "past midnight only into the early morning, closing by 06:00; is the closing time a typo?",
        ),
        (
            {"saturday": "18:00-02:00", "sunday": "01:00-10:00"},
            None,
            "opening_hours.weekly: saturday 18:00-02:00 runs until 02:00 on sunday, past sunday's opening at 01:00",
        ),
        # The week wraps: Sunday night runs into Monday.
        (
            {"sunday": "20:00-03:00", "monday": ["02:00-04:00", "10:00-21:00"]},
            None,
            "sunday 20:00-03:00 runs until 03:00 on monday, past monday's opening at 02:00",
        ),
        # --- overlaps within a day
        (
            {"friday": ["10:00-14:00", "13:00-18:00"]},
            None,
            "opening_hours.weekly.friday: periods 10:00-14:00 and 13:00-18:00 overlap",
        ),
        (
            {"friday": ["10:00-22:00", "21:00-01:00"]},
            None,
            "opening_hours.weekly.friday: periods 10:00-22:00 and 21:00-01:00 overlap",
        ),
        # --- the week as a whole
        ({"mon": "10:00-21:00"}, None, "opening_hours.weekly: unknown day 'mon': the days are monday, tuesday"),
        (
            dict.fromkeys(WEEK, "closed"),
            None,
            "every day is closed: a site that never opens has no use for opening hours",
        ),
        # --- exceptions
        (
            None,
            [{"date": "2026-12-25", "hours": "closed"}, {"date": "2026-12-25", "hours": "10:00-12:00"}],
            "opening_hours: exceptions: 2026-12-25 is listed twice",
        ),
        (None, [{"date": "2026-12-25"}], "opening_hours.exceptions[0].hours: Field required"),
        (None, [{"date": "2026-12-25", "closed": True}], "exceptions[0].closed: Extra inputs are not permitted"),
        (None, [{"date": "25/12/2026", "hours": "closed"}], "opening_hours.exceptions[0].date: Input should be a"),
        (None, [{"date": "2026-12-25", "hours": "10:00-14:00,"}], "exceptions[0].hours: '10:00-14:00,': '14:00,'"),
        # The exception's night runs into the next day's weekly hours (Friday 25 December)...
        (
            {"friday": ["01:00-03:00", "10:00-22:00"]},
            [{"date": "2026-12-24", "hours": "18:00-02:00"}],
            "opening_hours: exceptions: 2026-12-24 18:00-02:00 runs until 02:00 on 2026-12-25, past that day's "
            "opening at 01:00",
        ),
        # ...or the weekly night before runs into the exception (Thursday into Friday 25 December).
        (
            {"thursday": "20:00-02:00"},
            [{"date": "2026-12-25", "hours": "01:00-05:00"}],
            "exceptions: 2026-12-24 20:00-02:00 runs until 02:00 on 2026-12-25, past that day's opening at 01:00",
        ),
    ],
)
def test_bad_opening_hours_get_a_clear_error(
    weekly: dict[str, Any] | None, exceptions: list[dict[str, Any]] | None, expected: str
) -> None:
    with pytest.raises(ConfigError) as err:
        parse_site_config(hours(weekly, exceptions), "mall.yaml")
    assert "mall.yaml" in str(err.value)
    assert expected in str(err.value), str(err.value)


def test_yaml_as_written_loads_and_survives_the_database_round_trip(tmp_path: Path) -> None:
    """Unquoted times in YAML, and the JSON the cloud stores the config as, mean the same hours."""
    text = yaml.safe_dump(SITE) + (
        "opening_hours:\n"
        "  weekly:\n"
        "    monday: 10:00-21:00\n"
        "    tuesday: 10:00-21:00\n"
        "    wednesday: 10:00-21:00\n"
        "    thursday: 10:00-21:00\n"
        "    friday: [10:00-14:00, 15:00-22:00]\n"
        "    saturday: 10:00-01:30\n"
        "    sunday: closed\n"
        "  exceptions:\n"
        "    - date: 2026-12-25\n"
        "      hours: closed\n"
        "      name: Christmas Day\n"
        "    - date: 2026-12-24\n"
        "      hours: 09:00-16:00\n"
    )
    path = tmp_path / "mall.yaml"
    path.write_text(text)
    site = load_site_config(path)
    oh = site.opening_hours
    assert oh is not None
    assert oh.weekly.friday == (p("10:00", "14:00"), p("15:00", "22:00"))
    assert oh.weekly.saturday == (p("10:00", "01:30", next_day=True),)
    assert oh.weekly.sunday == ()
    assert [(e.date.isoformat(), e.name, e.hours) for e in oh.exceptions] == [
        ("2026-12-25", "Christmas Day", ()),
        ("2026-12-24", "", (p("09:00", "16:00"),)),
    ]
    stored = site.model_dump(mode="json")
    assert stored["opening_hours"]["weekly"]["saturday"] == ["10:00-01:30"]
    assert stored["opening_hours"]["weekly"]["sunday"] == "closed"
    assert type(site).model_validate(stored) == site


def at(iso: str) -> int:
    """Epoch seconds of a London wall time; `+0000`/`+0100` suffixes pick a repeated hour's occurrence."""
    when = datetime.fromisoformat(iso)
    if when.tzinfo is None:
        when = when.replace(tzinfo=LONDON)
    return int(when.timestamp())


def shown(intervals: list[tuple[int, int]]) -> list[tuple[str, str]]:
    return [
        (datetime.fromtimestamp(lo, LONDON).isoformat(), datetime.fromtimestamp(hi, LONDON).isoformat())
        for lo, hi in intervals
    ]


@pytest.mark.parametrize(
    ("weekly", "exceptions", "start", "end", "expected"),
    [
        # An ordinary Monday and Tuesday (GMT).
        (
            {},
            None,
            "2026-11-02T00:00",
            "2026-11-04T00:00",
            [
                ("2026-11-02T10:00:00+00:00", "2026-11-02T21:00:00+00:00"),
                ("2026-11-03T10:00:00+00:00", "2026-11-03T21:00:00+00:00"),
            ],
        ),
        # Clocks go back on Sunday 25 October 2026 (02:00 BST -> 01:00 GMT): Saturday's late
        # period closes at the second 01:30, after 16.5 hours; Sunday opens in GMT.
        (
            {},
            None,
            "2026-10-24T00:00",
            "2026-10-26T00:00",
            [
                ("2026-10-24T10:00:00+01:00", "2026-10-25T01:30:00+00:00"),
                ("2026-10-25T11:00:00+00:00", "2026-10-25T17:00:00+00:00"),
            ],
        ),
        # Clocks go forward on Sunday 29 March 2026 (01:00 GMT -> 02:00 BST): 01:30 never shows,
        # so Saturday's late period closes at the jump.
        (
            {},
            None,
            "2026-03-28T00:00",
            "2026-03-30T00:00",
            [
                ("2026-03-28T10:00:00+00:00", "2026-03-29T02:00:00+01:00"),
                ("2026-03-29T11:00:00+01:00", "2026-03-29T17:00:00+01:00"),
            ],
        ),
        # A period inside the skipped hour never happens; one opening in it opens at the jump.
        (
            {"saturday": "10:00-22:00", "sunday": ["01:10-01:50", "01:55-03:00"]},
            None,
            "2026-03-29T00:00",
            "2026-03-30T00:00",
            [("2026-03-29T02:00:00+01:00", "2026-03-29T03:00:00+01:00")],
        ),
        # The range starts inside Saturday night's period: it is open from the start.
        (
            {},
            None,
            "2026-11-01T00:30",
            "2026-11-01T12:00",
            [
                ("2026-11-01T00:30:00+00:00", "2026-11-01T01:30:00+00:00"),
                ("2026-11-01T11:00:00+00:00", "2026-11-01T12:00:00+00:00"),
            ],
        ),
        # All day on two days running: one interval.
        (
            {"monday": "00:00-24:00", "tuesday": "00:00-24:00"},
            None,
            "2026-11-02T00:00",
            "2026-11-04T00:00",
            [("2026-11-02T00:00:00+00:00", "2026-11-04T00:00:00+00:00")],
        ),
        # Christmas: Thursday 24th short, Friday 25th closed, Saturday 26th as usual.
        (
            {},
            [{"date": "2026-12-24", "hours": "09:00-16:00"}, {"date": "2026-12-25", "hours": "closed"}],
            "2026-12-24T00:00",
            "2026-12-27T00:00",
            [
                ("2026-12-24T09:00:00+00:00", "2026-12-24T16:00:00+00:00"),
                ("2026-12-26T10:00:00+00:00", "2026-12-27T00:00:00+00:00"),
            ],
        ),
        # A closed date does not cut short the night before it: the period belongs to the day it opens.
        (
            {},
            [{"date": "2026-12-27", "hours": "closed"}],
            "2026-12-26T20:00",
            "2026-12-28T00:00",
            [("2026-12-26T20:00:00+00:00", "2026-12-27T01:30:00+00:00")],
        ),
    ],
)
def test_open_intervals_are_site_local_and_dst_correct(
    weekly: dict[str, Any],
    exceptions: list[dict[str, Any]] | None,
    start: str,
    end: str,
    expected: list[tuple[str, str]],
) -> None:
    site = parse_site_config(hours(weekly, exceptions))
    assert site.opening_hours is not None
    assert shown(site.opening_hours.open_intervals("Europe/London", at(start), at(end))) == expected


def test_open_intervals_of_an_empty_range_are_none() -> None:
    oh = OpeningHours.model_validate({"weekly": dict.fromkeys(WEEK, "00:00-24:00")})
    assert oh.open_intervals("Europe/London", at("2026-11-02T12:00"), at("2026-11-02T12:00")) == []
