"""The dashboard in a real browser: the API under uvicorn on a free port, Debian's headless Chromium."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI
from selenium.webdriver.remote.webdriver import WebDriver

from support.split_site import free_port


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """The app on 127.0.0.1 in a thread; yields its base URL."""
    import uvicorn

    port = free_port()
    # A page's live stream (EventSource) stays open past the test: without a grace limit the
    # server waits for it until the join below gives up, 10 s per browser test.
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@contextmanager
def chromium(timezone: str, window: str = "1400,1700") -> Iterator[WebDriver]:
    """Headless Chromium whose clock runs in `timezone` (the page must format in the site's)."""
    binary, driver_path = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
    if not (binary.exists() and driver_path.exists()):
        pytest.fail("Debian's chromium and chromium-driver are needed (deploy/local/setup.sh installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(binary)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        f"--window-size={window}",
    ):
        options.add_argument(arg)
    service = Service(str(driver_path), env={"TZ": timezone, "PATH": "/usr/bin:/bin"})
    driver = webdriver.Chrome(service=service, options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver: WebDriver, counter: str, n: int) -> None:
    """Until the page's body.dataset[counter] (renders, liveUpdates) reaches n; fails on a shown error."""
    from selenium.webdriver.support.ui import WebDriverWait

    def reached(d: WebDriver) -> bool:
        error = d.execute_script(
            "return document.getElementById('error').hidden ? '' : document.getElementById('error').textContent"
        )
        assert not error, f"dashboard error: {error}"
        return int(d.execute_script(f"return document.body.dataset.{counter} || '0'")) >= n

    WebDriverWait(driver, 60).until(reached)
