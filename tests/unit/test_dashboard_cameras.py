"""The dashboard's camera table and its outages: the API fields app.js reads, and the page in a real browser.

The database holds outages relative to the real clock, as the cameras route reports them against
time.time_ns(): cam-a still down (offline for 12 min, after an earlier 30 s outage), cam-b with two
outages that ended (3 min 20 s and 45 s) and one that ended before the 24 h window.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from analytics_db import NS
from api_db import READ, READ_KEY, make_app, make_database
from fastapi.testclient import TestClient
from selenium.webdriver.remote.webdriver import WebDriver
from sqlalchemy import update
from support.browser import chromium, served, wait_for

from cloud.analytics.camera_health import MAX_OUTAGES, CameraHealthStatus, OutageSpan
from cloud.storage import create_db_engine, session_factory
from cloud.storage.models import CameraHealth, CameraOutage

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "cloud" / "api" / "dashboard"
ARTIFACTS = REPO / "test-artifacts"
APP_JS = (DASHBOARD / "app.js").read_text()
BASE = "/api/v1/sites/mall"
SITE_TZ = ZoneInfo("Europe/London")
# The browser's own zone, far from the site's: the page must format in the site's.
BROWSER_TZ = "America/New_York"
# A message as an edge could report it; it must show as text, never as markup.
HOSTILE = '<img src="x" onerror="window.pwned = 1"> 401 <b>unauthorized</b>'
# Whole seconds, so the formatted times are exact; set when the data is written (db_url), not at
# import: a long suite runs this module many minutes after collecting it.
NOW_S = 0


def _outage(camera: str, start_s: int, end_s: int | None, state: str, message: str) -> CameraOutage:
    return CameraOutage(
        site_id="mall",
        camera_id=camera,
        started_ns=(NOW_S + start_s) * NS,
        ended_ns=None if end_s is None else (NOW_S + end_s) * NS,
        state=state,
        message=message,
    )


# (camera, start s, end s or None, state, message), relative to NOW_S.
OUTAGES = [
    ("cam-a", -3600, -3570, "reconnecting", "no frame within 5 s"),
    ("cam-a", -720, None, "offline", HOSTILE),
    ("cam-b", -18000, -17955, "reconnecting", "connection refused"),
    ("cam-b", -7200, -7000, "reconnecting", "RTSP 503 & retrying"),
    # Ended before the 24 h window: not listed.
    ("cam-b", -95000, -94000, "offline", "gave up"),
]


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    global NOW_S
    NOW_S = int(time.time())
    url = make_database(tmp_path_factory.mktemp("dashboard"))
    with session_factory(create_db_engine(url)).begin() as session:
        session.add_all(_outage(*o) for o in OUTAGES)
        session.execute(
            update(CameraHealth)
            .where(CameraHealth.site_id == "mall", CameraHealth.camera_id == "cam-a")
            .values(state="offline", message=HOSTILE)
        )
        # cam-b is back, on an edge that cannot keep up with it: every 2nd frame processed.
        session.add(
            CameraHealth(
                site_id="mall",
                camera_id="cam-b",
                edge_id="edge-1",
                state="online",
                fps=3.5,
                source_fps=7.0,
                frames=700,
                dropped_frames=4,
                thinned_frames=700,
                overloaded=True,
                lag_ms=180.0,
                model_versions={},
                message="",
                status_ns=NOW_S * NS,
            )
        )
    return url


@pytest.fixture(scope="module")
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(make_app(db_url)) as c:
        yield c


def _function(name: str) -> str:
    found = re.search(rf"^(?:async )?function {name}\(.*?^}}$", APP_JS, re.S | re.M)
    assert found, f"app.js has no function {name}"
    return found.group(0)


def _js_const(name: str) -> int:
    found = re.search(rf"^const {name} = (\d+);$", APP_JS, re.M)
    assert found, f"app.js has no const {name}"
    return int(found.group(1))


# --- the API contract app.js relies on ---------------------------------------------


def test_cameras_response_has_every_field_the_dashboard_reads(client: TestClient) -> None:
    window_s = _js_const("OUTAGE_WINDOW_S")
    body = client.get(f"{BASE}/cameras", params={"outage_window_s": window_s}, headers=READ).json()
    cams = {c["camera_id"]: c for c in body["items"]}
    camera_fields, outage_fields = set(cams["cam-a"]), set(cams["cam-a"]["outages"][0])
    # The JSON is the schema's, field for field.
    assert camera_fields == set(CameraHealthStatus.__dataclass_fields__)
    assert outage_fields == set(OutageSpan.__dataclass_fields__)

    # Every field app.js reads of a camera (c.x) or an outage (o.x, outage.x) is in the response.
    camera_code = "".join(_function(f) for f in ("renderCameras", "processedRate", "showOutages", "outageCount"))
    outage_code = "".join(_function(f) for f in ("renderCameras", "showOutages", "downSince"))
    camera_reads = set(re.findall(r"\bc\.(\w+)", camera_code))
    outage_reads = set(re.findall(r"\b(?:o|outage|ongoing)\.(\w+)", outage_code))
    assert {"outages", "downtime_s", "camera_id", "state", "stale", "overloaded", "source_fps"} <= camera_reads
    assert {"started_ns", "ended_ns", "duration_s", "state", "message"} <= outage_reads
    assert camera_reads <= camera_fields, camera_reads - camera_fields
    assert outage_reads <= outage_fields, outage_reads - outage_fields

    # The values the table shows, as the page gets them.
    a, b = cams["cam-a"], cams["cam-b"]
    assert [(o["state"], o["ended_ns"]) for o in a["outages"]] == [
        ("reconnecting", (NOW_S - 3570) * NS),
        ("offline", None),
    ]
    assert a["outages"][1]["message"] == HOSTILE
    assert a["outages"][1]["duration_s"] >= 720 and a["downtime_s"] >= 750
    assert [o["duration_s"] for o in b["outages"]] == [45.0, 200.0]
    assert b["downtime_s"] == pytest.approx(245.0)
    assert all(o["ended_ns"] is not None for o in b["outages"])


def test_dashboard_query_parameters_and_limits_match_the_api(client: TestClient) -> None:
    fetch = re.search(r"json\(`\$\{base\}/cameras`, \{ (\w+): (\w+) \}\)", _function("refresh"))
    assert fetch and fetch.groups() == ("outage_window_s", "OUTAGE_WINDOW_S")
    params = {
        p["name"]: p["schema"]
        for p in client.get("/openapi.json").json()["paths"]["/api/v1/sites/{site_id}/cameras"]["get"]["parameters"]
    }
    window_s = _js_const("OUTAGE_WINDOW_S")
    assert 0 < window_s <= params["outage_window_s"]["maximum"]
    # The table's header names the window app.js asks for.
    assert f"<th>downtime {window_s // 3600} h</th>" in (DASHBOARD / "index.html").read_text()
    # The page says "N+" from the API's cap on outages listed per camera.
    assert _js_const("MAX_LISTED_OUTAGES") == MAX_OUTAGES


# --- the page in a real browser ------------------------------------------------------


@pytest.fixture(scope="module")
def server(db_url: str) -> Iterator[str]:
    with served(make_app(db_url)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    with chromium(BROWSER_TZ) as driver:
        yield driver


def _wait_renders(driver: WebDriver, n: int) -> None:
    wait_for(driver, "renders", n)


def _site_time(offset_s: int) -> datetime:
    return datetime.fromtimestamp(NOW_S + offset_s, SITE_TZ)


def _shown(driver: WebDriver, offset_s: int) -> str:
    """A time as the page should write it: in the browser's locale (headless Chromium keeps en-US
    whatever --lang says), dateStyle short, timeStyle medium, in the site's zone, which here
    gives another hour than the browser's own zone."""
    shown: list[str] = driver.execute_script(
        "const fmt = (timeZone) => new Intl.DateTimeFormat([], { dateStyle: 'short', timeStyle: 'medium', timeZone });"
        "return [fmt(arguments[1]), fmt(arguments[2])].map((f) => f.format(new Date(arguments[0])));",
        (NOW_S + offset_s) * 1000,
        str(SITE_TZ),
        BROWSER_TZ,
    )
    assert shown[0] != shown[1]
    return shown[0]


