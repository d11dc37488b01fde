"""Comparisons and CSV downloads on the dashboard, in a real headless Chromium: each tile shows the
previous period's and the week-earlier figure with the % change ("new" over nothing), the
footfall chart their lines, and every panel a "Download CSV" that fetches its report as CSV with
the figures' range, hours and staff choice. Data: tests/support/opening_hours_scene.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_db import READ_KEY, make_app
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from support import opening_hours_scene as scene
from support.browser import chromium, served, wait_for

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    url = scene.make_database(tmp_path_factory.mktemp("compare-dashboard"))
    with served(make_app(url)) as server, chromium("America/New_York", window="1400,1500") as browser:
        browser.get(f"{server}/#site=mall&key={READ_KEY}")
        wait_for(browser, "compareRenders", 1)
        yield browser


def _show(driver: WebDriver, site: str, hours: str | None, start: str, end: str) -> None:
    """Pick the site, hours and days, press Show, and wait for the figures and their comparison."""
    js = driver.execute_script
    if js("return state.site.id") != site:
        before = int(js("return document.body.dataset.compareRenders || '0'"))
        js(
            "const s = document.getElementById('site'); s.value = arguments[0]; s.dispatchEvent(new Event('change'))",
            site,
        )
        wait_for(driver, "compareRenders", before + 1)
    before = int(js("return document.body.dataset.compareRenders || '0'"))
    js(
        "document.getElementById('date-from').value = arguments[0];"
        "document.getElementById('date-to').value = arguments[1];"
        "document.getElementById('bucket').value = 'day';"
        "if (arguments[2] !== null) document.getElementById('hours').value = arguments[2];"
        "document.getElementById('apply').click();",
        start,
        end,
        hours,
    )
    wait_for(driver, "compareRenders", before + 1)


def _tiles(driver: WebDriver) -> dict[str, Any]:
    tiles: dict[str, Any] = driver.execute_script(
        "const out = {};"
        "for (const id of ['footfall-total-in', 'footfall-total-out', 'visitors-total']) {"
        "  const tile = document.getElementById(id).closest('.tile');"
        "  out[id] = [document.getElementById(id).textContent,"
        "             ...[...tile.querySelectorAll('.compare .change')].map((e) => e.textContent)];"
        "}"
        "const chart = document.getElementById('footfall-chart');"
        "out.lines = chart.data.filter((t) => t.meta === 'compare').map((t) => [t.name, t.y]);"
        "return out;"
    )
    return tiles


@pytest.mark.parametrize(
    ("site", "hours", "expected"),
    [
        # Monday to Wednesday within opening hours, staff excluded (the page's defaults), against
        # Friday to Sunday before, and against a week earlier, when nothing was recorded.
        ("mall", None, {
            "footfall-total-in": ["14", "previous period: 26 (−46.2 %)", "week before: 0 (new)"],
            "footfall-total-out": ["0", "previous period: 13 (−100 %)", "week before: 0 (no change)"],
            "visitors-total": ["3", "previous period: 2 (+50 %)", "week before: 0 (new)"],
            "lines": [["in, all entrances", [0, 14, 0]], ["in, previous period", [0, 2, 24]],
                      ["in, a week earlier", [0, 0, 0]]],
        }),
        ("mall", "all", {
            "footfall-total-in": ["39", "previous period: 45 (−13.3 %)", "week before: 0 (new)"],
            "footfall-total-out": ["0", "previous period: 21 (−100 %)", "week before: 0 (no change)"],
            "visitors-total": ["5", "previous period: 4 (+25 %)", "week before: 0 (new)"],
            "lines": [["in, all entrances", [12, 27, 0]], ["in, previous period", [0, 3, 42]],
                      ["in, a week earlier", [0, 0, 0]]],
        }),
    ],
)  # fmt: skip
def test_tiles_and_chart_compare_with_the_previous_period_and_a_week_earlier(
    driver: WebDriver, site: str, hours: str | None, expected: dict[str, Any]
) -> None:
    _show(driver, site, hours, "2026-10-26", "2026-10-28")
    assert _tiles(driver) == expected
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"dashboard-compare-{hours or 'open'}.png"))


def test_a_week_later_compares_with_the_dst_weekend(driver: WebDriver) -> None:
    # 31 October - 1 November: nothing, as on the two days before; a week earlier the DST weekend
    # (staff excluded) had 45 in.
    _show(driver, "mall", "all", "2026-10-31", "2026-11-01")
    tiles = _tiles(driver)
    assert tiles["footfall-total-in"] == ["0", "previous period: 0 (no change)", "week before: 45 (−100 %)"]


# (report, file name, header): one per "Download CSV" link.
LINKS = [
    ("visitors", "mall-visitors.csv", "day,visitors,source,hours"),
    ("footfall", "mall-footfall.csv", "bucket_start,line_id,direction,count,hours"),
    ("dwell", "mall-dwell.csv", "zone_id,visits,mean_s,median_s"),
    ("occupancy", "mall-occupancy.csv", "bucket_start,scope,scope_id,peak"),
    ("capacity-alerts", "mall-occupancy-alerts.csv", "alert_id,scope,scope_id,capacity"),
    ("heatmap", "mall-heatmap-ground.csv", "cell_x,cell_y,x_m,y_m,seconds"),
    ("transitions", "mall-transitions.csv", "from_zone,to_zone,people"),
    ("cameras", "mall-cameras.csv", "camera_id,state,stale"),
]


def test_every_panel_downloads_its_csv(driver: WebDriver) -> None:
    _show(driver, "mall", "open", "2026-10-24", "2026-10-28")
    js = driver.execute_script
    reports = js("return [...document.querySelectorAll('a.csv-link')].map((a) => a.dataset.report)")
    assert sorted(reports) == sorted(r for r, _, _ in LINKS)
    driver.execute_script("document.querySelector('a.csv-link[data-report=footfall]').scrollIntoView()")
    driver.save_screenshot(str(ARTIFACTS / "dashboard-csv-links.png"))
    for i, (report, filename, header) in enumerate(LINKS):
        js("document.querySelector(`a.csv-link[data-report='${arguments[0]}']`).click()", report)
        WebDriverWait(driver, 30).until(lambda d, n=i + 1: d.execute_script("return downloads.length") >= n)
        got = js("return downloads[downloads.length - 1]")
        assert (got["report"], got["filename"]) == (report, filename)
        assert got["header"].startswith(header), got
    rows = {d["report"]: d["rows"] for d in js("return downloads")}
    # Within opening hours with the outside rows beside: 5 days x door in/out, twice.
    assert rows["footfall"] == 5 * 2 * 2
    assert rows["visitors"] == 5 * 2
    assert not js("return document.getElementById('error').hidden ? '' : document.getElementById('error').textContent")
