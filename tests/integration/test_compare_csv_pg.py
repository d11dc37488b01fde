"""Comparisons and CSV exports on PostgreSQL: the comparison equals the reports and SQLite's answer
on the opening-hours scene, every CSV export is SQLite's byte for byte, and the alerts export
streams through a server-side cursor."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert
from support import opening_hours_scene as scene

from cloud.analytics.buckets import TimeRange
from cloud.analytics.comparison import compare
from cloud.analytics.footfall import footfall
from cloud.api.app import create_app
from cloud.api.auth import KeyRing
from cloud.api.settings import ApiSettings
from cloud.capacity.alerts import iter_alerts_in
from cloud.storage import create_db_engine, session_factory, upgrade
from cloud.storage.models import OccupancyAlertRow

pytestmark = pytest.mark.integration

KEY = "read-key-for-pg-tests-01"
READ = {"X-API-Key": KEY}
SITE = scene.make_site()
CASES = [c for c in scene.FOOTFALL_CASES if not c.all_lines]
WEEK = {"start": "2026-10-24", "end": "2026-10-29"}
EXPORTS = [
    ("footfall", {"bucket": "hour"}),
    ("footfall", {"bucket": "day", "hours": "all", "exclude_staff": "true"}),
    ("visitors", {}),
    ("dwell", {"hours": "outside"}),
    ("occupancy/history", {"bucket": "day"}),
    ("transitions", {}),
    ("floors/ground/heatmap", {}),
    ("occupancy/alerts", {}),
]


def _load(url: str) -> None:
    upgrade(url)
    engine = create_db_engine(url)
    with session_factory(engine).begin() as s:
        scene.load(s, SITE)
        # Alerts one a minute over the week: enough rows for several cursor chunks.
        first = scene.ns("2026-10-24T00:00:00+01:00")
        s.execute(
            insert(OccupancyAlertRow),
            [
                {"site_id": "mall", "scope": "zone", "scope_id": "food", "raised_ns": first + i * 60 * scene.NS,
                 "capacity": 20, "clear_at": 18, "raised_count": 21, "peak_count": 22,
                 "cleared_ns": first + i * 60 * scene.NS + 30 * scene.NS, "cleared_count": 17,
                 "raise_published": True, "clear_published": i % 2 == 0}
                for i in range(1500)
            ],
        )  # fmt: skip
    engine.dispose()


def test_comparisons_and_csv_on_postgresql_answer_as_on_sqlite(pg_url: str, tmp_path: Path) -> None:
    comparisons, exports = [], []
    for url in (pg_url, f"sqlite:///{tmp_path / 'compare.db'}"):
        _load(url)
        engine = create_db_engine(url)
        with session_factory(engine)() as s:
            answers = []
            for case in CASES:
                got = compare(s, SITE, case.span, case.bucket, hours=case.hours, exclude_staff=case.exclude_staff)
                report = footfall(s, SITE, case.span, case.bucket, exclude_staff=case.exclude_staff, hours=case.hours)
                assert (got.current.total_in, got.current.total_out) == (report.total_in, report.total_out)
                answers.append(got)
            comparisons.append(answers)
            # The cursor hands the rows over in chunks; all of them, newest first.
            alerts = list(iter_alerts_in(s, "mall", TimeRange(0, 2**62), chunk=100))
            assert len(alerts) == 1500 and alerts[0].raised_ns > alerts[-1].raised_ns
        app = create_app(engine, ApiSettings(keys=KeyRing.parse(f"read:{KEY}")))
        with TestClient(app) as client:
            texts = []
            for endpoint, params in EXPORTS:
                response = client.get(
                    f"/api/v1/sites/mall/{endpoint}", params={**WEEK, **params, "format": "csv"}, headers=READ
                )
                assert response.status_code == 200, response.text
                texts.append(response.text)
            assert texts[-1].count("\r\n") == 1 + 1500
            exports.append(texts)
        engine.dispose()
    postgresql, sqlite = comparisons
    assert postgresql == sqlite
    assert exports[0] == exports[1]
