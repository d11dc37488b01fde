"""Fuzzed envelopes that validation lets through are stored by PostgreSQL, whose types are stricter than SQLite's."""

from __future__ import annotations

import pytest
from support.envelope_fuzz import assert_validated_are_storable

from cloud.storage import create_db_engine, session_factory, upgrade
from shared.config import SiteConfig

pytestmark = pytest.mark.integration


def test_validated_envelopes_are_storable_on_postgresql(pg_url: str, pets09_site: SiteConfig) -> None:
    upgrade(pg_url)
    engine = create_db_engine(pg_url)
    with session_factory(engine)() as session:
        assert_validated_are_storable(session, pets09_site, max_examples=300)
    engine.dispose()
