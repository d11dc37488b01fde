"""The query API on a small database with known rows: every endpoint, its errors and its keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from api_db import ADMIN, DAY, READ, make_app, make_database
from fastapi.testclient import TestClient

BASE = "/api/v1/sites/mall"


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return make_database(tmp_path_factory.mktemp("api"))


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(make_app(db_url)) as c:
        yield c


def test_sites_list_what_a_dashboard_needs_and_no_camera_sources(client: TestClient) -> None:
    body = client.get("/api/v1/sites", headers=READ).json()
    assert body["total"] == 1
    site = body["items"][0]
    assert site["id"] == "mall" and site["timezone"] == "Europe/London"
    assert site["entrance_lines"] == ["door"] and site["lines"] == ["door", "passage"]
    assert [f["id"] for f in site["floors"]] == ["ground", "upper"]
    assert "/dev/null" not in client.get(f"{BASE}", headers=READ).text


def test_footfall_hourly_in_site_time(client: TestClient) -> None:
    body = client.get(f"{BASE}/footfall", params={**DAY, "bucket": "hour"}, headers=READ).json()
    assert body["buckets"][0] == "2026-06-10T00:00:00+01:00" and len(body["buckets"]) == 24
    series = {(s["line_id"], s["direction"]): s for s in body["series"]}
    assert set(series) == {("door", "in"), ("door", "out")}
    assert series[("door", "in")]["counts"][9] == 3 and series[("door", "in")]["counts"][10] == 1
    assert series[("door", "out")]["counts"][9] == 2
    assert (body["total_in"], body["total_out"], body["series_total"]) == (4, 2, 2)


def test_footfall_all_lines_and_paging(client: TestClient) -> None:
    params = {**DAY, "bucket": "day", "all_lines": "true"}
    body = client.get(f"{BASE}/footfall", params=params, headers=READ).json()
    assert body["series_total"] == 4 and body["total_in"] == 9
    page = client.get(f"{BASE}/footfall", params={**params, "limit": 1, "offset": 2}, headers=READ).json()
    assert [(s["line_id"], s["direction"], s["total"]) for s in page["series"]] == [("passage", "in", 5)]
    # Totals stay those of the whole answer, whatever the page.
    assert page["total_in"] == 9


def test_visitors_dwell_transitions(client: TestClient) -> None:
    visitors = client.get(f"{BASE}/visitors", params=DAY, headers=READ).json()
    assert visitors["total"] == 4 and [d["visitors"] for d in visitors["days"]] == [4]
    dwell = {z["zone_id"]: z for z in client.get(f"{BASE}/dwell", params=DAY, headers=READ).json()["zones"]}
    assert dwell["food"]["visits"] == 4 and dwell["food"]["mean_s"] == 25.0 and dwell["food"]["median_s"] == 25.0
    assert dwell["shops"]["visits"] == 0 and dwell["shops"]["mean_s"] is None
    transitions = client.get(f"{BASE}/transitions", params=DAY, headers=READ).json()
    assert transitions["items"] == [{"from_zone": "food", "to_zone": "shops", "count": 4}]
    assert transitions["visitor_paths"] == 4


def test_heatmap_grid_and_png(client: TestClient) -> None:
    grid = client.get(f"{BASE}/floors/ground/heatmap", params=DAY, headers=READ).json()
    assert (grid["width"], grid["height"]) == (4, 3)
    assert grid["seconds"][2][1] == 120.0 and grid["seconds"][0][3] == 15.0 and grid["total_seconds"] == 135.0
    png = client.get(f"{BASE}/floors/ground/heatmap.png", params={**DAY, "cell_px": 10}, headers=READ)
    assert png.headers["content-type"] == "image/png"
    image = cv2.imdecode(np.frombuffer(png.content, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (30, 40, 3)
    # The busiest cell is drawn in colour, an empty one stays the neutral background.
    assert not np.array_equal(image[25, 15], image[5, 5])


def test_heatmap_png_of_a_floor_without_extent_or_cells_is_one_blank_cell(client: TestClient) -> None:
    # `upper` has no extent and no data: an empty grid, which once crashed the server process.
    png = client.get(f"{BASE}/floors/upper/heatmap.png", params={**DAY, "cell_px": 10}, headers=READ)
    assert png.status_code == 200
    assert cv2.imdecode(np.frombuffer(png.content, np.uint8), cv2.IMREAD_COLOR).shape == (10, 10, 3)


def test_heatmap_over_a_floor_plan(db_url: str, tmp_path: Path) -> None:
    from cloud.storage import create_db_engine, session_factory
    from cloud.storage.models import Site

    plan = tmp_path / "plan.png"
    cv2.imwrite(str(plan), np.full((60, 80, 3), 255, np.uint8))
    with session_factory(create_db_engine(db_url)).begin() as session:
        site = session.get(Site, "mall")
        assert site is not None
        config = dict(site.config)
        config["floors"] = [
            {**config["floors"][0], "plan_image": str(plan), "pixels_per_metre": 20.0},
            config["floors"][1],
        ]
        site.config = config
    try:
        with TestClient(make_app(db_url)) as c:
            assert c.get(BASE, headers=READ).json()["floors"][0]["has_plan"] is True
            png = c.get(f"{BASE}/floors/ground/heatmap.png", params=DAY, headers=READ)
        image = cv2.imdecode(np.frombuffer(png.content, np.uint8), cv2.IMREAD_COLOR)
        # The plan's size and scale: cell (1, 2) at 20 px/m covers plan pixels x 20-39, y 40-59.
        assert image.shape == (60, 80, 3)
        assert (image[50, 30] != 255).any() and (image[10, 10] == 255).all()
    finally:
        with session_factory(create_db_engine(db_url)).begin() as session:
            site = session.get(Site, "mall")
            assert site is not None
            config = dict(site.config)
            config["floors"] = [
                {k: v for k, v in config["floors"][0].items() if k not in ("plan_image", "pixels_per_metre")},
                config["floors"][1],
            ]
            site.config = config


def test_occupancy_live_history_and_stream(client: TestClient) -> None:
    live = client.get(f"{BASE}/occupancy/live", headers=READ).json()
    assert live["site"]["count"] == 4
    assert {z["scope_id"]: z["count"] for z in live["zones"]} == {"food": 0, "shops": 3, "empty": 0}
    history = client.get(f"{BASE}/occupancy/history", params={**DAY, "bucket": "hour"}, headers=READ).json()
    assert len(history["site"]["peaks"]) == 24
    with client.stream("GET", f"{BASE}/occupancy/stream", params={"max_events": 1}, headers=READ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())
    assert text.startswith("event: occupancy\nid: 1\ndata: ")
    assert '"count":4' in text


def test_rebase_needs_an_admin_key_and_changes_the_live_count(db_url: str) -> None:
    with TestClient(make_app(db_url)) as client:
        body = {"scope": "zone", "scope_id": "shops", "count": 1}
        assert client.post(f"{BASE}/occupancy/rebase", json=body, headers=READ).status_code == 403
        assert (
            client.post(f"{BASE}/occupancy/rebase", json={**body, "scope_id": "nope"}, headers=ADMIN).status_code == 404
        )
        assert client.post(f"{BASE}/occupancy/rebase", json={**body, "count": -1}, headers=ADMIN).status_code == 422
        done = client.post(f"{BASE}/occupancy/rebase", json=body, headers=ADMIN)
        assert done.status_code == 200 and done.json()["count"] == 1
        live = client.get(f"{BASE}/occupancy/live", headers=READ).json()
        assert {z["scope_id"]: z["count"] for z in live["zones"]}["shops"] == 1
        client.post(f"{BASE}/occupancy/rebase", json={**body, "count": 3}, headers=ADMIN)


def test_camera_health(client: TestClient) -> None:
    body = client.get(f"{BASE}/cameras", params={"stale_after_s": 60}, headers=READ).json()
    cams = {c["camera_id"]: c for c in body["items"]}
    assert cams["cam-a"]["state"] == "online" and cams["cam-a"]["fps"] == 9.5 and cams["cam-a"]["lag_ms"] == 120.0
    assert cams["cam-b"]["state"] == "unknown" and cams["cam-b"]["stale"] is True
    assert (
        client.get(f"{BASE}/cameras", params={"limit": 1, "offset": 1}, headers=READ).json()["items"][0]["camera_id"]
        == "cam-b"
    )


@pytest.mark.parametrize(
    ("path", "params", "status", "message"),
    [
        ("/api/v1/sites/nowhere/footfall", {}, 404, "unknown site 'nowhere'"),
        (f"{BASE}/floors/roof/heatmap", {}, 404, "no floor 'roof'"),
        (f"{BASE}/floors/roof/heatmap.png", {}, 404, "no floor 'roof'"),
        (f"{BASE}/footfall", {"bucket": "week"}, 422, "query.bucket"),
        (f"{BASE}/footfall", {"start": "2026-06-11", "end": "2026-06-10"}, 422, "is before start"),
        (
            f"{BASE}/footfall",
            {"start": "2026-06-01", "end": "2026-06-10", "bucket": "minute"},
            422,
            "choose a coarser bucket",
        ),
        (f"{BASE}/footfall", {"start": "2024-01-01", "end": "2026-06-10", "bucket": "day"}, 422, "at most 400 days"),
        (f"{BASE}/footfall", {"start": "1900-01-01"}, 422, "must lie between"),
        (f"{BASE}/footfall", {"start": "yesterday"}, 422, "query.start"),
        (f"{BASE}/footfall", {"limit": 5000}, 422, "limit may be at most 1000"),
        (f"{BASE}/footfall", {"limit": 0}, 422, "query.limit"),
        (f"{BASE}/footfall", {"offset": -1}, 422, "query.offset"),
        (f"{BASE}/cameras", {"stale_after_s": 0}, 422, "query.stale_after_s"),
        (f"{BASE}/floors/ground/heatmap.png", {"cell_px": 0}, 422, "query.cell_px"),
        (f"{BASE}/occupancy/stream", {"max_events": 0}, 422, "query.max_events"),
    ],
)
def test_bad_requests_get_a_message_and_never_a_server_error(
    client: TestClient, path: str, params: dict[str, object], status: int, message: str
) -> None:
    response = client.get(path, params=params, headers=READ)
    assert response.status_code == status
    assert message in response.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/api/v1/sites", {}, 401),
        ("GET", "/api/v1/sites", {"X-API-Key": "not-a-key-of-this-site"}, 401),
        ("GET", "/api/v1/sites", READ, 200),
        ("GET", "/api/v1/sites", ADMIN, 200),
        ("GET", f"{BASE}/footfall", {}, 401),
        # Unknown sites are not revealed to callers without a key.
        ("GET", "/api/v1/sites/nowhere/footfall", {}, 401),
        ("POST", f"{BASE}/occupancy/rebase", {}, 401),
        ("POST", f"{BASE}/occupancy/rebase", READ, 403),
    ],
)
def test_keys(client: TestClient, method: str, path: str, headers: dict[str, str], status: int) -> None:
    body = {"scope": "site", "scope_id": "mall", "count": 4} if method == "POST" else None
    assert client.request(method, path, headers=headers, json=body).status_code == status


def test_anonymous_read_opens_reads_only(db_url: str) -> None:
    with TestClient(make_app(db_url, anonymous_read=True)) as client:
        assert client.get(f"{BASE}/footfall").status_code == 200
        body = {"scope": "site", "scope_id": "mall", "count": 4}
        assert client.post(f"{BASE}/occupancy/rebase", json=body).status_code == 401


def test_cors_is_off_by_default_and_opens_to_named_origins(db_url: str) -> None:
    preflight = {"Origin": "https://bi.example", "Access-Control-Request-Method": "GET"}
    with TestClient(make_app(db_url)) as client:
        assert "access-control-allow-origin" not in client.options("/api/v1/sites", headers=preflight).headers
    with TestClient(make_app(db_url, cors_origins=("https://bi.example",))) as client:
        response = client.options("/api/v1/sites", headers=preflight)
        assert response.headers["access-control-allow-origin"] == "https://bi.example"


def test_database_down_is_503_not_500() -> None:
    with TestClient(make_app("postgresql+psycopg://nobody:x@127.0.0.1:9/none?connect_timeout=1")) as client:
        response = client.get("/api/v1/sites", headers=READ)
    assert response.status_code == 503 and "database is unavailable" in response.json()["detail"]


def test_dashboard_and_openapi_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and '<script src="/vendor/plotly.min.js">' in page.text
    js = client.get("/vendor/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000
    assert client.get("/static/app.js").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for suffix in (
        "footfall",
        "visitors",
        "occupancy/live",
        "occupancy/stream",
        "occupancy/history",
        "dwell",
        "floors/{floor_id}/heatmap",
        "floors/{floor_id}/heatmap.png",
        "transitions",
        "cameras",
        "occupancy/rebase",
    ):
        assert f"/api/v1/sites/{{site_id}}/{suffix}" in paths
