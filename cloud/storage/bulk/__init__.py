"""Set-wise, idempotent writes of whole row sets: COPY + one INSERT … SELECT on PostgreSQL, executemany on SQLite."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cloud.storage.bulk.postgres import PostgresWriter
from cloud.storage.bulk.rows import RowSet
from cloud.storage.bulk.sqlite import SqliteWriter
from cloud.storage.bulk.writer import BulkWriter

__all__ = ["BulkWriter", "RowSet", "writer_for"]


def writer_for(session: Session) -> BulkWriter:
    """The writer for the session's backend, writing in the session's current transaction."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return PostgresWriter(session)
    if dialect == "sqlite":
        return SqliteWriter(session)
    raise ValueError(f"unsupported database dialect {dialect!r} (PostgreSQL or SQLite)")
