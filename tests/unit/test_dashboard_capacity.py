"""Capacity alerts in the API and on the dashboard: live counts against their capacities, the
alerts endpoint, and the banner in a real browser, raised and cleared by the real ingest.

Site `mall` (tests/unit/analytics_db.py) with capacity 3 and zone `food` with 2 (clear margin
0.1: the site clears at 2, food at 1). Events are a few minutes old, as the live view shows them.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import fields
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from analytics_db import NS, make_site
from api_db import READ, READ_KEY, make_app
from fastapi.testclient import TestClient
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from support.browser import chromium, served, wait_for
from support.occupancy_events import CountWalker

from cloud.analytics.occupancy import OccupancyNow
from cloud.capacity.alerts import CapacityAlert, alert_id
from cloud.ingest.applier import EventApplier
from cloud.ingest.registry import SiteRegistry
from cloud.storage import create_db_engine, session_factory, upgrade
from cloud.storage.sites import sync_sites
from shared.config import SiteConfig
from shared.schema import pb

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
APP_JS = (REPO / "cloud" / "api" / "dashboard" / "app.js").read_text()
BASE = "/api/v1/sites/mall"
SITE_TZ = ZoneInfo("Europe/London")
BROWSER_TZ = "America/New_York"
START_NS = (int(time.time()) - 300) * NS
# food goes over at its 3rd person (1 s apart), the site at its 4th crossing after that.
FOOD_RAISED = START_NS + 3 * NS
SITE_RAISED = START_NS + 7 * NS


@pytest.fixture(scope="module")
def site() -> SiteConfig:
    return make_site(capacity={"site": 3, "zones": {"food": 2}})


class Ingest:
    """The edge's events into the database, as the consumer applies them."""

    def __init__(self, url: str, site: SiteConfig) -> None:
        self.sessions = session_factory(create_db_engine(url))
        self.applier = EventApplier(SiteRegistry([site]))
        self.walker = CountWalker(START_NS)

    def __call__(self, envelopes: list[pb.Envelope]) -> None:
        with self.sessions.begin() as session:
            self.applier.apply(session, envelopes)


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory, site: SiteConfig) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('capacity') / 'api.db'}"
    upgrade(url)
    with session_factory(create_db_engine(url)).begin() as session:
        sync_sites(session, [site])
    return url


@pytest.fixture(scope="module")
def ingest(db_url: str, site: SiteConfig) -> Ingest:
    ingest = Ingest(db_url, site)
    ingest(ingest.walker.walk("zone", "food", [3]) + ingest.walker.walk("site", "mall", [4]))
    return ingest


@pytest.fixture(scope="module")
def client(db_url: str, ingest: Ingest) -> Iterator[TestClient]:
    with TestClient(make_app(db_url)) as c:
        yield c


def _today() -> dict[str, str]:
    day = datetime.fromtimestamp(START_NS / NS, SITE_TZ).date()
    return {"start": day.isoformat(), "end": (day + timedelta(days=1)).isoformat()}


# --- the API --------------------------------------------------------------------------


def test_live_occupancy_shows_capacities_and_raised_alerts(client: TestClient) -> None:
    live = client.get(f"{BASE}/occupancy/live", headers=READ).json()
    assert set(live["site"]) == {f.name for f in fields(OccupancyNow)}
    assert set(live["site"]["alert"]) == {f.name for f in fields(CapacityAlert)}
    assert (live["site"]["count"], live["site"]["capacity"]) == (4, 3)
    assert live["site"]["alert"]["alert_id"] == alert_id("site", "mall", SITE_RAISED)
    zones = {z["scope_id"]: z for z in live["zones"]}
    assert (zones["food"]["count"], zones["food"]["capacity"], zones["food"]["alert"]["clear_at"]) == (3, 2, 1)
    assert (zones["shops"]["capacity"], zones["shops"]["alert"]) == (None, None)
    with client.stream("GET", f"{BASE}/occupancy/stream", params={"max_events": 1}, headers=READ) as response:
        text = "".join(response.iter_text())
    assert '"capacity":2' in text and alert_id("zone", "food", FOOD_RAISED) in text


def test_alerts_endpoint_lists_raised_ones_and_those_of_the_range(client: TestClient) -> None:
    body = client.get(f"{BASE}/occupancy/alerts", params=_today(), headers=READ).json()
    assert [a["alert_id"] for a in body["raised"]] == [
        alert_id("site", "mall", SITE_RAISED),
        alert_id("zone", "food", FOOD_RAISED),
    ]
    # Newest first.
    assert body["total"] == 2 and [a["scope_id"] for a in body["items"]] == ["mall", "food"]
    food = body["items"][1]
    assert (food["raised_count"], food["peak_count"], food["cleared_ns"], food["published"]) == (3, 3, None, False)
    paged = client.get(f"{BASE}/occupancy/alerts", params={**_today(), "limit": 1, "offset": 1}, headers=READ).json()
    assert paged["total"] == 2 and [a["scope_id"] for a in paged["items"]] == ["food"]
    # A range before them: nothing in it, and the raised ones still listed.
    before = client.get(f"{BASE}/occupancy/alerts", params={"start": "2026-01-01", "end": "2026-01-02"}, headers=READ)
    assert before.json()["total"] == 0 and len(before.json()["raised"]) == 2
    assert client.get(f"{BASE}/occupancy/alerts").status_code == 401
    assert client.get(f"{BASE}/occupancy/alerts", params={"limit": 0}, headers=READ).status_code == 422
    assert client.get("/api/v1/sites/nowhere/occupancy/alerts", headers=READ).status_code == 404


