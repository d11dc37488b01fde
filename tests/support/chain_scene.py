"""A chain of three sites in three time zones for the site-map and chain-overview tests.

Each site gets entrance crossings today and on the same weekday a week earlier (site-local,
both before `now` and, to prove the cut, after it), visitors, a live count and, for the split
PETS09 site, heatmap cells. Times are relative to `now_ns`, so the API (which reads the clock)
and the analytics (given the clock) see the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from cloud.storage.models import HeatmapCell, Occupancy, Visitor
from cloud.storage.sites import sync_sites
from shared.config import SiteConfig, load_site_config, parse_site_config
from support.rollup_rows import add_footfall_rows, add_visitors

NS = 1_000_000_000
REPO = Path(__file__).resolve().parents[2]
SPLIT_YAML = REPO / "deploy" / "examples" / "pets09-split.yaml"


def _plain_site(site_id: str, timezone: str, capacity: dict[str, Any] | None) -> SiteConfig:
    raw: dict[str, Any] = {
        "site": {"id": site_id, "name": site_id.replace("-", " ").title(), "timezone": timezone},
        "floors": [{"id": "ground", "extent": [0.0, 0.0, 20.0, 10.0]}],
        "cameras": [{"id": "door-cam", "source": "/dev/null", "floor": "ground"}],
        "lines": [{"id": "door", "camera": "door-cam", "points": [[0, 50], [100, 50]]}],
    }
    if capacity is not None:
        raw["capacity"] = capacity
    return parse_site_config(raw)


def sites() -> list[SiteConfig]:
    return [
        load_site_config(SPLIT_YAML),
        _plain_site("harbour", "America/New_York", {"site": 40}),
        _plain_site("akihabara", "Asia/Tokyo", None),
    ]


@dataclass(frozen=True)
class Expected:
    footfall_today: int
    footfall_week_ago: int
    visitors_today: int
    visitors_week_ago: int
    occupancy: int
    capacity: int | None


# Site id -> (crossings in today, crossings in a week ago, visitors today, a week ago, live count).
FIGURES: dict[str, tuple[int, int, int, int, int]] = {
    "pets09-split": (12, 8, 3, 2, 5),
    "harbour": (6, 0, 1, 0, 44),
    "akihabara": (0, 4, 0, 1, 0),
}
CAPACITY = {"pets09-split": None, "harbour": 40, "akihabara": None}
EXPECTED = {site: Expected(f[0], f[1], f[2], f[3], f[4], CAPACITY[site]) for site, f in FIGURES.items()}


def _earlier(now_ns: int, timezone: str) -> tuple[int, int]:
    """An instant of today before now (epoch s): a minute back, but never before local midnight."""
    tz = ZoneInfo(timezone)
    now = datetime.fromtimestamp(now_ns // NS, tz)
    midnight = datetime(now.year, now.month, now.day, tzinfo=tz)
    at = max(midnight, now - timedelta(minutes=1)).replace(second=0)
    week = (at.replace(tzinfo=None) - timedelta(days=7)).replace(tzinfo=tz)
    return int(at.timestamp()), int(week.timestamp())


def load(session: Session, now_ns: int) -> None:
    configs = sites()
    sync_sites(session, configs)
    for site in configs:
        tz = site.site.timezone
        sid = site.site.id
        line = next(ln.id for ln in site.lines if ln.entrance)
        today_in, week_in, visitors_today, visitors_week, live = FIGURES[sid]
        today_s, week_s = _earlier(now_ns, tz)
        # A week ago two hours later than now: past the stretch compared, counted by no figure.
        rows = [
            (sid, line, "in", today_s, today_in),
            (sid, line, "in", week_s, week_in),
            (sid, line, "in", week_s + 7200, 100),
        ]
        add_footfall_rows(session, tz, [r for r in rows if r[4]])
        add_visitors(
            session,
            tz,
            [
                Visitor(
                    site_id=sid,
                    visitor_id=f"{sid}-{when}-{i}",
                    first_seen_ns=at * NS,
                    last_seen_ns=at * NS + 30 * NS,
                    path=[],
                    tracklets=1,
                )
                for when, at, n in (("today", today_s, visitors_today), ("week", week_s, visitors_week))
                for i in range(n)
            ],
        )
        session.add(Occupancy(site_id=sid, scope="site", scope_id=sid, count=live, updated_ns=today_s * NS))
    # Heat on the split site's floor this hour: cells where people walked.
    hour_s = _earlier(now_ns, "UTC")[0] // 3600 * 3600
    for x, y, s in ((8, 9, 120.0), (9, 9, 60.0), (10, 10, 15.0), (20, 20, 240.0)):
        session.add(
            HeatmapCell(site_id="pets09-split", floor_id="ground", bucket_s=hour_s, cell_x=x, cell_y=y, seconds=s)
        )
