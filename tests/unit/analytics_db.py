"""Shared by the analytics tests: a migrated SQLite session, a small two-camera site, time helpers."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from cloud.storage import create_db_engine, session_factory, upgrade
from shared.config import SiteConfig, parse_site_config

NS = 1_000_000_000
TRIANGLE = [[0, 0], [100, 0], [100, 100]]


def sqlite_session(tmp_path: Path) -> Session:
    url = f"sqlite:///{tmp_path / 'analytics.db'}"
    upgrade(url)
    return session_factory(create_db_engine(url))()


def make_site(timezone: str = "Europe/London", **overrides: Any) -> SiteConfig:
    """Site `mall`: entrance `door` and internal `passage`, zones food/shops/empty, floor `ground` 4 x 3 m."""
    raw: dict[str, Any] = {
        "site": {"id": "mall", "timezone": timezone},
        "floors": [{"id": "ground", "extent": [0.0, 0.0, 4.0, 3.0], "heatmap_cell_m": 1.0}, {"id": "upper"}],
        "cameras": [
            {"id": "cam-a", "source": "/dev/null", "floor": "ground"},
            {"id": "cam-b", "source": "/dev/null", "floor": "ground"},
        ],
        "lines": [
            {"id": "door", "camera": "cam-a", "points": [[0, 50], [100, 50]]},
            {"id": "passage", "camera": "cam-b", "points": [[0, 50], [100, 50]], "entrance": False},
        ],
        "zones": [
            {"id": "food", "camera": "cam-a", "polygon": TRIANGLE},
            {"id": "shops", "camera": "cam-b", "polygon": TRIANGLE},
            {"id": "empty", "camera": "cam-b", "polygon": TRIANGLE},
        ],
        "retention": {"embeddings_days": 1, "tracklet_detail_days": 30, "aggregates_days": 365},
    }
    return parse_site_config({**raw, **overrides})


def seconds(iso: str) -> int:
    """Epoch seconds of an ISO 8601 time that carries its offset."""
    when = datetime.fromisoformat(iso)
    if when.tzinfo is None:
        raise ValueError(f"{iso!r} has no UTC offset")
    return int(when.timestamp())


def ns(iso: str) -> int:
    return seconds(iso) * NS
