"""The site map and the chain overview in a real browser (headless Chromium): the example site's
generated plan under the heatmap, the cameras' views, zones, exits, lines with their arrows and
the colour legend; the chain page's rows and paging. Screenshots in test-artifacts/; the README's
small one (docs/site-map.png) is rewritten with MALLFLOW_UPDATE_DOCS=1."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest
from api_db import READ_KEY, make_app
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from support import chain_scene
from support.browser import chromium, served, wait_for

from cloud.storage import create_db_engine, session_factory, upgrade

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
# The README's picture: written to docs/ only when asked (MALLFLOW_UPDATE_DOCS=1), so a test
# run leaves the checkout clean.
README_SHOT = (
    REPO / "docs" / "site-map.png"
    if os.environ.get("MALLFLOW_UPDATE_DOCS") == "1"
    else ARTIFACTS / "site-map-small.png"
)
BROWSER_TZ = "Asia/Tokyo"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('dashboard-map') / 'api.db'}"
    upgrade(url)
    with session_factory(create_db_engine(url)).begin() as session:
        chain_scene.load(session, time.time_ns())
    with served(make_app(url)) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    with chromium(BROWSER_TZ, window="1300,1500") as driver:
        yield driver


def _attr(driver: WebDriver, selector: str, name: str) -> str | None:
    # Selenium's get_attribute lower-cases names: SVG's viewBox would read as missing.
    value = driver.execute_script(f"return document.querySelector({selector!r}).getAttribute({name!r})")
    return None if value is None else str(value)


def _count(driver: WebDriver, selector: str) -> int:
    return int(driver.execute_script(f"return document.querySelectorAll({selector!r}).length"))


def test_site_map_with_plan_heatmap_overlays_and_legend(browser: WebDriver, server: str) -> None:
    driver = browser
    driver.get(f"{server}/#site=pets09-split&key={READ_KEY}")
    wait_for(driver, "renders", 1)
    wait_for(driver, "mapRenders", 1)
    assert _attr(driver, "#sitemap", "viewBox") == "-22 -18 31 27"
    plan = "#map-plan image"
    assert [_attr(driver, plan, a) for a in ("x", "y", "width", "height")] == ["-22", "-18", "31", "27"]
    # The plan image really loaded (a blob the page fetched with its key).
    assert driver.execute_script(
        "const i = new Image(); i.src = arguments[0]; return i.decode().then(() => [i.naturalWidth, i.naturalHeight]);",
        _attr(driver, plan, "href"),
    ) == [310, 270]
    assert _count(driver, "#map-heat rect") == 4
    assert _count(driver, "#map-cameras polygon") == 2
    assert _count(driver, "#map-zones polygon") == 2 and _count(driver, "#map-exits polygon") == 2
    assert _count(driver, "#map-lines line.map-line") == 2 and _count(driver, "#map-lines line.map-arrow") == 2
    ticks = driver.execute_script(
        "return [...document.querySelectorAll('#sitemap-legend .legend-tick')].map((t) => t.textContent)"
    )
    assert ticks == ["0", "15", "60", "135", "240"]
    title = driver.find_element(By.CSS_SELECTOR, "#sitemap-legend .legend-title").text
    assert title == "person-seconds per 1 m cell"
    assert "over the floor plan" in driver.find_element(By.ID, "sitemap-note").text
    # The busiest cell is the legend's top colour.
    top = driver.execute_script(
        "return [...document.querySelectorAll('#map-heat rect')].find((r) => r.textContent.startsWith('240')).getAttribute('fill')"
    )
    assert top == "rgb(252,255,164)"
    panel = driver.find_element(By.CSS_SELECTOR, ".sitemap-panel")
    driver.execute_script("arguments[0].scrollIntoView()", panel)
    ARTIFACTS.mkdir(exist_ok=True)
    panel.screenshot(str(ARTIFACTS / "dashboard-site-map.png"))
    # The README's copy at 800 px wide: small enough to commit.
    shot = cv2.imread(str(ARTIFACTS / "dashboard-site-map.png"), cv2.IMREAD_COLOR)
    assert shot is not None
    scale = 800 / shot.shape[1]
    small = cv2.resize(shot, (800, round(shot.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(README_SHOT), small, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    assert README_SHOT.stat().st_size < 200_000


def test_a_site_without_plan_or_calibration_gets_its_extent(browser: WebDriver, server: str) -> None:
    driver = browser
    # Another fragment alone would not reload the page.
    driver.get("about:blank")
    driver.get(f"{server}/#site=harbour&key={READ_KEY}")
    wait_for(driver, "renders", 1)
    wait_for(driver, "mapRenders", 1)
    assert _count(driver, "#map-plan image") == 0
    assert _attr(driver, "#sitemap", "viewBox") == "0 0 20 10"


def test_chain_overview(browser: WebDriver, server: str) -> None:
    driver = browser
    driver.get("about:blank")
    driver.get(f"{server}/#key={READ_KEY}")
    wait_for(driver, "renders", 1)
    driver.find_element(By.ID, "chain-link").click()
    wait_for(driver, "renders", 1)
    rows = driver.execute_script(
        "return [...document.querySelectorAll('#chain-table tbody tr')].map((r) => [r.dataset.site, r.className,"
        " ...[...r.cells].slice(2).map((c) => c.textContent)])"
    )
    assert rows == [
        ["akihabara", "", "0−100 %", "4", "0−100 %", "1", "0"],
        ["harbour", "", "6new", "0", "1new", "0", "44 / 40 (110 %)"],
        ["pets09-split", "", "12+50 %", "8", "3+50 %", "2", "5"],
    ]
    assert driver.find_element(By.ID, "chain-page").text == "sites 1–3 of 3"
    assert driver.find_element(By.ID, "chain-next").get_attribute("disabled") == "true"
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "dashboard-chain.png"))
    driver.find_element(By.CSS_SELECTOR, "#chain-table a").click()
    wait_for(driver, "renders", 1)
    assert driver.execute_script("return state.site.id") == "akihabara"
