"""The report endpoints and opening hours: figures within them by default, outside-hours figures beside
them, `hours=open|outside|all`, and sites without opening hours answering as before."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_db import READ, make_app
from fastapi.testclient import TestClient
from support import opening_hours_scene as scene

WEEK = {"start": "2026-10-24", "end": "2026-10-29", "bucket": "day"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with TestClient(make_app(scene.make_database(tmp_path_factory.mktemp("hours-api")))) as c:
        yield c


def test_site_info_shows_the_opening_hours(client: TestClient) -> None:
    sites = {s["id"]: s for s in client.get("/api/v1/sites", headers=READ).json()["items"]}
    assert sites["plain"]["opening_hours"] is None
    hours = sites["mall"]["opening_hours"]
    assert hours["weekly"]["saturday"] == ["10:00-01:30"] and hours["weekly"]["monday"] == ["10:00-21:00"]
    assert list(hours["weekly"]) == ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    assert hours["exceptions"] == [{"date": "2026-10-26", "name": "Bank holiday", "hours": []}]


def _figure(endpoint: str, body: dict[str, Any]) -> Any:
    """The headline number of a report, and of its outside-hours block (None without one)."""
    outside = body["outside_hours"]
    if endpoint == "footfall":
        return (body["total_in"], body["total_out"]), outside and (outside["total_in"], outside["total_out"])
    if endpoint == "visitors":
        return [d["visitors"] for d in body["days"]], outside and [d["visitors"] for d in outside["days"]]
    return body["zones"][0]["visits"], outside and outside["zones"][0]["visits"]


@pytest.mark.parametrize(
    ("site", "endpoint", "params", "hours", "figures"),
    [
        # A site with opening hours: within them by default, the rest beside.
        ("mall", "footfall", {}, "open", ((41, 13), (45, 8))),
        ("mall", "footfall", {"hours": "open"}, "open", ((41, 13), (45, 8))),
        ("mall", "footfall", {"hours": "outside"}, "outside", ((45, 8), None)),
        ("mall", "footfall", {"hours": "all"}, "all", ((86, 21), None)),
        ("mall", "footfall", {"exclude_staff": "true"}, "open", ((40, 13), (44, 8))),
        ("mall", "visitors", {}, "open", ([2, 2, 0, 1, 2], [1, 1, 1, 1, 1])),
        ("mall", "visitors", {"hours": "all"}, "all", ([3, 3, 1, 2, 3], None)),
        ("mall", "dwell", {}, "open", (3, 3)),
        ("mall", "dwell", {"hours": "outside"}, "outside", (3, None)),
        # A site without: around the clock, exactly as before opening hours existed.
        ("plain", "footfall", {}, "all", ((86, 21), None)),
        ("plain", "footfall", {"hours": "all"}, "all", ((86, 21), None)),
        ("plain", "visitors", {}, "all", ([3, 3, 1, 2, 3], None)),
        ("plain", "dwell", {}, "all", (6, None)),
    ],
)
def test_reports_default_to_opening_hours(
    client: TestClient, site: str, endpoint: str, params: dict[str, str], hours: str, figures: Any
) -> None:
    response = client.get(f"/api/v1/sites/{site}/{endpoint}", params={**WEEK, **params}, headers=READ)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["hours"] == hours
    assert _figure(endpoint, body) == figures


@pytest.mark.parametrize(
    ("site", "endpoint", "hours", "message"),
    [
        ("plain", "footfall", "open", "site 'plain' has no opening_hours in its config: only hours=all applies"),
        ("plain", "visitors", "outside", "site 'plain' has no opening_hours"),
        ("plain", "dwell", "open", "site 'plain' has no opening_hours"),
        ("mall", "footfall", "closed", "query.hours"),
        ("mall", "visitors", "", "query.hours"),
    ],
)
def test_hours_that_do_not_apply_are_a_clear_422(
    client: TestClient, site: str, endpoint: str, hours: str, message: str
) -> None:
    response = client.get(f"/api/v1/sites/{site}/{endpoint}", params={**WEEK, "hours": hours}, headers=READ)
    assert response.status_code == 422
    assert message in response.json()["detail"]


def test_footfall_pages_the_outside_series_with_the_figures(client: TestClient) -> None:
    params = {**WEEK, "all_lines": "true", "limit": 1, "offset": 2}
    body = client.get("/api/v1/sites/mall/footfall", params=params, headers=READ).json()
    assert body["series_total"] == 4
    assert [(s["line_id"], s["direction"], s["total"]) for s in body["series"]] == [("passage", "in", 50)]
    assert [(s["line_id"], s["direction"], s["total"]) for s in body["outside_hours"]["series"]] == [
        ("passage", "in", 0)
    ]
    # Totals are those of the whole answer, whatever the page.
    assert (body["total_in"], body["outside_hours"]["total_in"]) == (91, 45)


def test_footfall_says_when_the_site_was_open(client: TestClient) -> None:
    params = {"start": "2026-10-25", "end": "2026-10-26", "bucket": "hour"}
    body = client.get("/api/v1/sites/mall/footfall", params=params, headers=READ).json()
    assert len(body["buckets"]) == 25
    assert body["open_periods"] == [
        {"start": "2026-10-25T00:00:00+01:00", "end": "2026-10-25T01:30:00Z"},
        {"start": "2026-10-25T11:00:00Z", "end": "2026-10-25T17:00:00Z"},
    ]
    plain = client.get("/api/v1/sites/plain/footfall", params=params, headers=READ).json()
    assert plain["open_periods"] == [] and plain["outside_hours"] is None


def test_openapi_documents_the_hours_parameter_and_blocks(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for endpoint in ("footfall", "visitors", "dwell"):
        params = {p["name"]: p for p in spec["paths"][f"/api/v1/sites/{{site_id}}/{endpoint}"]["get"]["parameters"]}
        assert "opening hours" in params["hours"]["description"]
    assert "outside_hours" in spec["components"]["schemas"]["FootfallPage"]["properties"]
