"""Chain overview: each site's local day so far against the same weekday a week earlier up to the
same time, unique visitors, live occupancy against capacity, and the paged endpoint.

Scene: tests/support/chain_scene.py (three sites in London, New York and Tokyo, figures placed
relative to now; a week-ago crossing two hours after now's time of day must not count)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from api_db import READ, make_app
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from support import chain_scene

from cloud.analytics.buckets import NS
from cloud.analytics.chain import chain_site, today_range
from cloud.storage import create_db_engine, session_factory, upgrade

NOW_NS = time.time_ns()
SITES = {s.site.id: s for s in chain_scene.sites()}


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('chain') / 'api.db'}"
    upgrade(url)
    with session_factory(create_db_engine(url)).begin() as session:
        chain_scene.load(session, NOW_NS)
    return url


@pytest.fixture(scope="module")
def session(url: str) -> Iterator[Session]:
    engine = create_db_engine(url)
    with session_factory(engine)() as s:
        yield s
    engine.dispose()


@pytest.fixture(scope="module")
def client(url: str) -> Iterator[TestClient]:
    with TestClient(make_app(url)) as c:
        yield c


@pytest.mark.parametrize(
    ("timezone", "now", "midnight"),
    [
        ("Europe/London", "2026-06-10T10:15:00+00:00", "2026-06-10T00:00:00+01:00"),
        ("America/New_York", "2026-06-10T02:00:00+00:00", "2026-06-09T00:00:00-04:00"),  # still the 9th there
        ("Asia/Tokyo", "2026-06-10T16:00:00+00:00", "2026-06-11T00:00:00+09:00"),  # already the 11th
        ("Europe/London", "2026-10-25T12:00:00+00:00", "2026-10-25T00:00:00+01:00"),  # a 25-hour day
    ],
)
def test_today_is_the_sites_own_local_day(timezone: str, now: str, midnight: str) -> None:
    from datetime import datetime

    now_ns = int(datetime.fromisoformat(now).timestamp()) * NS
    span = today_range(timezone, now_ns)
    assert (span.start_ns, span.end_ns) == (int(datetime.fromisoformat(midnight).timestamp()) * NS, now_ns)


@pytest.mark.parametrize("site_id", sorted(chain_scene.EXPECTED))
def test_each_sites_day_against_a_week_ago(session: Session, site_id: str) -> None:
    row = chain_site(session, SITES[site_id], NOW_NS)
    want = chain_scene.EXPECTED[site_id]
    assert (row.footfall_in.today, row.footfall_in.week_ago) == (want.footfall_today, want.footfall_week_ago)
    assert (row.visitors.today, row.visitors.week_ago) == (want.visitors_today, want.visitors_week_ago)
    assert (row.occupancy, row.capacity) == (want.occupancy, want.capacity)
    assert row.hours.value == "all" and row.as_of.tzinfo is not None


@pytest.mark.parametrize(
    ("site_id", "footfall_change", "visitors_change", "utilisation"),
    [("pets09-split", 50.0, 50.0, None), ("harbour", None, None, 110.0), ("akihabara", -100.0, -100.0, None)],
)
def test_changes_and_utilisation(
    session: Session,
    site_id: str,
    footfall_change: float | None,
    visitors_change: float | None,
    utilisation: float | None,
) -> None:
    row = chain_site(session, SITES[site_id], NOW_NS)
    assert (row.footfall_in.change_pct, row.visitors.change_pct, row.utilisation_pct) == (
        footfall_change,
        visitors_change,
        utilisation,
    )


@pytest.mark.parametrize(
    ("params", "ids"),
    [
        ({}, ["akihabara", "harbour", "pets09-split"]),
        ({"limit": 2}, ["akihabara", "harbour"]),
        ({"limit": 2, "offset": 2}, ["pets09-split"]),
        ({"offset": 5}, []),
    ],
)
def test_the_endpoint_pages_sites_by_id(client: TestClient, params: dict[str, int], ids: list[str]) -> None:
    body = client.get("/api/v1/chain", params=params, headers=READ).json()
    assert body["total"] == 3
    assert [s["site_id"] for s in body["items"]] == ids


def test_the_endpoint_answers_the_analytics_figures(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    # The endpoint reads the clock; the scene was laid out at NOW_NS, when the module was
    # collected. A site's local midnight in between (CI crossed New York's) empties its "today".
    monkeypatch.setattr("cloud.api.routes.chain.time", SimpleNamespace(time_ns=lambda: NOW_NS))
    items = {s["site_id"]: s for s in client.get("/api/v1/chain", headers=READ).json()["items"]}
    for site_id, want in chain_scene.EXPECTED.items():
        got = items[site_id]
        assert (got["footfall_in"]["today"], got["footfall_in"]["week_ago"]) == (
            want.footfall_today,
            want.footfall_week_ago,
        )
        assert (got["visitors"]["today"], got["occupancy"], got["capacity"]) == (
            want.visitors_today,
            want.occupancy,
            want.capacity,
        )
    assert items["harbour"]["as_of"].endswith(("-05:00", "-04:00"))


@pytest.mark.parametrize(
    ("params", "headers", "status"),
    [
        ({"limit": 0}, READ, 422),
        ({"limit": 100_000}, READ, 422),
        ({"offset": -1}, READ, 422),
        ({}, {}, 401),
    ],
)
def test_bad_chain_requests(client: TestClient, params: dict[str, int], headers: dict[str, str], status: int) -> None:
    assert client.get("/api/v1/chain", params=params, headers=headers).status_code == status
