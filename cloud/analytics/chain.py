"""Chain overview: each site's day so far against the same weekday a week earlier, and its live occupancy.

"Today" is the site's own local day (a chain spans time zones) from local midnight to now,
and its baseline the same wall-clock stretch seven days before (`comparison.baseline_ranges`:
a DST change in between keeps local times). The figures are the comparison's: entrance
footfall summed from the rollups in SQL and the unique-visitor count, within opening hours
where the site has them, so a site's row and its own dashboard tiles agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from cloud.analytics.buckets import NS, TimeRange
from cloud.analytics.comparison import baseline_ranges, change_pct, period_figures
from cloud.analytics.hours import Hours
from cloud.analytics.occupancy import live_occupancy
from shared.config.site import SiteConfig


@dataclass(frozen=True)
class ChainFigure:
    today: int
    week_ago: int
    # Percent change from the week-ago figure; None when that was zero.
    change_pct: float | None


@dataclass(frozen=True)
class ChainSite:
    site_id: str
    name: str
    timezone: str
    day: date  # the site's local day
    as_of: datetime  # site-local: the figures cover local midnight up to this instant
    hours: Hours
    footfall_in: ChainFigure
    visitors: ChainFigure
    occupancy: int
    capacity: int | None
    # occupancy / capacity in percent; None without a site capacity.
    utilisation_pct: float | None
    over_capacity: bool


def today_range(timezone: str, now_ns: int) -> TimeRange:
    """Local midnight of the site's day up to `now_ns`."""
    tz = ZoneInfo(timezone)
    local = datetime.fromtimestamp(now_ns // NS, tz)
    midnight = datetime(local.year, local.month, local.day, tzinfo=tz)
    return TimeRange(int(midnight.timestamp()) * NS, now_ns)


def chain_site(session: Session, site: SiteConfig, now_ns: int) -> ChainSite:
    span = today_range(site.site.timezone, now_ns)
    _, week = baseline_ranges(span, site.site.timezone)
    hours = Hours.ALL if site.opening_hours is None else Hours.OPEN
    now = period_figures(session, site, span, "day", hours, False)
    before = period_figures(session, site, week, "day", hours, False)
    live = live_occupancy(session, site).site
    capacity = live.capacity
    return ChainSite(
        site_id=site.site.id,
        name=site.site.name,
        timezone=site.site.timezone,
        day=now.start.date(),
        as_of=now.end,
        hours=hours,
        footfall_in=ChainFigure(now.total_in, before.total_in, change_pct(now.total_in, before.total_in)),
        visitors=ChainFigure(now.visitors, before.visitors, change_pct(now.visitors, before.visitors)),
        occupancy=live.count,
        capacity=capacity,
        utilisation_pct=None if capacity is None else round(live.count / capacity * 100, 1),
        over_capacity=live.alert is not None,
    )
