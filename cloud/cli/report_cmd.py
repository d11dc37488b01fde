"""`mallflow cloud report --config SITE.yaml [--hours N]`: the site's numbers on the terminal."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cloud.analytics.buckets import TimeRange
    from shared.config.site import SiteConfig


def add_parser(csub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    r = csub.add_parser("report", help="print footfall, visitors, occupancy, dwell and camera health of a site")
    r.add_argument("--config", required=True, type=Path, help="site YAML")
    r.add_argument("--db", default=None, help="SQLAlchemy URL (default MALLFLOW_DB_URL or the embedded SQLite)")
    r.add_argument("--hours", type=float, default=24.0, help="report the last N hours (default 24)")
    r.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    from cloud.analytics.buckets import TimeRange
    from cloud.storage import create_db_engine, session_factory
    from shared.config import load_site_config

    if args.hours <= 0:
        raise ValueError(f"--hours must be > 0, got {args.hours}")
    site = load_site_config(args.config)
    now = time.time_ns()
    span = TimeRange(now - int(args.hours * 3600e9), now)
    with session_factory(create_db_engine(args.db))() as session:
        print_site_report(session, site, span, f"{site.site.id}: last {args.hours:g} h")
    return 0


def print_site_report(session: Session, site: SiteConfig, span: TimeRange, title: str) -> None:
    import numpy as np
    from rich.console import Console
    from rich.table import Table

    from cloud.analytics.camera_health import camera_health
    from cloud.analytics.dwell import dwell
    from cloud.analytics.footfall import footfall
    from cloud.analytics.heatmap import heatmap
    from cloud.analytics.hours import Hours
    from cloud.analytics.occupancy import live_occupancy
    from cloud.analytics.transitions import transitions
    from cloud.analytics.visitors import unique_visitors

    # As the API: within opening hours where the site has them, what came outside them beside.
    hours = Hours.ALL if site.opening_hours is None else Hours.OPEN
    within, outside = ("", "") if hours is Hours.ALL else (" (opening hours)", " (outside hours)")
    ff = footfall(session, site, span, "hour", all_lines=True, hours=hours)
    table = Table(title=title)
    table.add_column("measure")
    table.add_column("value")
    for series in ff.series:
        table.add_row(f"footfall {series.line_id} {series.direction}{within}", str(series.total))
    for series in ff.outside_hours.series if ff.outside_hours else ():
        table.add_row(f"footfall {series.line_id} {series.direction}{outside}", str(series.total))
    visitors = unique_visitors(session, site, span, hours=hours)
    sources = ", ".join(sorted({d.source for d in visitors.days}))
    table.add_row(f"unique visitors{within}", f"{visitors.total} ({sources})")
    if visitors.outside_hours is not None:
        table.add_row(f"unique visitors{outside}", f"{visitors.outside_hours.total} (seen only then)")
    for now_count in live_occupancy(session, site).zones:
        table.add_row(f"occupancy {now_count.scope} {now_count.scope_id}", str(now_count.count))
    report = dwell(session, site, span, hours=hours)
    for zone in report.zones:
        stats = (
            "no visits"
            if not zone.visits
            else (
                f"{zone.visits} visits, mean {zone.mean_s:.1f} s, median {zone.median_s:.1f} s, p90 {zone.p90_s:.1f} s"
            )
        )
        table.add_row(f"dwell {zone.zone_id}{within}", stats)
    for zone in report.outside_hours.zones if report.outside_hours else ():
        table.add_row(f"dwell {zone.zone_id}{outside}", f"{zone.visits} visits")
    for floor in site.floors:
        grid = heatmap(session, site, floor.id, span)
        busiest = float(np.max(grid.seconds)) if grid.seconds.size else 0.0
        table.add_row(
            f"heatmap {floor.id}",
            f"{float(np.sum(grid.seconds)):.0f} person-seconds, busiest {grid.cell_m:g} m cell {busiest:.0f} s",
        )
    for t in transitions(session, site, span).transitions:
        table.add_row(f"transition {t.from_zone} → {t.to_zone}", str(t.count))
    for cam in camera_health(session, site, span.end_ns):
        fps = f"{cam.fps:.1f} fps" if cam.fps is not None else "no status"
        table.add_row(f"camera {cam.camera_id}", f"{cam.state}, {fps}{', stale' if cam.stale else ''}")
    Console().print(table)
