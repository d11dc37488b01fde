"""Site map and chain overview on PostgreSQL: the chain scene (tests/support/chain_scene.py)
answers as on SQLite, through the analytics and through the API."""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support import chain_scene

from cloud.analytics.buckets import TimeRange
from cloud.analytics.chain import chain_site
from cloud.analytics.site_map import site_map
from cloud.api.app import create_app
from cloud.api.auth import KeyRing
from cloud.api.settings import ApiSettings
from cloud.storage import create_db_engine, session_factory, upgrade

pytestmark = pytest.mark.integration

KEY = "read-key-for-pg-tests-01"
NOW_NS = time.time_ns()


def _answers(url: str) -> tuple[list[Any], list[Any]]:
    upgrade(url)
    engine = create_db_engine(url)
    with session_factory(engine).begin() as s:
        chain_scene.load(s, NOW_NS)
    sites = chain_scene.sites()
    with session_factory(engine)() as s:
        rows = [asdict(chain_site(s, site, NOW_NS)) for site in sites]
        day = TimeRange(NOW_NS - 86_400 * 1_000_000_000, NOW_NS)
        maps = [site_map(s, site, "ground", day) for site in sites]
    analytics: list[Any] = [
        *rows,
        *[(m.geometry, m.heatmap.seconds.tolist()) for m in maps],
    ]
    app = create_app(engine, ApiSettings(keys=KeyRing.parse(f"read:{KEY}")))
    with TestClient(app) as client:
        headers = {"X-API-Key": KEY}
        chain = client.get("/api/v1/chain", params={"limit": 2, "offset": 1}, headers=headers).json()
        api: list[Any] = [
            {k: v for k, v in chain.items() if k != "as_of"}
            | {"items": [{**i, "as_of": None} for i in chain["items"]]},
            client.get("/api/v1/sites/pets09-split/map", headers=headers).json(),
            client.get("/api/v1/sites/harbour/map", params={"floor": "roof"}, headers=headers).status_code,
        ]
    engine.dispose()
    return analytics, api


def test_site_map_and_chain_on_postgresql_answer_as_on_sqlite(pg_url: str, tmp_path: Path) -> None:
    pg = _answers(pg_url)
    lite = _answers(f"sqlite:///{tmp_path / 'chain.db'}")
    assert pg == lite
    analytics, api = pg
    by_site = {row["site_id"]: row for row in analytics[:3]}
    for site_id, want in chain_scene.EXPECTED.items():
        assert by_site[site_id]["footfall_in"]["today"] == want.footfall_today
        assert by_site[site_id]["visitors"]["week_ago"] == want.visitors_week_ago
    assert [i["site_id"] for i in api[0]["items"]] == ["harbour", "pets09-split"]
    assert api[1]["heatmap"]["total_seconds"] == 435.0 and api[2] == 404