def _rows(driver: WebDriver, camera: str) -> list[list[str]]:
    rows: Any = driver.execute_script(
        "const list = document.querySelector(`#camera-table tr.outage-list[data-outages-of='${arguments[0]}']`);"
        "return list === null ? null : [...list.querySelectorAll(':scope table.outages > tbody > tr')]"
        ".map((r) => [...r.cells].map((td) => td.textContent));",
        camera,
    )
    return rows


def test_camera_table_shows_downtime_outages_and_lists_them_in_site_time(browser: WebDriver, server: str) -> None:
    driver = browser
    js = driver.execute_script
    driver.get(f"{server}/#site=mall&key={READ_KEY}")
    _wait_renders(driver, 1)
    # The browser runs in another zone than the site's, so site times are not the browser's by chance.
    assert js("return Intl.DateTimeFormat().resolvedOptions().timeZone") == BROWSER_TZ
    headers = js("return [...document.querySelectorAll('#camera-table thead th')].map((th) => th.textContent)")
    assert headers[-2:] == ["downtime 24 h", "outages"]
    cells = js(
        "return Object.fromEntries([...document.querySelectorAll('#camera-table > tbody > tr[data-camera]')]"
        ".map((r) => [r.dataset.camera, [...r.cells].map((td) => td.textContent)]))"
    )
    assert set(cells) == {"cam-a", "cam-b"}
    # Nothing is listed until the operator asks.
    assert js("return document.querySelectorAll('#camera-table tr.outage-list').length") == 0

    # cam-b: 200 s + 45 s ended in the window; the one 26 h ago is not counted.
    assert cells["cam-b"][-2:] == ["4 min 5 s", "2 ▸"]
    assert "down since" not in cells["cam-b"][1]
    # cam-b is shed by its edge: flagged, processed of the camera's rate, thinned beside dropped.
    assert cells["cam-b"][1:6] == ["online (stale)overloaded", "3.5 of 7.0", "180", "700", "4 + 700 thinned"]
    assert "overloaded" not in cells["cam-a"][1]
    # cam-a: down for 12 min now, after 30 s earlier on.
    marker = js("return document.querySelector('#camera-table tr[data-camera=cam-a] .down-since').textContent")
    started = _site_time(-720)
    # Before midnight in the site, the marker names the day too, as the browser writes a short date.
    day = ""
    if started.date() != datetime.now(SITE_TZ).date():
        day = js(
            "return new Intl.DateTimeFormat([], { dateStyle: 'short', timeZone: arguments[1] })"
            ".format(new Date(arguments[0])) + ' '",
            (NOW_S - 720) * 1000,
            str(SITE_TZ),
        )
    assert re.fullmatch(rf"down since {day}{started:%H:%M} \(for 12 min( \d+ s)?\)", marker), marker
    assert cells["cam-a"][1] == "offline (stale)" + marker
    assert re.fullmatch(r"12 min( \d+ s)?", cells["cam-a"][-2]) or cells["cam-a"][-2] == "13 min", cells["cam-a"]
    assert cells["cam-a"][-1] == "2 ▸"

    # Opening cam-b lists its outages under its row, newest first, in the site's time.
    js("document.querySelector('#camera-table tr[data-camera=cam-b] button.outages-toggle').click()")
    assert _rows(driver, "cam-b") == [
        [_shown(driver, -7200), _shown(driver, -7000), "3 min 20 s", "reconnecting", "RTSP 503 & retrying"],
        [_shown(driver, -18000), _shown(driver, -17955), "45 s", "reconnecting", "connection refused"],
    ]
    assert js(
        "const r = document.querySelector('#camera-table tr[data-camera=cam-b]');"
        "return [r.nextElementSibling.dataset.outagesOf, r.querySelector('button').getAttribute('aria-expanded')]"
    ) == ["cam-b", "true"]

    # cam-a's ongoing outage: "ongoing", and the edge's message as text, not markup.
    js("document.querySelector('#camera-table tr[data-camera=cam-a] button.outages-toggle').click()")
    ongoing, earlier = _rows(driver, "cam-a")
    assert ongoing[0] == _shown(driver, -720) and ongoing[1] == "ongoing" and ongoing[3:] == ["offline", HOSTILE]
    assert re.fullmatch(r"1[23] min( \d+ s)?", ongoing[2]), ongoing
    assert earlier == [_shown(driver, -3600), _shown(driver, -3570), "30 s", "reconnecting", "no frame within 5 s"]
    assert js("return document.querySelectorAll('#camera-table img, #camera-table b').length") == 0
    assert js("return window.pwned === undefined")
    ARTIFACTS.mkdir(exist_ok=True)
    js("document.getElementById('camera-table').scrollIntoView()")
    driver.save_screenshot(str(ARTIFACTS / "dashboard-camera-outages.png"))

    # Open lists stay open through a refresh; a second click closes one.
    js("document.getElementById('apply').click()")
    _wait_renders(driver, 2)
    assert _rows(driver, "cam-a") is not None and _rows(driver, "cam-b") is not None
    js("document.querySelector('#camera-table tr[data-camera=cam-b] button.outages-toggle').click()")
    assert _rows(driver, "cam-b") is None
    assert js("return document.querySelector('#camera-table tr[data-camera=cam-b] button').textContent") == "2 ▸"
    assert js("return document.querySelectorAll('#camera-table > tbody > tr').length") == 3
