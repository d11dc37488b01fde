"""PostgreSQL: COPY a row set into a staging table, then one INSERT … SELECT … ON CONFLICT.

The staging table is a TEMP table dropped at commit (a rollback drops it too), created on
first use in a transaction and emptied after each set, so two sets for one table in one
transaction (zone visits: enters, then exits) each start empty. A set smaller than
COPY_MIN_ROWS is one INSERT … SELECT FROM unnest(arrays) instead: below that, the staging
table costs more than the rows, and a handful of temp tables per small transaction would
churn the catalog. Both run on the raw psycopg connection under the session, in its transaction,
as SQL written here: SQLAlchemy's per-statement work was most of the client's cost.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache

from sqlalchemy import JSON, Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from cloud.storage.bulk.rows import Row, RowSet
from cloud.storage.bulk.writer import BulkWriter

COPY_MIN_ROWS = 32
_DIALECT = postgresql.dialect()


def _q(name: str) -> str:
    return f'"{name}"'


def _on_conflict(target: Table, op: str, names: tuple[str, ...]) -> str:
    keys = ", ".join(_q(c.name) for c in target.primary_key.columns)
    t = _q(target.name)
    if op == "ignore":
        return f"ON CONFLICT ({keys}) DO NOTHING"
    if op == "update":
        sets = ", ".join(f"{_q(n)} = EXCLUDED.{_q(n)}" for n in names)
    elif op == "add":
        sets = ", ".join(f"{_q(n)} = {t}.{_q(n)} + EXCLUDED.{_q(n)}" for n in names)
    else:  # peak
        sets = "max_count = GREATEST(" + t + ".max_count, EXCLUDED.max_count), last_count = EXCLUDED.last_count"
    return f"ON CONFLICT ({keys}) DO UPDATE SET {sets}"


def _source(target: Table, columns: tuple[str, ...], op: str, names: tuple[str, ...], source: str) -> str:
    """`INSERT … SELECT` from `source`; increments summed per key there (the rollup step proper)."""
    if op != "add":
        cols = ", ".join(map(_q, columns))
        return f"INSERT INTO {_q(target.name)} ({cols}) SELECT {cols} FROM {source} "
    keys = ", ".join(_q(c.name) for c in target.primary_key.columns)
    sums = ", ".join(f"sum({_q(n)})" for n in names)
    return (
        f"INSERT INTO {_q(target.name)} ({keys}, {', '.join(map(_q, names))}) "
        f"SELECT {keys}, {sums} FROM {source} GROUP BY {keys} "
    )


@lru_cache(maxsize=256)
def _staged_sql(target: Table, columns: tuple[str, ...], op: str, names: tuple[str, ...]) -> str:
    stage = _q(f"_stage_{target.name}")
    # Emptied after use: the stage is ready for the next set of the table in this transaction.
    return _source(target, columns, op, names, stage) + _on_conflict(target, op, names) + f"; DELETE FROM {stage}"


@lru_cache(maxsize=256)
def _unnest_sql(target: Table, columns: tuple[str, ...], op: str, names: tuple[str, ...]) -> str:
    """The rows as one array parameter per column: a short statement psycopg parses once and
    PostgreSQL prepares, whatever the number of rows (a VALUES list would be a new one each time)."""
    arrays = ", ".join(f"%s::{_element_type(target, c)}[]" for c in columns)
    source = f"unnest({arrays}) AS v ({', '.join(map(_q, columns))})"
    return _source(target, columns, op, names, source) + _on_conflict(target, op, names)


def _element_type(target: Table, column: str) -> str:
    # Without its length: an explicit cast to VARCHAR(n) would cut a long text silently,
    # the INSERT's own cast refuses it.
    return re.sub(r"\(\d+\)", "", target.c[column].type.compile(dialect=_DIALECT))


class PostgresWriter(BulkWriter):
    def __init__(self, session: Session) -> None:
        self.session = session
        # Staging tables this writer made sure exist in the current transaction.
        self._staged: set[str] = set()

    def _insert_ignore(self, rows: RowSet) -> None:
        self._write(rows, "ignore")

    def _upsert(self, rows: RowSet, update: Sequence[str]) -> None:
        self._write(rows, "update", tuple(update))

    def _upsert_peak(self, rows: RowSet) -> None:
        self._write(rows, "peak")

    def _increment(self, rows: RowSet, add: Sequence[str]) -> None:
        self._write(rows, "add", tuple(add))

    def _write(self, rows: RowSet, op: str, names: tuple[str, ...] = ()) -> None:
        raw = self.session.connection().connection.driver_connection
        assert raw is not None
        data = _copyable(rows)
        with raw.cursor() as cur:
            if len(data) < COPY_MIN_ROWS:
                by_column = [list(values) for values in zip(*data, strict=True)]
                cur.execute(_unnest_sql(rows.table, rows.columns, op, names), by_column)
                return
            stage = f"_stage_{rows.table.name}"
            if stage not in self._staged:
                cur.execute(
                    f"CREATE TEMP TABLE IF NOT EXISTS {_q(stage)} ON COMMIT DROP AS "
                    f"SELECT * FROM {_q(rows.table.name)} WITH NO DATA"
                )
                self._staged.add(stage)
            with cur.copy(f"COPY {_q(stage)} ({', '.join(map(_q, rows.columns))}) FROM STDIN") as copy:
                for row in data:
                    copy.write_row(row)
            # No parameters: psycopg sends the INSERT and the DELETE in one round trip.
            cur.execute(_staged_sql(rows.table, rows.columns, op, names))


def _copyable(rows: RowSet) -> list[Row]:
    """JSON columns as JSON text (the server parses it); everything else as it is."""
    at = [i for i, c in enumerate(rows.columns) if isinstance(rows.table.c[c].type, JSON)]
    if not at:
        return rows.rows
    return [tuple(json.dumps(v) if i in at and v is not None else v for i, v in enumerate(r)) for r in rows.rows]
