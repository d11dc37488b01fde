"""The bulk writers (cloud/storage/bulk): row sets in → table contents out, on SQLite and PostgreSQL.

Each case is checked against the interface's definition (the rows written one by one, in
order, on the primary key), with sets small enough for PostgreSQL's VALUES path and large
enough for its COPY + staging path, and written again: insert_ignore, upsert and
upsert_peak change nothing on a replay; increment adds (its callers gate replays by seq).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.ingest.rowsets import HEALTH_COLUMNS, TRACKLET_COLUMNS
from cloud.storage import create_db_engine, session_factory, upgrade
from cloud.storage.bulk import BulkWriter, RowSet, writer_for
from cloud.storage.bulk.postgres import COPY_MIN_ROWS
from cloud.storage.bulk.rows import Row
from cloud.storage.models import (
    Base,
    CameraHealth,
    HeatmapCell,
    LineCrossing,
    OccupancyMinute,
    Tracklet,
    ZoneVisit,
)

SIZES = [3, COPY_MIN_ROWS + 40]


@pytest.fixture(params=["sqlite", "postgresql"])
def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Session]]:
    url = f"sqlite:///{tmp_path / 'bulk.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    upgrade(url)
    engine = create_db_engine(url)
    yield session_factory(engine)
    engine.dispose()


@dataclass(frozen=True)
class Case:
    model: type[Base]
    columns: tuple[str, ...]
    make: Callable[[int], list[Row]]
    op: str
    arg: tuple[str, ...] = ()

    def write(self, writer: BulkWriter, rows: list[Row]) -> None:
        rs = RowSet.of(self.model, self.columns, rows)
        if self.op == "insert_ignore":
            writer.insert_ignore(rs)
        elif self.op == "upsert":
            writer.upsert(rs, self.arg)
        elif self.op == "increment":
            writer.increment(rs, self.arg)
        else:
            writer.upsert_peak(rs)

    def expected(self, stored: dict[tuple[Any, ...], dict[str, Any]], rows: list[Row]) -> None:
        """The definition: each row applied in order on its primary key."""
        keys = RowSet.of(self.model, self.columns, []).keys
        for row in rows:
            new = dict(zip(self.columns, row, strict=True))
            key = tuple(new[k] for k in keys)
            old = stored.get(key)
            if old is None:
                stored[key] = new
            elif self.op == "upsert":
                old.update({c: new[c] for c in self.arg})
            elif self.op == "increment":
                old.update({c: old[c] + new[c] for c in self.arg})
            elif self.op == "upsert_peak":
                old.update(max_count=max(old["max_count"], new["max_count"]), last_count=new["last_count"])


def _crossings(n: int) -> list[Row]:
    # Every 5th row repeats an earlier key with other values: the first must stay.
    return [
        ("s", f"c{i % 3}", i // 3 if i % 5 else 0, "door", "in" if i % 2 else "out", i, 10**18 + i, 1.5 * i, None)
        for i in range(n)
    ]


def _visits(n: int) -> list[Row]:
    # Enters, then the same visits' exits: the exits complete the rows.
    enters = [("s", "c", "z", i, 10**18 + i, None, None) for i in range(n)]
    exits = [("s", "c", "z", i, 10**18 + i, 10**18 + i + 5 * 10**9, 5.0) for i in range(0, n, 2)]
    return enters + exits


def _heat(n: int) -> list[Row]:
    return [("s", "f1", 3600 * (i % 2), i % 7, i % 5, 0.5) for i in range(n)]


def _peaks(n: int) -> list[Row]:
    return [("s", "zone", f"z{i % 4}", 60 * (i % 3), (i * 7) % 11, i % 6) for i in range(n)]


def _health(n: int) -> list[Row]:
    return [
        ("s", f"c{i % 40}", "e", "online", 7.0, i, 0, 0, 7.0, i % 2 == 0, 12, {"det": f"v{i}"}, "ok 'quoted'", i)
        for i in range(n)
    ]


def _tracklets(n: int) -> list[Row]:
    return [
        (
            "s",
            "c",
            i,
            10**18,
            10**18 + i,
            3,
            0.8,
            "f1" if i % 2 else None,
            bytes([i % 256, 0, 92, 10]) if i % 3 else None,
        )
        for i in range(n)
    ]


CASES = {
    "crossings insert_ignore": Case(
        LineCrossing,
        ("site_id", "camera_id", "seq", "line_id", "direction", "track_id", "event_ns", "floor_x", "floor_y"),
        _crossings,
        "insert_ignore",
    ),
    "zone visits upsert": Case(
        ZoneVisit,
        ("site_id", "camera_id", "zone_id", "track_id", "entered_ns", "exited_ns", "dwell_s"),
        _visits,
        "upsert",
        ("exited_ns", "dwell_s"),
    ),
    "heatmap increment": Case(
        HeatmapCell,
        ("site_id", "floor_id", "bucket_s", "cell_x", "cell_y", "seconds"),
        _heat,
        "increment",
        ("seconds",),
    ),
    "occupancy peaks": Case(
        OccupancyMinute, ("site_id", "scope", "scope_id", "bucket_s", "max_count", "last_count"), _peaks, "upsert_peak"
    ),
    "camera health (JSON, bool, text)": Case(
        CameraHealth,
        HEALTH_COLUMNS,
        _health,
        "upsert",
        ("frames", "overloaded", "model_versions", "status_ns"),
    ),
    "tracklets (bytes, NULLs)": Case(
        Tracklet,
        (*TRACKLET_COLUMNS[:8], "embedding"),
        _tracklets,
        "insert_ignore",
    ),
}


def _contents(session: Session, case: Case) -> dict[tuple[Any, ...], dict[str, Any]]:
    table = RowSet.of(case.model, case.columns, []).table
    keys = RowSet.of(case.model, case.columns, []).keys
    out = {}
    for row in session.execute(select(*(table.c[c] for c in case.columns))).mappings():
        out[tuple(row[k] for k in keys)] = dict(row)
    return out


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", list(CASES))
def test_row_sets_in_table_contents_out(sessions: Callable[[], Session], name: str, size: int) -> None:
    case = CASES[name]
    rows = case.make(size)
    expected: dict[tuple[Any, ...], dict[str, Any]] = {}
    for replay in range(3):
        with sessions.begin() as session:  # type: ignore[attr-defined]
            writer = writer_for(session)
            case.write(writer, rows)
            # A second set for the same table in the same transaction starts from an empty stage.
            case.write(writer, rows[: size // 2])
        case.expected(expected, rows)
        case.expected(expected, rows[: size // 2])
        with sessions() as session:
            assert _contents(session, case) == expected, f"after write {replay + 1}"


@pytest.mark.parametrize("size", SIZES)
def test_columns_left_out_take_their_defaults(sessions: Callable[[], Session], size: int) -> None:
    case = CASES["crossings insert_ignore"]
    with sessions.begin() as session:  # type: ignore[attr-defined]
        case.write(writer_for(session), case.make(size))
    with sessions() as session:
        assert set(session.scalars(select(LineCrossing.staff))) == {False}
