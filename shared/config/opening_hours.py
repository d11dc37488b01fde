"""Opening hours of a site: a weekly schedule in the site's local time, with exceptions by date.

```yaml
opening_hours:
  weekly:
    monday: 10:00-21:00
    tuesday: 10:00-21:00
    wednesday: 10:00-21:00
    thursday: 10:00-21:00
    friday: [10:00-14:00, 15:00-22:00]   # several periods: closed in between
    saturday: 10:00-01:30                # closes at 01:30 on Sunday morning (the cinema)
    sunday: closed
  exceptions:
    - date: 2026-12-25
      hours: closed
      name: Christmas Day
    - date: 2026-12-24
      hours: 09:00-16:00
```

Rules, chosen for what a mall operator writes:

* Every day of the week is given (`closed` for a closed day): a forgotten day is an error,
  not a silent closure.
* A period is `HH:MM-HH:MM` in the site's timezone (`site.timezone`). `24:00` closes at
  midnight; `00:00-24:00` is open all day.
* A closing time earlier than the opening time is on the next day: `18:00-02:00` on a
  Saturday runs until 02:00 on Sunday and belongs to Saturday (an exception for the Sunday
  does not cut it short). It may run into the early morning only, closing by 06:00: a
  later one (`10:00-09:00`) is far more likely a typo for `21:00` than a 23-hour day.
* Periods of a day, and a period running past midnight and the next day's first period,
  must not overlap (touching is fine).
* An exception replaces the weekly hours of its date (the periods that open on it).
* Clock changes: a period covers the instants the site's wall clock shows a time inside
  it. In the hour repeated when the clocks go back, it opens at the first occurrence of its
  opening time and closes at the last of its closing time; a time the clocks skip (spring
  forward) is the instant of the jump.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Annotated, Any, Self
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, model_validator

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_MIN = 24 * 60
# A period past midnight closes by this time of the next morning (minutes after midnight).
LATEST_NEXT_DAY_CLOSE_MIN = 6 * 60
CLOSED = "closed"

_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
# Hyphen or en dash between the times, spaces around it allowed.
_PERIOD = re.compile(r"^\s*(\S+)\s*[-\u2013]\s*(\S+)\s*$")


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True, order=True)
class Period:
    """Open from `opens_min` to `closes_min`, minutes after the local midnight starting the
    day it belongs to; a `closes_min` beyond 24 h is on the next day."""

    opens_min: int
    closes_min: int

    @property
    def past_midnight(self) -> bool:
        return self.closes_min > DAY_MIN

    def __str__(self) -> str:
        # 24:00 is written as such; a period past midnight shows the next day's clock time.
        closes = self.closes_min if self.closes_min <= DAY_MIN else self.closes_min - DAY_MIN
        return f"{_hhmm(self.opens_min)}-{_hhmm(closes)}"


def _time(text: str, period: str, *, closing: bool) -> int:
    found = _TIME.match(text)
    if found is None:
        raise ValueError(f"{period!r}: {text!r} is not a time of day; write HH:MM, e.g. 09:30")
    hours, minutes = int(found.group(1)), int(found.group(2))
    value = hours * 60 + minutes
    if minutes > 59 or value > DAY_MIN or (value == DAY_MIN and not closing):
        which = "a closing time is 00:00-24:00" if closing else "an opening time is 00:00-23:59"
        raise ValueError(f"{period!r}: {text} is not a time of day ({which})")
    return value


def parse_period(text: str) -> Period:
    """`HH:MM-HH:MM` -> Period; a closing time earlier than the opening time is on the next day."""
    found = _PERIOD.match(text)
    if found is None:
        raise ValueError(f"{text!r} is not a period: write opening and closing time as HH:MM-HH:MM, e.g. 10:00-21:00")
    opens = _time(found.group(1), text, closing=False)
    closes = _time(found.group(2), text, closing=True)
    if closes == opens:
        raise ValueError(f"{text!r} opens and closes at the same time: a whole day is 00:00-24:00")
    if closes < opens:
        if closes > LATEST_NEXT_DAY_CLOSE_MIN:
            raise ValueError(
                f"{text!r} would close at {_hhmm(closes)} the next day ({(closes + DAY_MIN - opens) / 60:g} h): "
                "a period may run past midnight only into the early morning, closing by "
                f"{_hhmm(LATEST_NEXT_DAY_CLOSE_MIN)}; is the closing time a typo?"
            )
        closes += DAY_MIN
    return Period(opens, closes)


def _day(value: Any) -> tuple[Period, ...]:
    """A day's hours as YAML gives them: `closed`, one period, or a list of periods."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"got {value!r}: give the day's hours as HH:MM-HH:MM, a list of them, or {CLOSED}")
    if isinstance(value, int):
        # PyYAML reads an unquoted 10:00 as the base-60 number 600.
        raise ValueError(
            f"got the number {value} (YAML reads a lone 10:00 as a number): "
            "give a period as HH:MM-HH:MM, e.g. 10:00-21:00"
        )
    if isinstance(value, str):
        if value.strip().lower() == CLOSED:
            return ()
        items: list[Any] = [value]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise ValueError(
            f"got {type(value).__name__}: give the day's hours as HH:MM-HH:MM, a list of them, or {CLOSED}"
        )
    periods: list[Period] = []
    for item in items:
        if isinstance(item, Period):
            periods.append(item)
        elif isinstance(item, str):
            if item.strip().lower() == CLOSED:
                raise ValueError(f"{CLOSED!r} inside a list of periods: a closed day is written `{CLOSED}` alone")
            periods.append(parse_period(item))
        else:
            raise ValueError(f"got {item!r} in the list: each period is HH:MM-HH:MM")
    periods.sort()
    for a, b in pairwise(periods):
        if b.opens_min < a.closes_min:
            raise ValueError(f"periods {a} and {b} overlap")
    return tuple(periods)


