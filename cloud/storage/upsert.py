"""Idempotent bulk writes on both backends: INSERT … ON CONFLICT, as PostgreSQL and SQLite spell it.

Multi-row statements (SQLAlchemy's insertmanyvalues), never a round trip per row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, case
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cloud.storage.models import Base

Row = Mapping[str, Any]


def _insert(session: Session, table: Table) -> postgresql.Insert | sqlite.Insert:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise ValueError(f"unsupported database dialect {dialect!r} (PostgreSQL or SQLite)")


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def _keys(table: Table) -> list[str]:
    return [c.name for c in table.primary_key.columns]


def insert_ignore(session: Session, model: type[Base], rows: Sequence[Row]) -> None:
    """Insert rows; a row whose primary key exists is left as it is (a replay)."""
    table = _table(model)
    if rows:
        session.execute(_insert(session, table).on_conflict_do_nothing(index_elements=_keys(table)), list(rows))


def upsert(session: Session, model: type[Base], rows: Sequence[Row], update: Sequence[str]) -> None:
    """Insert rows; on an existing primary key overwrite the `update` columns."""
    table = _table(model)
    if rows:
        stmt = _insert(session, table)
        stmt = stmt.on_conflict_do_update(
            index_elements=_keys(table), set_={name: stmt.excluded[name] for name in update}
        )
        session.execute(stmt, list(rows))


def increment(session: Session, model: type[Base], rows: Sequence[Row], add: Sequence[str]) -> None:
    """Insert rows; on an existing primary key add the `add` columns to the stored values."""
    table = _table(model)
    if rows:
        stmt = _insert(session, table)
        stmt = stmt.on_conflict_do_update(
            index_elements=_keys(table), set_={name: table.c[name] + stmt.excluded[name] for name in add}
        )
        session.execute(stmt, list(rows))


def upsert_peak(session: Session, model: type[Base], rows: Sequence[Row]) -> None:
    """Occupancy rollup rows: keep the larger max_count, take the newer last_count."""
    table = _table(model)
    if rows:
        stmt = _insert(session, table)
        stmt = stmt.on_conflict_do_update(
            index_elements=_keys(table),
            set_={
                # Portable GREATEST: SQLite's max() of two arguments is not PostgreSQL's.
                "max_count": case(
                    (table.c.max_count > stmt.excluded.max_count, table.c.max_count), else_=stmt.excluded.max_count
                ),
                "last_count": stmt.excluded.last_count,
            },
        )
        session.execute(stmt, list(rows))
