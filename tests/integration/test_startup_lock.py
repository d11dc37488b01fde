"""Processes starting together on one fresh PostgreSQL database: the schema upgrade and the
site rows are written one process after another, and every start succeeds."""

from __future__ import annotations

import threading
import time
from itertools import pairwise
from pathlib import Path

from sqlalchemy import func, select

from cloud.storage import create_db_engine, session_factory, upgrade
from cloud.storage.migrate import startup_lock
from cloud.storage.models import Camera, Site
from cloud.storage.sites import sync_sites
from shared.config import SiteConfig

STARTERS = 4


def test_starts_at_once_take_turns_and_all_succeed(pg_url: str, pets09_site: SiteConfig) -> None:
    held: list[tuple[float, float]] = []
    errors: list[BaseException] = []
    go = threading.Barrier(STARTERS)

    def start() -> None:
        try:
            go.wait()
            with startup_lock(pg_url):
                entered = time.monotonic()
                upgrade(pg_url)
                engine = create_db_engine(pg_url)
                with session_factory(engine).begin() as session:
                    sync_sites(session, [pets09_site])
                engine.dispose()
                held.append((entered, time.monotonic()))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(STARTERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert len(held) == STARTERS
    spans = sorted(held)
    assert all(a[1] <= b[0] for a, b in pairwise(spans)), "two held the lock at once"
    with session_factory(create_db_engine(pg_url))() as session:
        assert session.scalar(select(func.count()).select_from(Site)) == 1
        assert session.scalar(select(func.count()).select_from(Camera)) == len(pets09_site.cameras)


def test_the_lock_is_a_no_op_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/x.db"
    with startup_lock(url), startup_lock(url):
        upgrade(url)
