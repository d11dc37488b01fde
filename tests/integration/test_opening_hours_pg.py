"""Opening hours on PostgreSQL: the same cases as on SQLite (tests/support/opening_hours_scene.py),
and every answer equal to SQLite's."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import opening_hours_scene as scene

from cloud.analytics.dwell import dwell
from cloud.analytics.footfall import footfall
from cloud.analytics.visitors import unique_visitors
from cloud.storage import create_db_engine, session_factory, upgrade

pytestmark = pytest.mark.integration

SITE = scene.make_site()


def test_opening_hours_on_postgresql_answer_as_on_sqlite(pg_url: str, tmp_path: Path) -> None:
    answers = []
    for url in (pg_url, f"sqlite:///{tmp_path / 'hours.db'}"):
        upgrade(url)
        engine = create_db_engine(url)
        with session_factory(engine).begin() as s:
            scene.load(s, SITE)
        with session_factory(engine)() as s:
            for f in scene.FOOTFALL_CASES:
                scene.run_footfall(s, SITE, f)
            for v in scene.VISITORS_CASES:
                scene.run_visitors(s, SITE, v)
            for d in scene.DWELL_CASES:
                scene.run_dwell(s, SITE, d)
            answers.append(
                [
                    *(
                        footfall(
                            s,
                            SITE,
                            f.span,
                            f.bucket,
                            all_lines=f.all_lines,
                            exclude_staff=f.exclude_staff,
                            hours=f.hours,
                        )
                        for f in scene.FOOTFALL_CASES
                    ),
                    *(
                        unique_visitors(s, SITE, v.span, exclude_staff=v.exclude_staff, hours=v.hours)
                        for v in scene.VISITORS_CASES
                    ),
                    *(dwell(s, SITE, d.span, exclude_staff=d.exclude_staff, hours=d.hours) for d in scene.DWELL_CASES),
                ]
            )
        engine.dispose()
    postgresql, sqlite = answers
    assert postgresql == sqlite
