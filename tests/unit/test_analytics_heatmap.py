"""Heatmap grids: shaped by the floor extent (or the data's bounding box), hours chosen by their start."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from analytics_db import make_site, ns, seconds, sqlite_session
from sqlalchemy.orm import Session

from cloud.analytics.buckets import TimeRange
from cloud.analytics.heatmap import heatmap
from cloud.storage.models import HeatmapCell

CELLS = [
    # floor, UTC hour, x, y, seconds
    ("ground", "2024-06-01T10:00:00+00:00", 0, 0, 2.0),
    ("ground", "2024-06-01T10:00:00+00:00", 3, 2, 1.5),
    ("ground", "2024-06-01T11:00:00+00:00", 0, 0, 0.5),
    ("ground", "2024-06-01T11:00:00+00:00", 5, 5, 4.0),  # outside today's extent
    ("ground", "2024-06-01T12:00:00+00:00", 1, 1, 9.0),  # after the range
    ("upper", "2024-06-01T10:00:00+00:00", -2, 3, 1.0),  # a floor without extent
    ("upper", "2024-06-01T11:00:00+00:00", 1, 4, 2.0),
]


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    with sqlite_session(tmp_path) as s:
        s.add_all(
            HeatmapCell(site_id="mall", floor_id=f, bucket_s=seconds(h), cell_x=x, cell_y=y, seconds=sec)
            for f, h, x, y, sec in CELLS
        )
        s.commit()
        yield s


def grid(cells: dict[tuple[int, int], float], shape: tuple[int, int]) -> np.ndarray:
    out = np.zeros(shape)
    for (row, col), value in cells.items():
        out[row, col] = value
    return out


CASES = [
    ("ground", "2024-06-01T10:00:00+00:00", "2024-06-01T12:00:00+00:00", (0.0, 0.0), 1.0, grid({(0, 0): 2.5, (2, 3): 1.5}, (3, 4))),
    # 10:00 starts before the range: the hour is left out whole.
    ("ground", "2024-06-01T10:30:00+00:00", "2024-06-01T12:00:00+00:00", (0.0, 0.0), 1.0, grid({(0, 0): 0.5}, (3, 4))),
    ("ground", "2024-06-01T10:00:00+00:00", "2024-06-01T10:00:00+00:00", (0.0, 0.0), 1.0, np.zeros((3, 4))),
    ("upper", "2024-06-01T10:00:00+00:00", "2024-06-01T12:00:00+00:00", (-1.0, 1.5), 0.5, grid({(0, 0): 1.0, (1, 3): 2.0}, (2, 4))),
    ("upper", "2024-06-01T13:00:00+00:00", "2024-06-01T14:00:00+00:00", (0.0, 0.0), 0.5, np.zeros((0, 0))),
]  # fmt: skip


@pytest.mark.parametrize(("floor", "start", "end", "origin", "cell_m", "expected"), CASES)
def test_dense_grid(
    session: Session,
    floor: str,
    start: str,
    end: str,
    origin: tuple[float, float],
    cell_m: float,
    expected: np.ndarray,
) -> None:
    result = heatmap(session, make_site(), floor, TimeRange(ns(start), ns(end)))
    assert (result.floor_id, result.origin, result.cell_m) == (floor, origin, cell_m)
    np.testing.assert_array_equal(result.seconds, expected)
    assert not result.seconds.flags.writeable


def test_unknown_floor(session: Session) -> None:
    with pytest.raises(ValueError, match="site 'mall' has no floor 'roof'"):
        heatmap(session, make_site(), "roof", TimeRange(0, 1))
