"""Request dependencies: the caller's role, the site, the time range and paging."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, TypeVar
from zoneinfo import ZoneInfo

from fastapi import Depends, HTTPException, Path, Query, Request, Security
from fastapi.security import APIKeyHeader
from sqlalchemy.orm import Session, sessionmaker

from cloud.analytics.buckets import NS, Bucket, TimeRange
from cloud.analytics.hours import Hours
from cloud.api.auth import Role
from cloud.api.settings import ApiSettings
from cloud.api.sites import SiteCatalog
from shared.config.site import SiteConfig

# Timestamps outside this window cannot be real events and would overflow epoch nanoseconds.
EARLIEST = datetime(2000, 1, 1, tzinfo=ZoneInfo("UTC"))
LATEST = datetime(2100, 1, 1, tzinfo=ZoneInfo("UTC"))
DEFAULT_RANGE = timedelta(hours=24)
T = TypeVar("T")

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="read or admin API key")


def settings(request: Request) -> ApiSettings:
    value: ApiSettings = request.app.state.settings
    return value


def catalog(request: Request) -> SiteCatalog:
    value: SiteCatalog = request.app.state.catalog
    return value


def db_session(request: Request) -> Iterator[Session]:
    sessions: sessionmaker[Session] = request.app.state.sessions
    with sessions() as session:
        yield session


Settings = Annotated[ApiSettings, Depends(settings)]
Catalog = Annotated[SiteCatalog, Depends(catalog)]


def require(needed: Role) -> Callable[..., Role]:
    def check(
        key: Annotated[str | None, Security(api_key_header)],
        config: Settings,
    ) -> Role:
        if key is None:
            if config.anonymous_read and needed is Role.READ:
                return Role.READ
            raise HTTPException(401, "missing API key: send it in the X-API-Key header")
        role = config.keys.role_of(key)
        if role is None:
            raise HTTPException(401, "unknown API key")
        if not role.allows(needed):
            raise HTTPException(403, f"this key has the {role.value!r} role; {needed.value!r} is needed")
        return role

    return check


def key_id(key: Annotated[str | None, Security(api_key_header)]) -> str:
    """Which key called, for audit logs: a short digest of it, never the key."""
    return "anonymous" if key is None else "key:" + hashlib.sha256(key.encode()).hexdigest()[:12]


KeyId = Annotated[str, Depends(key_id)]
Reader = Annotated[Role, Depends(require(Role.READ))]
Admin = Annotated[Role, Depends(require(Role.ADMIN))]
DbSession = Annotated[Session, Depends(db_session)]


def site_config(
    site_id: Annotated[str, Path(description="site id", max_length=64)],
    sites: Catalog,
) -> SiteConfig:
    site = sites.get(site_id)
    if site is None:
        raise HTTPException(404, f"unknown site {site_id!r}")
    return site


Site = Annotated[SiteConfig, Depends(site_config)]


def _instant(value: datetime | date, tz: ZoneInfo, name: str) -> datetime:
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    # A time without an offset is the site's local time: what an operator types.
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    if not EARLIEST <= value <= LATEST:
        raise HTTPException(422, f"{name} must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}")
    return value


def _to_ns(value: datetime) -> int:
    # Whole microseconds from timedelta arithmetic: exact, unlike float timestamps.
    delta = value - EARLIEST
    return int(EARLIEST.timestamp()) * NS + (delta // timedelta(microseconds=1)) * 1000


_SHORTEST = {Bucket.MINUTE: timedelta(minutes=1), Bucket.HOUR: timedelta(hours=1), Bucket.DAY: timedelta(hours=23)}


@dataclass(frozen=True)
class Span:
    range: TimeRange
    bucket: Bucket


def time_range(
    site: Site,
    config: Settings,
    start: Annotated[
        datetime | date | None,
        Query(description="ISO 8601 date or date-time; without an offset it is site-local. Default: end − 24 h"),
    ] = None,
    end: Annotated[
        datetime | date | None, Query(description="ISO 8601, exclusive; a date means its local midnight. Default: now")
    ] = None,
    bucket: Annotated[Bucket, Query(description="bucket size of series")] = Bucket.HOUR,
) -> Span:
    tz = ZoneInfo(site.site.timezone)
    end_at = _instant(end, tz, "end") if end is not None else datetime.now(tz)
    start_at = _instant(start, tz, "start") if start is not None else end_at - DEFAULT_RANGE
    if end_at < start_at:
        raise HTTPException(422, f"end ({end_at.isoformat()}) is before start ({start_at.isoformat()})")
    if end_at - start_at > timedelta(days=config.max_range_days):
        raise HTTPException(422, f"the range may span at most {config.max_range_days:g} days")
    # An upper bound, so the query builds its buckets once: local days are 23-25 h long,
    # and a range starting mid-bucket touches one bucket more.
    n = -(-(end_at - start_at) // _SHORTEST[bucket]) + 1
    if n > config.max_buckets:
        raise HTTPException(
            422, f"up to {n} {bucket.value} buckets exceed the limit of {config.max_buckets}; choose a coarser bucket"
        )
    return Span(TimeRange(_to_ns(start_at), _to_ns(end_at)), bucket)


TimeSpan = Annotated[Span, Depends(time_range)]


def hours_choice(
    site: Site,
    hours: Annotated[
        Hours | None,
        Query(
            description="open: within the site's opening hours, with the rest in `outside_hours`; outside: only "
            "outside them; all: around the clock. Default: open where the site has opening hours, else all"
        ),
    ] = None,
) -> Hours:
    if hours is None:
        return Hours.ALL if site.opening_hours is None else Hours.OPEN
    if hours is not Hours.ALL and site.opening_hours is None:
        raise HTTPException(422, f"site {site.site.id!r} has no opening_hours in its config: only hours=all applies")
    return hours


HoursChoice = Annotated[Hours, Depends(hours_choice)]


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int

    def take(self, items: Sequence[T]) -> list[T]:
        return list(items[self.offset : self.offset + self.limit])


def page(
    config: Settings,
    limit: Annotated[int | None, Query(ge=1, description="items per page")] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Page:
    if limit is not None and limit > config.page_limit_max:
        raise HTTPException(422, f"limit may be at most {config.page_limit_max}")
    return Page(limit or config.page_limit_default, offset)


Paging = Annotated[Page, Depends(page)]
