"""INSERT … ON CONFLICT on the primary key, as PostgreSQL and SQLite spell it (SQLAlchemy Core)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table, case
from sqlalchemy.dialects import postgresql, sqlite

Insert = postgresql.Insert | sqlite.Insert


def conflict_insert(dialect: str, table: Table) -> Insert:
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise ValueError(f"unsupported database dialect {dialect!r} (PostgreSQL or SQLite)")


def _keys(table: Table) -> list[str]:
    return [c.name for c in table.primary_key.columns]


def do_nothing(stmt: Insert, table: Table) -> Insert:
    return stmt.on_conflict_do_nothing(index_elements=_keys(table))


def do_update(stmt: Insert, table: Table, update: Sequence[str]) -> Insert:
    return stmt.on_conflict_do_update(index_elements=_keys(table), set_={n: stmt.excluded[n] for n in update})


def do_add(stmt: Insert, table: Table, add: Sequence[str]) -> Insert:
    return stmt.on_conflict_do_update(index_elements=_keys(table), set_={n: table.c[n] + stmt.excluded[n] for n in add})


def do_peak(stmt: Insert, table: Table) -> Insert:
    """Occupancy rollup rows: keep the larger max_count, take the newer last_count."""
    return stmt.on_conflict_do_update(
        index_elements=_keys(table),
        set_={
            # Portable GREATEST: SQLite's max() of two arguments is not PostgreSQL's.
            "max_count": case(
                (table.c.max_count > stmt.excluded.max_count, table.c.max_count), else_=stmt.excluded.max_count
            ),
            "last_count": stmt.excluded.last_count,
        },
    )
