"""PostgreSQL: COPY a row set into a staging table, then one INSERT … SELECT … ON CONFLICT.

The staging table is a TEMP table dropped at commit (a rollback drops it too), created on
first use in a transaction and emptied after each set, so two sets for one table in one
transaction (zone visits: enters, then exits) each start empty. COPY goes through the
raw psycopg connection under the session, in the session's transaction. A set smaller
than COPY_MIN_ROWS is one pipelined executemany instead (one round trip, a statement
SQLAlchemy compiles once): below that, the staging table costs more than the rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from sqlalchemy import JSON, column, func, select, table
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import TableClause

from cloud.storage.bulk.rows import Row, RowSet
from cloud.storage.bulk.statements import Insert, do_add, do_nothing, do_peak, do_update
from cloud.storage.bulk.writer import BulkWriter

COPY_MIN_ROWS = 32


class PostgresWriter(BulkWriter):
    def __init__(self, session: Session) -> None:
        self.session = session

    def _insert_ignore(self, rows: RowSet) -> None:
        self._write(rows, lambda stmt: do_nothing(stmt, rows.table))

    def _upsert(self, rows: RowSet, update: Sequence[str]) -> None:
        self._write(rows, lambda stmt: do_update(stmt, rows.table, update))

    def _upsert_peak(self, rows: RowSet) -> None:
        self._write(rows, lambda stmt: do_peak(stmt, rows.table))

    def _increment(self, rows: RowSet, add: Sequence[str]) -> None:
        if len(rows) < COPY_MIN_ROWS:
            self._many(rows, lambda stmt: do_add(stmt, rows.table, add))
            return
        # The rollup step proper: the staged rows summed per key in the database, one statement.
        stage = self._stage(rows)
        keys = list(rows.keys)
        summed = select(*(stage.c[k] for k in keys), *(func.sum(stage.c[a]) for a in add)).group_by(
            *(stage.c[k] for k in keys)
        )
        stmt = postgresql.insert(rows.table).from_select([*keys, *add], summed)
        self.session.execute(do_add(stmt, rows.table, add))

    def _write(self, rows: RowSet, conflict: Callable[[Insert], Insert]) -> None:
        if len(rows) < COPY_MIN_ROWS:
            self._many(rows, conflict)
            return
        stage = self._stage(rows)
        staged = select(*(stage.c[c] for c in rows.columns))
        self.session.execute(conflict(postgresql.insert(rows.table).from_select(list(rows.columns), staged)))

    def _many(self, rows: RowSet, conflict: Callable[[Insert], Insert]) -> None:
        self.session.execute(conflict(postgresql.insert(rows.table)), rows.dicts())

    def _stage(self, rows: RowSet) -> TableClause:
        name = f"_stage_{rows.table.name}"
        columns = ", ".join(f'"{c}"' for c in rows.columns)
        raw = self.session.connection().connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur:
            # No parameters: psycopg sends both statements in one round trip.
            cur.execute(
                f'CREATE TEMP TABLE IF NOT EXISTS "{name}" ON COMMIT DROP AS '
                f'SELECT * FROM "{rows.table.name}" WITH NO DATA; DELETE FROM "{name}"'
            )
            with cur.copy(f'COPY "{name}" ({columns}) FROM STDIN') as copy:
                for row in _copyable(rows):
                    copy.write_row(row)
        return table(name, *(column(c) for c in rows.columns))


def _copyable(rows: RowSet) -> list[Row]:
    """JSON columns as JSON text (COPY's text format parses it); everything else as it is."""
    at = [i for i, c in enumerate(rows.columns) if isinstance(rows.table.c[c].type, JSON)]
    if not at:
        return rows.rows
    return [tuple(json.dumps(v) if i in at and v is not None else v for i, v in enumerate(r)) for r in rows.rows]
