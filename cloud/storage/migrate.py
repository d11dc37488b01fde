"""Run Alembic migrations programmatically (also behind `mallflow db`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from cloud.storage.db import default_database_url, normalise_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


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
