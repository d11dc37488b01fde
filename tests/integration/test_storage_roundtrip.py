"""Migrations and an ORM round trip on both supported databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from cloud.storage import create_db_engine, downgrade, session_factory, upgrade
from cloud.storage.models import Camera, Site

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'mallflow.db'}"
    return str(request.getfixturevalue("pg_url"))


def test_orm_round_trip(db_url: str) -> None:
    upgrade(db_url)
    engine = create_db_engine(db_url)
    sessions = session_factory(engine)
    with sessions.begin() as s:
        s.add(Site(id="pets09", name="Plaza", timezone="Europe/London", config={"floors": [{"id": "ground"}]}))
        s.add_all(
            [
                Camera(site_id="pets09", id="cam-left", floor_id="ground"),
                Camera(site_id="pets09", id="cam-right", floor_id="ground"),
            ]
        )
    with sessions() as s:
        site = s.get(Site, "pets09")
        assert site is not None and site.config == {"floors": [{"id": "ground"}]}
        cams = s.scalars(select(Camera.id).where(Camera.site_id == "pets09").order_by(Camera.id)).all()
        assert cams == ["cam-left", "cam-right"]
    engine.dispose()


def test_migrations_up_and_down(db_url: str) -> None:
    upgrade(db_url)
    engine = create_db_engine(db_url)
    assert {"sites", "cameras"} <= set(inspect(engine).get_table_names())
    downgrade(db_url, "base")
    assert not {"sites", "cameras"} & set(inspect(engine).get_table_names())
    upgrade(db_url)
    engine.dispose()
