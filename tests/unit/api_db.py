"""A small site's database with known rows, and API clients for it (shared by the API tests)."""

from __future__ import annotations

from pathlib import Path

from analytics_db import NS, make_site, ns, seconds
from fastapi import FastAPI
from sqlalchemy.orm import Session
from support.rollup_rows import add_footfall_rows, add_visitors

from cloud.api.app import create_app
from cloud.api.auth import KeyRing
from cloud.api.settings import ApiSettings
from cloud.storage import create_db_engine, session_factory, upgrade
from cloud.storage.models import (
    CameraHealth,
    CameraProgress,
    HeatmapCell,
    Occupancy,
    OccupancyAlertRow,
    Tracklet,
    Visitor,
    ZoneVisit,
)
from cloud.storage.sites import sync_sites

READ_KEY = "read-key-for-tests-0001"
ADMIN_KEY = "admin-key-for-tests-0001"
KEYS = KeyRing.parse(f"read:{READ_KEY},admin:{ADMIN_KEY}")
READ = {"X-API-Key": READ_KEY}
ADMIN = {"X-API-Key": ADMIN_KEY}
# 10 June 2026 in London is BST (UTC+1).
DAY = {"start": "2026-06-10", "end": "2026-06-11"}


def _fill(session: Session) -> None:
    # shops (3 people now) is over its capacity of 2; the site was over its 5 from 09:00 to 09:30.
    sync_sites(session, [make_site(capacity={"site": 5, "zones": {"shops": 2}})])
    m = seconds
    add_footfall_rows(
        session,
        "Europe/London",
        [
            ("mall", "door", "in", m("2026-06-10T09:00:00+01:00"), 3),
            ("mall", "door", "out", m("2026-06-10T09:30:00+01:00"), 2),
            ("mall", "door", "in", m("2026-06-10T10:15:00+01:00"), 1),
            ("mall", "passage", "in", m("2026-06-10T10:15:00+01:00"), 5),
            # The day before: outside DAY.
            ("mall", "door", "in", m("2026-06-09T23:59:00+01:00"), 7),
        ],
    )
    for i, dwell in enumerate((10.0, 20.0, 30.0, 40.0)):
        entered = ns("2026-06-10T11:00:00+01:00") + i * 60 * NS
        session.add(
            ZoneVisit(
                site_id="mall",
                camera_id="cam-a",
                zone_id="food",
                track_id=i,
                entered_ns=entered,
                exited_ns=entered + int(dwell * NS),
                dwell_s=dwell,
            )
        )
        # Each person then walks on to the shops.
        session.add(
            ZoneVisit(
                site_id="mall",
                camera_id="cam-b",
                zone_id="shops",
                track_id=100 + i,
                entered_ns=entered + 120 * NS,
                exited_ns=None,
                dwell_s=None,
            )
        )
        for cam, track in (("cam-a", i), ("cam-b", 100 + i)):
            session.add(
                Tracklet(
                    site_id="mall",
                    camera_id=cam,
                    track_id=track,
                    first_seen_ns=entered,
                    last_seen_ns=entered + 200 * NS,
                    observations=10,
                    mean_confidence=0.9,
                    visitor_id=f"v{i}",
                )
            )
        add_visitors(
            session,
            "Europe/London",
            [
                Visitor(
                    site_id="mall",
                    visitor_id=f"v{i}",
                    first_seen_ns=entered,
                    last_seen_ns=entered + 200 * NS,
                    path=["cam-a", "cam-b"],
                    tracklets=2,
                )
            ],
        )
    session.add_all(
        [
            Occupancy(
                site_id="mall", scope="site", scope_id="mall", count=4, updated_ns=ns("2026-06-10T11:05:00+01:00")
            ),
            Occupancy(
                site_id="mall", scope="zone", scope_id="shops", count=3, updated_ns=ns("2026-06-10T11:05:00+01:00")
            ),
            HeatmapCell(
                site_id="mall",
                floor_id="ground",
                bucket_s=m("2026-06-10T11:00:00+01:00"),
                cell_x=1,
                cell_y=2,
                seconds=90.0,
            ),
            HeatmapCell(
                site_id="mall",
                floor_id="ground",
                bucket_s=m("2026-06-10T12:00:00+01:00"),
                cell_x=1,
                cell_y=2,
                seconds=30.0,
            ),
            HeatmapCell(
                site_id="mall",
                floor_id="ground",
                bucket_s=m("2026-06-10T12:00:00+01:00"),
                cell_x=3,
                cell_y=0,
                seconds=15.0,
            ),
            CameraHealth(
                site_id="mall",
                camera_id="cam-a",
                edge_id="edge-1",
                state="online",
                fps=9.5,
                frames=1000,
                dropped_frames=2,
                lag_ms=120.0,
                model_versions={},
                message="",
                status_ns=ns("2026-06-10T11:05:00+01:00"),
            ),
            CameraProgress(
                site_id="mall", camera_id="cam-a", last_seq=10, last_event_ns=ns("2026-06-10T11:05:00+01:00")
            ),
            OccupancyAlertRow(
                site_id="mall",
                scope="zone",
                scope_id="shops",
                raised_ns=ns("2026-06-10T11:04:00+01:00"),
                capacity=2,
                clear_at=1,
                raised_count=3,
                peak_count=3,
                raise_published=True,
            ),
            OccupancyAlertRow(
                site_id="mall",
                scope="site",
                scope_id="mall",
                raised_ns=ns("2026-06-10T09:00:00+01:00"),
                capacity=5,
                clear_at=4,
                raised_count=6,
                peak_count=7,
                cleared_ns=ns("2026-06-10T09:30:00+01:00"),
                cleared_count=4,
            ),
        ]
    )


def make_database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'api.db'}"
    upgrade(url)
    with session_factory(create_db_engine(url)).begin() as session:
        _fill(session)
    return url


def make_app(url: str, **settings: object) -> FastAPI:
    return create_app(create_db_engine(url), ApiSettings(**{"keys": KEYS, **settings}))  # type: ignore[arg-type]
