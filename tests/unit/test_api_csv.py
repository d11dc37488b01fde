"""CSV exports of the report endpoints: `format=csv` or `Accept: text/csv`, a header row, one row
per bucket and line or zone, site-local times with their offset; unknown formats a clear 4xx;
the body streamed, never held whole in memory."""

from __future__ import annotations

import asyncio
import csv
import io
import tracemalloc
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from analytics_db import NS, make_site, ns
from api_db import DAY, READ, make_app, make_database
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import insert
from support import opening_hours_scene as scene

from cloud.api.csv_export import ROWS_PER_CHUNK
from cloud.storage import create_db_engine, session_factory, upgrade
from cloud.storage.models import OccupancyAlertRow
from cloud.storage.sites import sync_sites

BASE = "/api/v1/sites/mall"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with TestClient(make_app(make_database(tmp_path_factory.mktemp("csv-api")))) as c:
        yield c


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


# (endpoint, header, data rows, one row that must be among them)
EXPORTS = [
    ("footfall", "bucket_start,line_id,direction,count,hours", 48,
     ["2026-06-10T09:00:00+01:00", "door", "in", "3", "all"]),
    ("visitors", "day,visitors,source,hours", 1, ["2026-06-10T00:00:00+01:00", "4", "visitors", "all"]),
    ("dwell", "zone_id,visits,mean_s,median_s,p90_s,max_s,visits_0-10s,visits_10-30s,visits_30-60s,visits_60-120s,"
     "visits_120-300s,visits_300-600s,visits_600-1800s,visits_1800-3600s,visits_3600s+,hours", 3,
     ["food", "4", "25.0", "25.0", "37.0", "40.0", "0", "2", "2", "0", "0", "0", "0", "0", "0", "all"]),
    ("occupancy/history", "bucket_start,scope,scope_id,peak", 96, ["2026-06-10T00:00:00+01:00", "site", "mall", "0"]),
    ("transitions", "from_zone,to_zone,people", 1, ["food", "shops", "4"]),
    ("floors/ground/heatmap", "cell_x,cell_y,x_m,y_m,seconds", 12, ["1", "2", "1.5", "2.5", "120.0"]),
    ("cameras", "camera_id,state,stale,edge_id,fps,source_fps,lag_ms,frames,dropped_frames,thinned_frames,overloaded,"
     "last_status,last_event,downtime_s,outages,message", 2,
     ["cam-b", "unknown", "True", "", "", "", "", "", "", "", "", "", "", "0.0", "0", ""]),
    ("occupancy/alerts", "alert_id,scope,scope_id,capacity,clear_at,raised,raised_count,peak_count,cleared,"
     "cleared_count,published", 2,
     ["occupancy:site:mall:1781078400000000000", "site", "mall", "5", "4", "2026-06-10T09:00:00+01:00", "6", "7",
      "2026-06-10T09:30:00+01:00", "4", "False"]),
]  # fmt: skip
HOW = [({"format": "csv"}, {}), ({}, {"Accept": "text/csv"}), ({"format": "csv"}, {"Accept": "application/json"})]


@pytest.mark.parametrize(("params", "headers"), HOW, ids=["format=csv", "Accept", "format wins"])
@pytest.mark.parametrize(("endpoint", "header", "n", "row"), EXPORTS, ids=[e[0] for e in EXPORTS])
def test_every_report_answers_csv(
    client: TestClient,
    endpoint: str,
    header: str,
    n: int,
    row: list[str],
    params: dict[str, str],
    headers: dict[str, str],
) -> None:
    response = client.get(f"{BASE}/{endpoint}", params={**DAY, **params}, headers={**READ, **headers})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="mall-')
    rows = _rows(response.text)
    assert ",".join(rows[0]) == header
    assert len(rows) == 1 + n
    assert row in rows[1:]
    assert all(len(r) == len(rows[0]) for r in rows)


