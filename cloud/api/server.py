"""Run the API with uvicorn."""

from __future__ import annotations

import ipaddress

import uvicorn

from cloud.api.app import create_app
from cloud.api.settings import ApiSettings
from cloud.storage import create_db_engine, upgrade
from cloud.storage.migrate import startup_lock


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, settings: ApiSettings) -> None:
    if not settings.keys and not settings.anonymous_read:
        raise ValueError(
            "no API keys configured: set MALLFLOW_API_KEYS='read:KEY,admin:KEY' (or --api-keys-file), "
            "or pass --anonymous-read on a loopback address"
        )
    if settings.anonymous_read and not is_loopback(host):
        raise ValueError(f"--anonymous-read serves without keys and is refused on non-loopback address {host!r}")


def serve(db_url: str | None, host: str, port: int, settings: ApiSettings) -> None:
    check_exposure(host, settings)
    # The API may start before any consumer has created the tables.
    with startup_lock(db_url):
        upgrade(db_url)
    app = create_app(create_db_engine(db_url), settings)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
