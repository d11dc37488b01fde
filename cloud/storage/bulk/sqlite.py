"""SQLite (the embedded default): each row set as one executemany of an INSERT … ON CONFLICT.

sqlite3 loops over the rows in C inside one transaction, so a set costs one statement
preparation; rows repeating a key are applied in order, as the interface wants.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from cloud.storage.bulk.rows import RowSet
from cloud.storage.bulk.statements import Insert, do_add, do_nothing, do_peak, do_update
from cloud.storage.bulk.writer import BulkWriter


class SqliteWriter(BulkWriter):
    def __init__(self, session: Session) -> None:
        self.session = session

    def _run(self, stmt: Insert, rows: RowSet) -> None:
        self.session.execute(stmt, rows.dicts())

    def _insert_ignore(self, rows: RowSet) -> None:
        self._run(do_nothing(sqlite.insert(rows.table), rows.table), rows)

    def _upsert(self, rows: RowSet, update: Sequence[str]) -> None:
        self._run(do_update(sqlite.insert(rows.table), rows.table, update), rows)

    def _increment(self, rows: RowSet, add: Sequence[str]) -> None:
        self._run(do_add(sqlite.insert(rows.table), rows.table, add), rows)

    def _upsert_peak(self, rows: RowSet) -> None:
        self._run(do_peak(sqlite.insert(rows.table), rows.table), rows)
