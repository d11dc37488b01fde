"""A row set: the rows one batch writes to one table, as plain tuples in a fixed column order."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import Table

from cloud.storage.models import Base

Row = tuple[Any, ...]


def table_of(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


@dataclass(frozen=True)
class RowSet:
    table: Table
    columns: tuple[str, ...]
    rows: list[Row]

    def __post_init__(self) -> None:
        unknown = [c for c in self.columns if c not in self.table.c]
        if unknown:
            raise ValueError(f"{self.table.name} has no column(s) {unknown}")
        missing = [c for c in self.keys if c not in self.columns]
        if missing:
            raise ValueError(f"rows of {self.table.name} lack primary-key column(s) {missing}")

    @classmethod
    def of(cls, model: type[Base], columns: Sequence[str], rows: Iterable[Row]) -> RowSet:
        return cls(table_of(model), tuple(columns), list(rows))

    @property
    def keys(self) -> tuple[str, ...]:
        """The primary key: the natural key every write is idempotent on."""
        return tuple(c.name for c in self.table.primary_key.columns)

    def key_of(self) -> Callable[[Row], Any]:
        """A function giving a row's primary key: its values (the value itself for a
        one-column key), equal for rows of equal keys. A C call per row: a batch's sets are
        keyed row by row."""
        return itemgetter(*(self.columns.index(k) for k in self.keys))

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]