def _show_day(periods: tuple[Period, ...]) -> str | list[str]:
    # Dumped as written (the stored site config is re-read with the same validators).
    if not periods:
        return CLOSED
    return [str(p) for p in periods]


DayHours = Annotated[tuple[Period, ...], BeforeValidator(_day), PlainSerializer(_show_day)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _spill_clash(first: tuple[Period, ...], second: tuple[Period, ...]) -> tuple[Period, Period] | None:
    """The period of a day that runs past midnight into the next day's first period, if any."""
    if not first or not second or not first[-1].past_midnight:
        return None
    late, early = first[-1], second[0]
    return (late, early) if late.closes_min - DAY_MIN > early.opens_min else None


class Weekly(_Strict):
    monday: DayHours
    tuesday: DayHours
    wednesday: DayHours
    thursday: DayHours
    friday: DayHours
    saturday: DayHours
    sunday: DayHours

    @model_validator(mode="before")
    @classmethod
    def _days(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        unknown = [k for k in data if k not in WEEKDAYS]
        if unknown:
            raise ValueError(f"unknown day {unknown[0]!r}: the days are {', '.join(WEEKDAYS)}")
        missing = [d for d in WEEKDAYS if d not in data]
        if missing:
            raise ValueError(
                f"{', '.join(missing)} missing: give every day's hours, `{CLOSED}` for a day the site is closed"
            )
        return data

    def of(self, weekday: int) -> tuple[Period, ...]:
        """Periods of a weekday, Monday = 0 as `date.weekday()`."""
        periods: tuple[Period, ...] = getattr(self, WEEKDAYS[weekday])
        return periods

    @model_validator(mode="after")
    def _week(self) -> Self:
        if not any(self.of(d) for d in range(7)):
            raise ValueError(
                f"every day is {CLOSED}: a site that never opens has no use for opening hours "
                "(leave opening_hours out for a site that is always open)"
            )
        for d in range(7):
            clash = _spill_clash(self.of(d), self.of((d + 1) % 7))
            if clash is not None:
                late, early = clash
                raise ValueError(
                    f"{WEEKDAYS[d]} {late} runs until {_hhmm(late.closes_min - DAY_MIN)} on {WEEKDAYS[(d + 1) % 7]}, "
                    f"past {WEEKDAYS[(d + 1) % 7]}'s opening at {_hhmm(early.opens_min)}"
                )
        return self


class DateException(_Strict):
    """Hours of one date instead of the weekly ones: a holiday (`closed`) or special hours."""

    date: dt.date
    hours: DayHours
    name: str = Field(default="", max_length=100)


class OpeningHours(_Strict):
    weekly: Weekly
    exceptions: list[DateException] = []

    @model_validator(mode="after")
    def _exceptions(self) -> Self:
        seen: set[date] = set()
        for e in self.exceptions:
            if e.date in seen:
                raise ValueError(f"exceptions: {e.date.isoformat()} is listed twice")
            seen.add(e.date)
        for e in self.exceptions:
            # A period past midnight meets the next day's hours, whichever of the two is the exception.
            for day in (e.date - timedelta(days=1), e.date):
                clash = _spill_clash(self.periods_on(day), self.periods_on(day + timedelta(days=1)))
                if clash is not None:
                    late, early = clash
                    raise ValueError(
                        f"exceptions: {day.isoformat()} {late} runs until {_hhmm(late.closes_min - DAY_MIN)} on "
                        f"{(day + timedelta(days=1)).isoformat()}, past that day's opening at {_hhmm(early.opens_min)}"
                    )
        return self

    def periods_on(self, day: date) -> tuple[Period, ...]:
        """The periods that open on a local date: its exception's, else the weekday's."""
        for e in self.exceptions:
            if e.date == day:
                return e.hours
        return self.weekly.of(day.weekday())

    def open_intervals(self, timezone: str, start_s: int, end_s: int) -> list[tuple[int, int]]:
        """When the site is open within [start_s, end_s): sorted, disjoint [open, close) epoch
        seconds (touching periods merged), DST-correct in `timezone`."""
        if end_s <= start_s:
            return []
        tz = ZoneInfo(timezone)
        # The day before the range may run past midnight into it.
        first = datetime.fromtimestamp(start_s, tz).date() - timedelta(days=1)
        last = datetime.fromtimestamp(end_s, tz).date()
        out: list[tuple[int, int]] = []
        day = first
        while day <= last:
            for p in self.periods_on(day):
                lo = max(start_s, _instant(tz, day, p.opens_min, closing=False))
                hi = min(end_s, _instant(tz, day, p.closes_min, closing=True))
                if lo >= hi:
                    continue
                if out and lo <= out[-1][1]:
                    out[-1] = (out[-1][0], max(out[-1][1], hi))
                else:
                    out.append((lo, hi))
            day += timedelta(days=1)
        return out


def _instant(tz: ZoneInfo, day: date, minutes: int, *, closing: bool) -> int:
    """Epoch seconds when the wall clock of `tz` shows `minutes` after the midnight of `day`."""
    wall = datetime(day.year, day.month, day.day) + timedelta(minutes=minutes)
    first = wall.replace(tzinfo=tz, fold=0)
    second = wall.replace(tzinfo=tz, fold=1)
    a, b = int(first.timestamp()), int(second.timestamp())
    if a == b:
        return a
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall:
        # Shown twice (the clocks went back): open at the first, close at the last.
        return max(a, b) if closing else min(a, b)
    # Skipped (the clocks went forward): the jump, the first instant the clock shows a
    # later time. It lies between the two readings; offsets change on whole minutes.
    lo, hi = min(a, b) // 60, max(a, b) // 60
    while lo < hi:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid * 60, tz).replace(tzinfo=None) >= wall:
            hi = mid
        else:
            lo = mid + 1
    return lo * 60