def _function(name: str) -> str:
    found = re.search(rf"^(?:async )?function {name}\(.*?^}}$", APP_JS, re.S | re.M)
    assert found, f"app.js has no function {name}"
    return found.group(0)


def test_every_field_the_dashboard_reads_is_in_the_response() -> None:
    code = _function("renderCapacityBanner") + _function("showCapacity") + _function("renderOccupancy")
    alert_reads = set(re.findall(r"\b(?:a|now\.alert)\.(\w+)", code))
    now_reads = set(re.findall(r"\b(?:now|z|live\.site)\.(\w+)", code))
    assert {"alert_id", "capacity", "raised_ns", "peak_count", "clear_at"} <= alert_reads
    assert alert_reads <= {f.name for f in fields(CapacityAlert)}, alert_reads
    assert {"count", "capacity", "scope", "scope_id", "alert"} <= now_reads
    assert now_reads <= {f.name for f in fields(OccupancyNow)}, now_reads


# --- the page in a real browser ------------------------------------------------------------


@pytest.fixture(scope="module")
def server(db_url: str, ingest: Ingest) -> Iterator[str]:
    with served(make_app(db_url, stream_poll_s=0.2)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    with chromium(BROWSER_TZ) as driver:
        yield driver


def _clock(driver: WebDriver, ns: int) -> str:
    """A time as the banner writes it: hours and minutes in the site's zone, the date too on another day."""
    at = datetime.fromtimestamp(ns / NS, SITE_TZ)
    if at.date() == datetime.now(SITE_TZ).date():
        return f"{at:%H:%M}"
    day: str = driver.execute_script(
        "return new Intl.DateTimeFormat([], { dateStyle: 'short', timeZone: arguments[1] }).format(new Date(arguments[0]))",
        ns // 1_000_000,
        str(SITE_TZ),
    )
    return f"{day} {at:%H:%M}"


def _banner(driver: WebDriver) -> list[tuple[str, str]] | None:
    lines: list[list[str]] | None = driver.execute_script(
        "const b = document.getElementById('capacity-banner');"
        "return b.hidden ? null : [...b.querySelectorAll('li')].map((li) => [li.dataset.alert, li.textContent]);"
    )
    return None if lines is None else [(a, t) for a, t in lines]


def _tiles(driver: WebDriver) -> dict[str, tuple[str, str, bool]]:
    """Scope id ('site' for the site's tile) -> (count, capacity text, shown over capacity)."""
    tiles: dict[str, list[object]] = driver.execute_script(
        "const tile = (t) => [t.querySelector('.value').textContent, t.querySelector('.capacity').textContent,"
        "  t.classList.contains('over')];"
        "return Object.fromEntries([['site', tile(document.getElementById('occupancy-site-tile'))],"
        "  ...[...document.querySelectorAll('#occupancy-tiles .tile')].map((t) => [t.dataset.zone, tile(t)])]);"
    )
    return {k: (str(v[0]), str(v[1]), bool(v[2])) for k, v in tiles.items()}


def _until(driver: WebDriver, what: str, check: Callable[[], bool]) -> None:
    WebDriverWait(driver, 30).until(lambda _: check(), message=what)


def test_banner_and_tiles_follow_the_alerts_live(browser: WebDriver, server: str, ingest: Ingest) -> None:
    driver = browser
    driver.get(f"{server}/#site=mall&key={READ_KEY}")
    wait_for(driver, "renders", 1)
    wait_for(driver, "liveUpdates", 1)
    assert _banner(driver) == [
        (
            alert_id("site", "mall", SITE_RAISED),
            f"The site: 4 people, capacity 3; since {_clock(driver, SITE_RAISED)}, peak 4; clears at 2 or fewer",
        ),
        (
            alert_id("zone", "food", FOOD_RAISED),
            f"Zone food: 3 people, capacity 2; since {_clock(driver, FOOD_RAISED)}, peak 3; clears at 1 or fewer",
        ),
    ]
    assert _tiles(driver) == {
        "site": ("4", "/ 3", True),
        "food": ("3", "/ 2", True),
        "shops": ("0", "", False),
        "empty": ("0", "", False),
    }
    assert (
        driver.execute_script("return getComputedStyle(document.getElementById('capacity-banner')).display") != "none"
    )
    ARTIFACTS.mkdir(exist_ok=True)
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(str(ARTIFACTS / "dashboard-capacity-banner.png"))

    # Two people leave the food court: 2 is under the capacity but above the clear level, 1 clears it.
    ingest(ingest.walker.walk("zone", "food", [2]))
    _until(driver, "food at 2", lambda: _tiles(driver)["food"] == ("2", "/ 2", True))
    assert len(_banner(driver) or []) == 2
    ingest(ingest.walker.walk("zone", "food", [1]))
    _until(driver, "food cleared", lambda: _tiles(driver)["food"] == ("1", "/ 2", False))
    assert [a for a, _ in _banner(driver) or []] == [alert_id("site", "mall", SITE_RAISED)]
    # The site comes down to its clear level: no banner.
    ingest(ingest.walker.walk("site", "mall", [2]))
    _until(driver, "site cleared", lambda: _banner(driver) is None)
    assert _tiles(driver)["site"] == ("2", "/ 3", False)
