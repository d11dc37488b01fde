"""Idempotent writes of a few dict rows (a gallery decision, an alert's state), on either backend.

The event batches go through cloud/storage/bulk (COPY on PostgreSQL); this is for the rows
other modules write now and then, with SQLAlchemy's column defaults applied. executemany:
psycopg pipelines the rows in one round trip, sqlite3 loops in C.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from cloud.storage.bulk.rows import table_of
from cloud.storage.bulk.statements import conflict_insert, do_nothing, do_update
from cloud.storage.models import Base

Row = Mapping[str, Any]


def insert_ignore(session: Session, model: type[Base], rows: Sequence[Row]) -> None:
    """Insert rows; a row whose primary key exists is left as it is (a replay)."""
    table = table_of(model)
    if rows:
        stmt = conflict_insert(session.get_bind().dialect.name, table)
        session.execute(do_nothing(stmt, table), list(rows))


def upsert(session: Session, model: type[Base], rows: Sequence[Row], update: Sequence[str]) -> None:
    """Insert rows; on an existing primary key overwrite the `update` columns."""
    table = table_of(model)
    if rows:
        stmt = conflict_insert(session.get_bind().dialect.name, table)
        session.execute(do_update(stmt, table, update), list(rows))
