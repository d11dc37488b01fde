"""Comparisons: the range against the previous period of the same length and the same weekdays a
week earlier, within or outside opening hours, staff excluded or not. Data: the opening-hours
scene around the London DST night (tests/support/opening_hours_scene.py); the reports
themselves (footfall, unique_visitors) are the reference every comparison figure must equal."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from api_db import READ, make_app
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from support import opening_hours_scene as scene

from cloud.analytics.buckets import TimeRange
from cloud.analytics.comparison import baseline_ranges, change_pct, compare
from cloud.analytics.footfall import footfall
from cloud.analytics.hours import Hours
from cloud.analytics.visitors import unique_visitors
from cloud.storage import create_db_engine, session_factory

SITE = scene.make_site()
MON_TO_WED = {"start": "2026-10-26", "end": "2026-10-29", "bucket": "day"}


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return scene.make_database(tmp_path_factory.mktemp("compare"))


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
    ("value", "baseline", "expected"),
    [(10, 8, 25.0), (6, 8, -25.0), (0, 4, -100.0), (1, 3, -66.7), (3, 3, 0.0), (5, 0, None), (0, 0, None)],
)
def test_change_is_a_percentage_of_a_nonzero_baseline(value: int, baseline: int, expected: float | None) -> None:
    assert change_pct(value, baseline) == expected


@pytest.mark.parametrize(
    ("start", "end", "previous", "week_ago"),
    [
        # A plain day: the day before, and the same weekday a week before.
        (
            "2026-10-27T00:00:00+00:00",
            "2026-10-28T00:00:00+00:00",
            ("2026-10-26T00:00:00+00:00", "2026-10-27T00:00:00+00:00"),
            ("2026-10-20T00:00:00+01:00", "2026-10-21T00:00:00+01:00"),
        ),
        # The 25-hour Sunday: the previous period is the local day before (24 h), a week earlier too.
        (
            "2026-10-25T00:00:00+01:00",
            "2026-10-26T00:00:00+00:00",
            ("2026-10-24T00:00:00+01:00", "2026-10-25T00:00:00+01:00"),
            ("2026-10-18T00:00:00+01:00", "2026-10-19T00:00:00+01:00"),
        ),
        # A week after it: a week earlier is the 25-hour day itself.
        (
            "2026-11-01T00:00:00+00:00",
            "2026-11-02T00:00:00+00:00",
            ("2026-10-31T00:00:00+00:00", "2026-11-01T00:00:00+00:00"),
            ("2026-10-25T00:00:00+01:00", "2026-10-26T00:00:00+00:00"),
        ),
        # Three days: the three before; a range of hours keeps its local times.
        (
            "2026-10-26T00:00:00+00:00",
            "2026-10-29T00:00:00+00:00",
            ("2026-10-23T00:00:00+01:00", "2026-10-26T00:00:00+00:00"),
            ("2026-10-19T00:00:00+01:00", "2026-10-22T00:00:00+01:00"),
        ),
        (
            "2026-10-27T10:00:00+00:00",
            "2026-10-27T12:30:00+00:00",
            ("2026-10-27T07:30:00+00:00", "2026-10-27T10:00:00+00:00"),
            ("2026-10-20T10:00:00+01:00", "2026-10-20T12:30:00+01:00"),
        ),
        # An empty range: empty baselines.
        (
            "2026-10-27T10:00:00+00:00",
            "2026-10-27T10:00:00+00:00",
            ("2026-10-27T10:00:00+00:00", "2026-10-27T10:00:00+00:00"),
            ("2026-10-20T10:00:00+01:00", "2026-10-20T10:00:00+01:00"),
        ),
    ],
)
def test_baselines_are_shifted_in_site_local_time(
    start: str, end: str, previous: tuple[str, str], week_ago: tuple[str, str]
) -> None:
    got_previous, got_week = baseline_ranges(scene.span(start, end), scene.TZ)
    assert got_previous == scene.span(*previous)
    assert got_week == scene.span(*week_ago)


def _footfall_by_bucket(session: Session, site: Any, span: TimeRange, bucket: str, hours: Hours, staff: bool) -> Any:
    report = footfall(session, site, span, bucket, exclude_staff=staff, hours=hours)
    per_direction = {
        d: [sum(col) for col in zip(*(s.counts for s in report.series if s.direction == d), strict=True)]
        for d in ("in", "out")
    }
    return per_direction["in"], per_direction["out"]


CASES = [c for c in scene.FOOTFALL_CASES if not c.all_lines]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_period_equals_the_reports_of_its_range(session: Session, case: scene.FootfallCase) -> None:
    """Per bucket and in total, each period's footfall is the footfall report's, entrance lines
    summed, and its visitors the visitors report's total."""
    got = compare(session, SITE, case.span, case.bucket, hours=case.hours, exclude_staff=case.exclude_staff)
    assert (got.hours, got.staff_excluded) == (case.hours, case.exclude_staff)
    assert (got.current.total_in, got.current.total_out) == case.totals
    previous, week = baseline_ranges(case.span, scene.TZ)
    for figures, span in ((got.current, case.span), (got.previous, previous), (got.week_ago, week)):
        ins, outs = _footfall_by_bucket(session, SITE, span, case.bucket, case.hours, case.exclude_staff)
        assert (list(figures.footfall_in), list(figures.footfall_out)) == (ins, outs), case.name
        assert (
            figures.visitors
            == unique_visitors(session, SITE, span, exclude_staff=case.exclude_staff, hours=case.hours).total
        )