@pytest.mark.parametrize(("endpoint", "header", "n", "row"), EXPORTS, ids=[e[0] for e in EXPORTS])
@pytest.mark.parametrize(
    ("params", "headers", "status", "message"),
    [
        ({"format": "xml"}, {}, 422, "query.format: Input should be 'json' or 'csv'"),
        ({"format": "CSV"}, {}, 422, "'json' or 'csv'"),
        ({"format": ""}, {}, 422, "'json' or 'csv'"),
        ({}, {"Accept": "application/xml"}, 406, "available: application/json, text/csv"),
        ({}, {"Accept": "text/html, application/xml;q=0.9"}, 406, "available: application/json, text/csv"),
    ],
)
def test_unknown_formats_are_a_clear_4xx(
    client: TestClient,
    endpoint: str,
    header: str,
    n: int,
    row: list[str],
    params: dict[str, str],
    headers: dict[str, str],
    status: int,
    message: str,
) -> None:
    response = client.get(f"{BASE}/{endpoint}", params={**DAY, **params}, headers={**READ, **headers})
    assert response.status_code == status
    assert message in response.json()["detail"]


@pytest.mark.parametrize(
    ("accept", "csv_expected"),
    [
        ("", False),
        ("application/json", False),
        ("*/*", False),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),
        ("text/csv;q=0.5, application/json", False),
        ("application/json;q=0.1, text/csv", True),
        ("text/*, text/csv", True),
        ("text/csv, */*", True),
    ],
)
def test_accept_header_negotiates(client: TestClient, accept: str, csv_expected: bool) -> None:
    response = client.get(f"{BASE}/transitions", params=DAY, headers={**READ, "Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv" if csv_expected else "application/json")


def test_paging_applies_to_json_only(client: TestClient) -> None:
    params = {**DAY, "all_lines": "true", "limit": 1}
    assert len(client.get(f"{BASE}/footfall", params=params, headers=READ).json()["series"]) == 1
    rows = _rows(client.get(f"{BASE}/footfall", params={**params, "format": "csv"}, headers=READ).text)
    assert {(r[1], r[2]) for r in rows[1:]} == {("door", "in"), ("door", "out"), ("passage", "in"), ("passage", "out")}


def test_csv_needs_a_read_key(client: TestClient) -> None:
    assert client.get(f"{BASE}/footfall", params={**DAY, "format": "csv"}).status_code == 401


def test_openapi_documents_csv_beside_json(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("footfall", "visitors", "dwell", "occupancy/history", "transitions", "cameras", "occupancy/alerts"):
        operation = spec["paths"][f"/api/v1/sites/{{site_id}}/{path}"]["get"]
        assert set(operation["responses"]["200"]["content"]) == {"application/json", "text/csv"}, path
        fmt = next(p for p in operation["parameters"] if p["name"] == "format")
        assert "csv" in fmt["description"]


@pytest.fixture(scope="module")
def hours_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with TestClient(make_app(scene.make_database(tmp_path_factory.mktemp("csv-hours")))) as c:
        yield c


@pytest.mark.parametrize(
    ("endpoint", "params", "sums"),
    [
        # Within opening hours, the outside-hours rows follow, labelled: both add up to their totals.
        ("footfall", {}, {"open": 54, "outside": 53}),
        ("footfall", {"hours": "outside"}, {"outside": 53}),
        ("footfall", {"hours": "all", "exclude_staff": "true"}, {"all": 105}),
        ("visitors", {}, {"open": 7, "outside": 5}),
        ("dwell", {"hours": "all"}, {"all": 6}),
    ],
)
def test_csv_respects_opening_hours_and_staff(
    hours_client: TestClient, endpoint: str, params: dict[str, str], sums: dict[str, int]
) -> None:
    query = {**scene_week(), "format": "csv", **params}
    rows = _rows(hours_client.get(f"/api/v1/sites/mall/{endpoint}", params=query, headers=READ).text)
    column = {"footfall": 3, "visitors": 1, "dwell": 1}[endpoint]
    got: dict[str, int] = {}
    for r in rows[1:]:
        got[r[-1]] = got.get(r[-1], 0) + int(r[column])
    assert got == sums


def scene_week() -> dict[str, str]:
    return {"start": "2026-10-24", "end": "2026-10-29", "bucket": "day"}


def test_csv_times_carry_their_offset_across_the_dst_night(hours_client: TestClient) -> None:
    params = {"start": "2026-10-25", "end": "2026-10-26", "bucket": "hour", "hours": "all", "format": "csv"}
    rows = _rows(hours_client.get("/api/v1/sites/mall/footfall", params=params, headers=READ).text)
    stamps = list(dict.fromkeys(r[0] for r in rows[1:]))
    assert len(stamps) == 25
    assert stamps[:3] == ["2026-10-25T00:00:00+01:00", "2026-10-25T01:00:00+01:00", "2026-10-25T01:00:00+00:00"]
    assert ["2026-10-25T01:00:00+00:00", "door", "in", "13", "all"] in rows


# Streaming: the app is called as ASGI, chunks counted and dropped as they arrive, so what
# tracemalloc sees at its peak is what the server holds, not the client's copy of the body.


def _serve(app: FastAPI, path: str, params: dict[str, str]) -> tuple[int, int, int]:
    """(status, body bytes, body messages) of one GET, the body discarded chunk by chunk."""
    got = {"status": 0, "bytes": 0, "messages": 0}
    headers = [(b"x-api-key", READ["X-API-Key"].encode()), (b"host", b"test")]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "root_path": "", "query_string": urlencode(params).encode(),
        "headers": headers, "client": ("127.0.0.1", 1), "server": ("test", 80), "app": app,
    }  # fmt: skip
    asked = 0

    async def receive() -> dict[str, Any]:
        nonlocal asked
        asked += 1
        if asked == 1:
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # no disconnect: wait until the response is done
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            got["status"] = message["status"]
        elif message["type"] == "http.response.body" and message.get("body"):
            got["bytes"] += len(message["body"])
            got["messages"] += 1

    asyncio.run(app(scope, receive, send))
    return got["status"], got["bytes"], got["messages"]


def _peak(app: FastAPI, path: str, params: dict[str, str]) -> tuple[int, int, int]:
    # A first, empty answer fills the caches (compiled SQL, the connection pool, imports) beforehand.
    assert _serve(app, path, {**params, "end": params["start"]})[0] == 200
    tracemalloc.start()
    try:
        status, size, messages = _serve(app, path, params)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status == 200
    return size, messages, peak


@pytest.fixture(scope="module")
def big_app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    """A site with 60 entrance lines and 12 000 capacity alerts, one a second from midnight (SQLite)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('csv-big') / 'big.db'}"
    upgrade(url)
    engine = create_db_engine(url)
    site = make_site()
    raw = site.model_dump(mode="json")
    raw["lines"] = [{"id": f"door-{i:02d}", "camera": "cam-a", "points": [[0, 0], [10, 0]]} for i in range(60)]
    big = type(site).model_validate(raw)
    first = ns("2026-06-10T00:00:00+01:00")
    with session_factory(engine).begin() as session:
        sync_sites(session, [big])
        session.execute(
            insert(OccupancyAlertRow),
            [
                {"site_id": "mall", "scope": "zone", "scope_id": f"zone-{i % 50:02d}", "raised_ns": first + i * NS,
                 "capacity": 20, "clear_at": 18, "raised_count": 21, "peak_count": 25,
                 "cleared_ns": first + i * NS + 60 * NS, "cleared_count": 17, "raise_published": True,
                 "clear_published": True}
                for i in range(12_000)
            ],
        )  # fmt: skip
    engine.dispose()
    return make_app(url)


def test_alerts_export_streams_from_a_server_side_cursor(big_app: FastAPI) -> None:
    # A quarter of the alerts (the day's first 3000 s), then all of them: the memory held does
    # not grow with the export, as rows come through the cursor a chunk at a time.
    path, day = f"{BASE}/occupancy/alerts", {"start": "2026-06-10", "format": "csv"}
    small_size, _, small_peak = _peak(big_app, path, {**day, "end": "2026-06-10T00:50:00+01:00"})
    size, messages, peak = _peak(big_app, path, {**day, "end": "2026-06-11"})
    assert size > 1_500_000 and size > 3.5 * small_size
    assert messages >= 12_000 // ROWS_PER_CHUNK
    assert peak - small_peak < (size - small_size) / 4, (peak, small_peak, size, small_size)


def test_footfall_export_never_holds_the_body(big_app: FastAPI) -> None:
    # A day of minute buckets x 60 lines x 2 directions = 172 920 rows, against a quarter of it.
    # The report is a list of counts per series (bounded by max_buckets); the CSV text is
    # written as it is sent, so the server holds far less than the body's growth.
    path, day = f"{BASE}/footfall", {"start": "2026-06-10", "bucket": "minute", "format": "csv"}
    small_size, _, small_peak = _peak(big_app, path, {**day, "end": "2026-06-10T06:00:00+01:00"})
    size, messages, peak = _peak(big_app, path, {**day, "end": "2026-06-11"})
    assert size > 7_000_000
    assert messages >= 1440 * 120 // ROWS_PER_CHUNK
    assert peak - small_peak < (size - small_size) / 2, (peak, small_peak, size, small_size)
