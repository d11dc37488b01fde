"""The dashboard and opening hours, in a real headless Chromium: figures within opening hours by default,
the schedule and the outside-hours traffic beside them, the hours selector, and a site without opening
hours shown as before. Data: tests/support/opening_hours_scene.py (staff excluded, the page's default)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_db import READ_KEY, make_app
from selenium.webdriver.remote.webdriver import WebDriver
from support import opening_hours_scene as scene
from support.browser import chromium, served, wait_for

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with served(make_app(scene.make_database(tmp_path_factory.mktemp("hours-dashboard")))) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    # The browser's zone is not the scene site's: the page must format in the site's.
    with chromium("America/New_York", window="1400,1300") as driver:
        yield driver


def _show(driver: WebDriver, *, site: str | None = None, hours: str | None = None, bucket: str = "day") -> None:
    """Pick a site, hours and the scene's week (24-28 October 2026), press Show and wait for the render."""
    js = driver.execute_script
    before = int(js("return document.body.dataset.renders || '0'"))
    if site is not None:
        # Choosing a site renders once (today's range); the week is asked for after that.
        js(
            "const s = document.getElementById('site'); s.value = arguments[0]; s.dispatchEvent(new Event('change'))",
            site,
        )
        _wait(driver, before + 1)
        before += 1
    js(
        "document.getElementById('date-from').value = '2026-10-24';"
        "document.getElementById('date-to').value = '2026-10-28';"
        "document.getElementById('bucket').value = arguments[0];"
        "if (arguments[1] !== null) document.getElementById('hours').value = arguments[1];"
        "document.getElementById('apply').click();",
        bucket,
        hours,
    )
    _wait(driver, before + 1)


def _wait(driver: WebDriver, n: int) -> None:
    wait_for(driver, "renders", n)


def _page(driver: WebDriver) -> dict[str, Any]:
    page: dict[str, Any] = driver.execute_script(
        "const text = (id) => document.getElementById(id).textContent;"
        "const shown = (id) => !document.getElementById(id).hidden;"
        "const chart = document.getElementById('footfall-chart');"
        "return {in: text('footfall-total-in'), out: text('footfall-total-out'), visitors: text('visitors-total'),"
        " outside_in: shown('outside-tile') ? text('footfall-outside-in') : null, note: text('hours-note'),"
        " control: shown('hours-control'), hours: document.getElementById('hours').value,"
        # The comparison's lines (compare.js) are not this test's.
        " traces: chart.data.filter((t) => t.meta !== 'compare').map((t) => t.name),"
        " shapes: (chart.layout.shapes || []).length};"
    )
    return page


def test_figures_are_within_opening_hours_with_the_outside_traffic_beside(browser: WebDriver, server: str) -> None:
    driver = browser
    driver.get(f"{server}/#site=mall&key={READ_KEY}")
    _wait(driver, 1)
    _show(driver)
    page = _page(driver)
    # Staff excluded (the page's default): 40 in within opening hours, 44 outside them.
    assert (page["in"], page["out"], page["visitors"], page["outside_in"]) == ("40", "13", "5", "44")
    assert page["control"] and page["hours"] == "open"
    assert page["note"] == (
        "Within opening hours (Mon–Fri 10:00-21:00 · Sat 10:00-01:30 · Sun 11:00-17:00; 2026-10-26 closed "
        "(Bank holiday)). Outside them: 44 in, 8 out, 4 unique visitors seen only then, 3 zone visits begun then."
    )
    assert page["traces"] == ["door in", "door out", "outside opening hours in", "outside opening hours out"]
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / "dashboard-opening-hours.png"))

    # By hour the open stretches are shaded: Saturday to Sunday 01:30, Sunday, Tuesday, Wednesday.
    _show(driver, bucket="hour")
    page = _page(driver)
    assert page["shapes"] == 4 and page["in"] == "40"
    driver.execute_script("document.getElementById('footfall-chart').scrollIntoView()")
    driver.save_screenshot(str(ARTIFACTS / "dashboard-opening-hours-by-hour.png"))


@pytest.mark.parametrize(
    ("hours", "figures", "note_starts"),
    [
        ("outside", ("44", "8", "4", None), "Outside opening hours (Mon–Fri 10:00-21:00"),
        ("all", ("84", "21", "9", None), "All hours, open or not (opening hours: Mon–Fri"),
        ("open", ("40", "13", "5", "44"), "Within opening hours (Mon–Fri"),
    ],
)
def test_the_hours_selector(
    browser: WebDriver, server: str, hours: str, figures: tuple[str, ...], note_starts: str
) -> None:
    _show(browser, site="mall", hours=hours)
    page = _page(browser)
    assert (page["in"], page["out"], page["visitors"], page["outside_in"]) == figures
    assert page["note"].startswith(note_starts), page["note"]
    assert ("outside opening hours in" in page["traces"]) == (hours == "open")


def test_a_site_without_opening_hours_shows_every_hour_as_before(browser: WebDriver, server: str) -> None:
    _show(browser, site="plain")
    page = _page(browser)
    assert (page["in"], page["out"], page["visitors"], page["outside_in"]) == ("84", "21", "9", None)
    assert not page["control"] and page["note"] == ""
    assert page["traces"] == ["door in", "door out"] and page["shapes"] == 0
