"""Alembic environment: online migrations against the URL set by cloud.storage.migrate."""

from __future__ import annotations

from alembic import context

from cloud.storage.db import create_db_engine
from cloud.storage.models import Base

config = context.config
engine = create_db_engine(config.get_main_option("sqlalchemy.url"))
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
