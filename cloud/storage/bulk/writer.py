"""One interface for the backends: four idempotent ways to write a row set, each one pass per table.

The semantics are those of writing the rows one by one in order, on the row set's primary
key; they are settled here (duplicate keys within a set) so both backends agree:
* insert_ignore: a row whose key exists is left as it is (a replay); the first of a set wins.
* upsert: an existing key gets the `update` columns overwritten; the last of a set wins.
* increment: the `add` columns are added to the stored values; rows of one key add up.
* upsert_peak (occupancy rollups): the larger max_count and the newest last_count are kept.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from cloud.storage.bulk.rows import Row, RowSet


def _first_per_key(rows: RowSet) -> RowSet:
    # Built from the end, each key keeps the row seen last there: the first.
    backwards = rows.rows[::-1]
    unique = dict(zip(map(rows.key_of(), backwards), backwards, strict=True))
    return rows if len(unique) == len(rows.rows) else RowSet(rows.table, rows.columns, list(unique.values())[::-1])


def _last_per_key(rows: RowSet) -> RowSet:
    unique = dict(zip(map(rows.key_of(), rows.rows), rows.rows, strict=True))
    return rows if len(unique) == len(rows.rows) else RowSet(rows.table, rows.columns, list(unique.values()))


def _peak_per_key(rows: RowSet) -> RowSet:
    key = rows.key_of()
    peak_at = rows.columns.index("max_count")
    merged: dict[object, Row] = {}
    for row in rows.rows:
        k = key(row)
        before = merged.get(k)
        if before is not None and before[peak_at] > row[peak_at]:
            row = (*row[:peak_at], before[peak_at], *row[peak_at + 1 :])
        merged[k] = row
    return rows if len(merged) == len(rows.rows) else RowSet(rows.table, rows.columns, list(merged.values()))


class BulkWriter(ABC):
    def insert_ignore(self, rows: RowSet) -> None:
        if rows.rows:
            self._insert_ignore(_first_per_key(rows))

    def upsert(self, rows: RowSet, update: Sequence[str]) -> None:
        if rows.rows:
            self._upsert(_last_per_key(rows), update)

    def increment(self, rows: RowSet, add: Sequence[str]) -> None:
        if rows.rows:
            if set(rows.columns) != set(rows.keys) | set(add):
                raise ValueError(f"increment rows of {rows.table.name} must hold the key and {list(add)} only")
            self._increment(rows, add)

    def upsert_peak(self, rows: RowSet) -> None:
        if rows.rows:
            self._upsert_peak(_peak_per_key(rows))

    @abstractmethod
    def _insert_ignore(self, rows: RowSet) -> None: ...

    @abstractmethod
    def _upsert(self, rows: RowSet, update: Sequence[str]) -> None: ...

    @abstractmethod
    def _increment(self, rows: RowSet, add: Sequence[str]) -> None:
        """Rows may repeat a key: they add up."""

    @abstractmethod
    def _upsert_peak(self, rows: RowSet) -> None: ...
