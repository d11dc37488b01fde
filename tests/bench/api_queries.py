"""Query latency per API endpoint on a generated 90-day × 200-camera mall in PostgreSQL.

    source deploy/local/env.sh && deploy/local/services.sh up
    .venv/bin/python tests/bench/api_queries.py [--days 90] [--cameras 200] [--repeats 30]

Generates the rollup and fact tables server-side (generate_series) into a fresh database:
one entrance line per 5 cameras (footfall rows every opening minute, 08:00-20:00 local),
one zone per camera (visits, occupancy changes every 5 minutes), two floors of 2 m heatmap
cells per hour, and stitched visitors; the quarter-hour and local-day rollups and the live
counts are derived from those rows as the ingest writers would have kept them. Then calls every endpoint through the real app
(FastAPI + SQLAlchemy + psycopg, in process) with the queries a dashboard makes, and
prints p50/p95 per endpoint (comparisons and CSV exports included; a CSV row reads the whole
streamed body). Baseline, measured in the same run: /healthz (a `SELECT 1`
through the same stack), so the ratio is what the query itself costs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text

from cloud.api.app import create_app
from cloud.api.auth import KeyRing
from cloud.api.settings import ApiSettings
from cloud.storage import create_db_engine, session_factory, upgrade
from cloud.storage.sites import sync_sites
from shared.config import SiteConfig

PG = os.environ.get("MALLFLOW_PG_URL", "postgresql+psycopg://mallflow:mallflow@127.0.0.1:5433/mallflow")
KEY = "bench-read-key-000001"
TZ = "Europe/London"


def _homography(i: int) -> dict[str, list[list[float]]]:
    """A slanted 640x480 view of a 10 m x 8 m patch of the camera's floor, 100 patches per floor:
    the site map projects every view, zone and line through these."""
    x, y = (i // 2) % 20 * 10.0, (i // 2) // 20 * 10.0
    return {
        "image_points": [[0, 480], [640, 480], [560, 120], [80, 120]],
        "floor_points": [[x + 3, y + 8], [x + 7, y + 8], [x + 10, y], [x, y]],
    }


def site(cameras: int) -> SiteConfig:
    lines = [i for i in range(cameras) if i % 5 == 0]
    return SiteConfig.model_validate(
        {
            "site": {"id": "bench-mall", "timezone": TZ},
            "floors": [{"id": f"f{k}", "extent": [0, 0, 200, 100], "heatmap_cell_m": 2.0} for k in (1, 2)],
            "cameras": [
                {"id": f"cam-{i:03d}", "source": "/dev/null", "floor": f"f{1 + i % 2}", "homography": _homography(i)}
                for i in range(cameras)
            ],
            "lines": [{"id": f"door-{i:03d}", "camera": f"cam-{i:03d}", "points": [[0, 0], [10, 0]]} for i in lines],
            "zones": [
                {"id": f"zone-{i:03d}", "camera": f"cam-{i:03d}", "polygon": [[0, 0], [10, 0], [10, 10]]}
                for i in range(cameras)
            ],
        }
    )


def _local_day(epoch_s: str) -> str:
    """SQL for the epoch second of the local midnight (in TZ) starting the day of `epoch_s`."""
    local = f"(to_timestamp({epoch_s}) AT TIME ZONE '{TZ}')"
    return f"extract(epoch FROM date_trunc('day', {local}) AT TIME ZONE '{TZ}')::bigint"


def _peaks(bucket: str) -> str:
    """SQL rolling occupancy minutes up to `bucket`: the highest count, and the last one."""
    return f"""
        SELECT site_id, scope, scope_id, b, max(max_count),
               (array_agg(last_count ORDER BY bucket_s DESC))[1]
        FROM (SELECT *, {bucket} AS b FROM occupancy_minute) m GROUP BY 1, 2, 3, 4"""


def generate(url: str, days: int, cameras: int, first_day_s: int) -> dict[str, int]:
    """Fill the tables in SQL; returns rows per table."""
    params = {"d0": first_day_s, "days": days, "cams": cameras}
    # Opening minutes: 08:00-20:00 (UTC-aligned; a close enough mall day for load).
    minutes = (
        "SELECT d * 86400 + 8 * 3600 + m * 60 AS b FROM generate_series(0, :days - 1) d, generate_series(0, 719) m"
    )
    statements = {
        "footfall_minute": f"""
            INSERT INTO footfall_minute (site_id, line_id, direction, bucket_s, count)
            SELECT 'bench-mall', 'door-' || lpad(c::text, 3, '0'), dir, :d0 + t.b, 1 + ((c + t.b / 60) % 7)
            FROM ({minutes}) t, generate_series(0, :cams - 1, 5) c, unnest(ARRAY['in', 'out']) dir""",
        "occupancy_minute": f"""
            INSERT INTO occupancy_minute (site_id, scope, scope_id, bucket_s, max_count, last_count)
            SELECT 'bench-mall', 'zone', 'zone-' || lpad(c::text, 3, '0'), :d0 + t.b,
                   3 + ((c + t.b / 300) % 9), 2 + ((c + t.b / 300) % 7)
            FROM ({minutes}) t, generate_series(0, :cams - 1) c WHERE (t.b / 60) % 5 = 0""",
        "site_occupancy_minute": f"""
            INSERT INTO occupancy_minute (site_id, scope, scope_id, bucket_s, max_count, last_count)
            SELECT 'bench-mall', 'site', 'bench-mall', :d0 + t.b, 900 + (t.b / 60) % 300, 880 + (t.b / 60) % 300
            FROM ({minutes}) t""",
        # The coarser levels, as the applier's rollup writers keep them (local days in TZ).
        "footfall_quarter": """
            INSERT INTO footfall_quarter (site_id, line_id, direction, bucket_s, count)
            SELECT site_id, line_id, direction, bucket_s - bucket_s % 900, sum(count)
            FROM footfall_minute GROUP BY 1, 2, 3, 4""",
        "footfall_day": f"""
            INSERT INTO footfall_day (site_id, line_id, direction, bucket_s, count)
            SELECT site_id, line_id, direction, {_local_day("bucket_s")}, sum(count)
            FROM footfall_minute GROUP BY 1, 2, 3, 4""",
        "occupancy_quarter": f"""
            INSERT INTO occupancy_quarter (site_id, scope, scope_id, bucket_s, max_count, last_count)
            {_peaks("bucket_s - bucket_s % 900")}""",
        "occupancy_day": f"""
            INSERT INTO occupancy_day (site_id, scope, scope_id, bucket_s, max_count, last_count)
            {_peaks(_local_day("bucket_s"))}""",
        "occupancy": """
            INSERT INTO occupancy (site_id, scope, scope_id, count, updated_ns)
            SELECT DISTINCT ON (scope, scope_id) site_id, scope, scope_id, last_count, bucket_s::bigint * 1000000000
            FROM occupancy_minute ORDER BY scope, scope_id, bucket_s DESC""",
        "heatmap_cells": """
            INSERT INTO heatmap_cells (site_id, floor_id, bucket_s, cell_x, cell_y, seconds)
            SELECT 'bench-mall', 'f' || f, :d0 + d * 86400 + h * 3600, x, y, 1 + ((x * 7 + y * 13 + h) % 120)
            FROM generate_series(0, :days - 1) d, generate_series(8, 19) h, unnest(ARRAY[1, 2]) f,
                 generate_series(0, 99, 2) x, generate_series(0, 49, 2) y""",
        "zone_visits": """
            INSERT INTO zone_visits (site_id, camera_id, zone_id, track_id, entered_ns, exited_ns, dwell_s)
            SELECT 'bench-mall', 'cam-' || lpad(c::text, 3, '0'), 'zone-' || lpad(c::text, 3, '0'), d * 1000 + v,
                   (:d0 + d * 86400 + 8 * 3600 + v * 216)::bigint * 1000000000,
                   (:d0 + d * 86400 + 8 * 3600 + v * 216 + 5 + (v * 37 + c) % 600)::bigint * 1000000000,
                   5 + (v * 37 + c) % 600
            FROM generate_series(0, :days - 1) d, generate_series(0, :cams - 1) c, generate_series(0, 199) v""",
        "visitors": """
            INSERT INTO visitors (site_id, visitor_id, first_seen_ns, last_seen_ns, path, tracklets)
            SELECT 'bench-mall', 'v-' || d || '-' || v, (:d0 + d * 86400 + 8 * 3600 + v * 8)::bigint * 1000000000,
                   (:d0 + d * 86400 + 8 * 3600 + v * 8 + 1800)::bigint * 1000000000, '["cam-000"]', 1
            FROM generate_series(0, :days - 1) d, generate_series(0, 4999) v""",
        "visitors_day": f"""
            INSERT INTO visitors_day (site_id, day_s, visitors, arrivals)
            SELECT site_id, {_local_day("first_seen_ns / 1000000000")}, count(*), count(*)
            FROM visitors GROUP BY 1, 2""",
    }
    rows: dict[str, int] = {}
    engine = create_engine(url)
    with engine.begin() as conn:
        for table, sql in statements.items():
            started = time.perf_counter()
            rows[table] = conn.execute(text(sql), params).rowcount
            print(f"  {table}: {rows[table]:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return rows


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--cameras", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the generated database (its name is printed)")
    args = parser.parse_args()

    tz = ZoneInfo(TZ)
    last_day = datetime.now(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    first_day = last_day - timedelta(days=args.days - 1)
    name = f"mallflow_bench_api_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        config = site(args.cameras)
        with session_factory(create_db_engine(url)).begin() as session:
            sync_sites(session, [config])
        print(f"generating {args.days} days × {args.cameras} cameras into {name}", flush=True)
        rows = generate(url, args.days, args.cameras, int(first_day.timestamp()))
        app = create_app(create_db_engine(url), ApiSettings(keys=KeyRing.parse(f"read:{KEY}"), page_limit_max=1000))
        day = last_day.date().isoformat()
        next_day = (last_day + timedelta(days=1)).date().isoformat()
        week = (last_day - timedelta(days=6)).date().isoformat()
        month = (last_day - timedelta(days=29)).date().isoformat()
        quarter = first_day.date().isoformat()
        base = "/api/v1/sites/bench-mall"
        queries = {
            "baseline /healthz (SELECT 1)": ("/healthz", {}),
            "footfall today, hourly": (f"{base}/footfall", {"start": day, "end": next_day, "bucket": "hour"}),
            "footfall 7 days, daily": (f"{base}/footfall", {"start": week, "end": next_day, "bucket": "day"}),
            "footfall 90 days, daily": (f"{base}/footfall", {"start": quarter, "end": next_day, "bucket": "day"}),
            "visitors 30 days": (f"{base}/visitors", {"start": month, "end": next_day}),
            "occupancy live": (f"{base}/occupancy/live", {}),
            "occupancy history today, hourly": (
                f"{base}/occupancy/history",
                {"start": day, "end": next_day, "bucket": "hour"},
            ),
            "dwell today": (f"{base}/dwell", {"start": day, "end": next_day}),
            "heatmap today (JSON)": (f"{base}/floors/f1/heatmap", {"start": day, "end": next_day}),
            "heatmap today (PNG)": (f"{base}/floors/f1/heatmap.png", {"start": day, "end": next_day}),
            "transitions today": (f"{base}/transitions", {"start": day, "end": next_day}),
            "camera health": (f"{base}/cameras", {"limit": 1000}),
            # Comparisons: the range, the previous period and a week earlier (footfall and visitors).
            "compare today, hourly": (f"{base}/compare", {"start": day, "end": next_day, "bucket": "hour"}),
            "compare 7 days, daily": (f"{base}/compare", {"start": week, "end": next_day, "bucket": "day"}),
            "compare 30 days, daily": (f"{base}/compare", {"start": month, "end": next_day, "bucket": "day"}),
            # CSV exports, the whole streamed body read.
            "footfall CSV 90 days, daily": (
                f"{base}/footfall",
                {"start": quarter, "end": next_day, "bucket": "day", "format": "csv"},
            ),
            "footfall CSV today, by minute": (
                f"{base}/footfall",
                {"start": day, "end": next_day, "bucket": "minute", "format": "csv"},
            ),
            "visitors CSV 30 days": (f"{base}/visitors", {"start": month, "end": next_day, "format": "csv"}),
            "occupancy history CSV today, hourly": (
                f"{base}/occupancy/history",
                {"start": day, "end": next_day, "bucket": "hour", "format": "csv"},
            ),
            "dwell CSV today": (f"{base}/dwell", {"start": day, "end": next_day, "format": "csv"}),
            "heatmap CSV today": (f"{base}/floors/f1/heatmap", {"start": day, "end": next_day, "format": "csv"}),
            "transitions CSV today": (f"{base}/transitions", {"start": day, "end": next_day, "format": "csv"}),
            "camera health CSV": (f"{base}/cameras", {"format": "csv"}),
            "occupancy alerts CSV 90 days": (
                f"{base}/occupancy/alerts",
                {"start": quarter, "end": next_day, "bucket": "day", "format": "csv"},
            ),
            # Site map: every view, zone and line of the floor projected, with the day's heatmap.
            "site map today (floor f1)": (f"{base}/map", {"start": day, "end": next_day, "floor": "f1"}),
            # Chain overview: the day so far against a week ago and live occupancy, per site.
            "chain overview": ("/api/v1/chain", {}),
        }
        results: dict[str, tuple[float, float]] = {}
        with TestClient(app) as client:
            headers = {"X-API-Key": KEY}
            for label, (path, params) in queries.items():
                client.get(path, params=params, headers=headers)  # warm caches and the pool
                times = []
                for _ in range(args.repeats):
                    started = time.perf_counter()
                    response = client.get(path, params=params, headers=headers)
                    times.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, (label, response.status_code, response.text[:300])
                results[label] = (statistics.median(times), percentile(times, 95))
        base_p50 = results["baseline /healthz (SELECT 1)"][0]
        print(f"\nrows: {', '.join(f'{t} {n:,}' for t, n in rows.items())}")
        print("\n| endpoint and query | p50 ms | p95 ms | p50 / baseline |\n|---|---|---|---|")
        for label, (p50, p95) in results.items():
            print(f"| {label} | {p50:.1f} | {p95:.1f} | {p50 / base_p50:.1f}× |")
    finally:
        if args.keep:
            print(f"kept database {name}")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
