"""Relational storage: SQLAlchemy models, engines and Alembic migrations. Knows no HTTP."""

from cloud.storage.db import create_db_engine, default_database_url, session_factory
from cloud.storage.migrate import downgrade, upgrade

__all__ = ["create_db_engine", "default_database_url", "downgrade", "session_factory", "upgrade"]
