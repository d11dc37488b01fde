"""Run Alembic migrations programmatically (also behind `mallflow db`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from cloud.storage.db import default_database_url, normalise_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# PostgreSQL advisory lock key of the start-up work (any constant the application owns).
_STARTUP_LOCK = 0x6D616C6C  # "mall"


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Percent signs in passwords would be read as interpolation by configparser.
    cfg.set_main_option("sqlalchemy.url", normalise_url(url or default_database_url()).replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


@contextmanager
def startup_lock(url: str | None = None) -> Iterator[None]:
    """Hold the database's start-up lock: processes that start together on one PostgreSQL
    database (the replicas of a deployment, an API and its consumers) then upgrade the schema
    and write the site rows one after another; at once, two create the same tables or the
    same site row and one of them fails. SQLite is for one machine's processes: a no-op.

    Not reentrant across connections: take it once, around the whole start-up.
    """
    url = normalise_url(url or default_database_url())
    if not url.startswith("postgresql"):
        yield
        return
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            # Session-level: held until unlocked or the connection ends (a killed process
            # releases it with its connection).
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _STARTUP_LOCK})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _STARTUP_LOCK})
    finally:
        engine.dispose()