# (site, extra params, hours, {metric: (value, previous, previous %, week ago)}, footfall in per day: now, before)
API_CASES = [
    ("mall", {}, "open",
     {"footfall_in": (14, 27, -48.1, 0), "footfall_out": (0, 13, -100.0, 0), "visitors": (3, 3, 0.0, 0)},
     [0, 14, 0], [0, 3, 24]),
    ("mall", {"hours": "all"}, "all",
     {"footfall_in": (39, 47, -17.0, 0), "footfall_out": (0, 21, -100.0, 0), "visitors": (6, 5, 20.0, 0)},
     [12, 27, 0], [0, 5, 42]),
    ("mall", {"hours": "outside"}, "outside",
     {"footfall_in": (25, 20, 25.0, 0), "footfall_out": (0, 8, -100.0, 0), "visitors": (3, 2, 50.0, 0)},
     [12, 13, 0], [0, 2, 18]),
    ("mall", {"exclude_staff": "true"}, "open",
     {"footfall_in": (14, 26, -46.2, 0), "footfall_out": (0, 13, -100.0, 0), "visitors": (3, 2, 50.0, 0)},
     [0, 14, 0], [0, 2, 24]),
    ("plain", {}, "all",
     {"footfall_in": (39, 47, -17.0, 0), "footfall_out": (0, 21, -100.0, 0), "visitors": (6, 5, 20.0, 0)},
     [12, 27, 0], [0, 5, 42]),
    ("plain", {"exclude_staff": "true"}, "all",
     {"footfall_in": (39, 45, -13.3, 0), "footfall_out": (0, 21, -100.0, 0), "visitors": (5, 4, 25.0, 0)},
     [12, 27, 0], [0, 3, 42]),
]  # fmt: skip


@pytest.mark.parametrize(("site", "params", "hours", "metrics", "now", "before"), API_CASES)
def test_compare_endpoint(
    client: TestClient,
    site: str,
    params: dict[str, str],
    hours: str,
    metrics: dict[str, tuple[int, int, float | None, int]],
    now: list[int],
    before: list[int],
) -> None:
    response = client.get(f"/api/v1/sites/{site}/compare", params={**MON_TO_WED, **params}, headers=READ)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["hours"] == hours
    got = {
        m["metric"]: (m["value"], m["previous"]["baseline"], m["previous"]["change_pct"], m["week_ago"]["baseline"])
        for m in body["metrics"]
    }
    assert got == metrics
    # Nothing a week earlier: no percentage of nothing.
    assert all(m["week_ago"]["change_pct"] is None for m in body["metrics"])
    assert all(m["previous"]["difference"] == m["value"] - m["previous"]["baseline"] for m in body["metrics"])
    assert body["current"]["footfall_in"] == now and body["previous"]["footfall_in"] == before
    assert body["previous"]["start"] == "2026-10-23T00:00:00+01:00"
    assert body["week_ago"]["start"] == "2026-10-19T00:00:00+01:00"
    assert body["week_ago"]["end"] == "2026-10-22T00:00:00+01:00"


def test_the_dst_day_compares_by_bucket_with_its_own_buckets(client: TestClient) -> None:
    params = {"start": "2026-10-25", "end": "2026-10-26", "bucket": "hour", "hours": "all"}
    body = client.get("/api/v1/sites/mall/compare", params=params, headers=READ).json()
    assert [len(body[p]["buckets"]) for p in ("current", "previous", "week_ago")] == [25, 24, 24]
    assert sum(body["current"]["footfall_in"]) == body["current"]["total_in"] == 42


@pytest.mark.parametrize(
    ("site", "params", "status", "message"),
    [
        ("plain", {"hours": "open"}, 422, "site 'plain' has no opening_hours"),
        ("mall", {"hours": "closed"}, 422, "query.hours"),
        ("mall", {"bucket": "week"}, 422, "query.bucket"),
        ("mall", {"start": "2026-10-29", "end": "2026-10-26"}, 422, "is before start"),
        ("nowhere", {}, 404, "unknown site 'nowhere'"),
    ],
)
def test_compare_rejects_bad_input_clearly(
    client: TestClient, site: str, params: dict[str, str], status: int, message: str
) -> None:
    response = client.get(f"/api/v1/sites/{site}/compare", params={**MON_TO_WED, **params}, headers=READ)
    assert response.status_code == status
    assert message in response.json()["detail"]


def test_compare_needs_a_read_key(client: TestClient) -> None:
    assert client.get("/api/v1/sites/mall/compare", params=MON_TO_WED).status_code == 401


def test_openapi_documents_the_comparison(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/api/v1/sites/{site_id}/compare"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"start", "end", "bucket", "hours", "exclude_staff"}
    schemas = spec["components"]["schemas"]
    assert set(schemas["ComparisonPage"]["properties"]) >= {"current", "previous", "week_ago", "metrics"}
    assert "baseline is 0" in schemas["Change"]["properties"]["change_pct"]["description"]
