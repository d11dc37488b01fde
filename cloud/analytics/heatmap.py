"""Heatmap: occupancy-seconds per floor cell over a range, as a dense grid.

heatmap_cells holds UTC hours, so a range resolves to whole hours: an hour counts when it
starts inside the range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cloud.analytics.buckets import TimeRange
from cloud.ingest.registry import HeatmapGrid
from cloud.storage.models import HeatmapCell
from shared.config.site import SiteConfig


@dataclass(frozen=True, eq=False)
class Heatmap:
    floor_id: str
    # Floor coordinates (metres) of the corner of cell [0, 0].
    origin: tuple[float, float]
    cell_m: float
    # Read-only, indexed [cell_y, cell_x]; shape (0, 0) when a floor without an extent has no data.
    seconds: np.ndarray


def heatmap(session: Session, site: SiteConfig, floor_id: str, span: TimeRange) -> Heatmap:
    """Shaped by the floor's extent; a floor without one gets the bounding box of its cells."""
    try:
        grid = HeatmapGrid.of(site.floor(floor_id))
    except KeyError:
        raise ValueError(f"site {site.site.id!r} has no floor {floor_id!r}") from None
    lo, hi = span.bucket_bounds_s()
    rows = session.execute(
        select(HeatmapCell.cell_x, HeatmapCell.cell_y, func.sum(HeatmapCell.seconds))
        .where(
            HeatmapCell.site_id == site.site.id,
            HeatmapCell.floor_id == floor_id,
            HeatmapCell.bucket_s >= lo,
            HeatmapCell.bucket_s < hi,
        )
        .group_by(HeatmapCell.cell_x, HeatmapCell.cell_y)
    ).all()
    if grid.size is not None:
        first, (nx, ny) = (0, 0), grid.size
        # Cells stored before the extent was narrowed fall outside the grid and are left out.
        rows = [r for r in rows if 0 <= r[0] < nx and 0 <= r[1] < ny]
        origin = grid.origin
    elif rows:
        first = (min(r[0] for r in rows), min(r[1] for r in rows))
        nx, ny = max(r[0] for r in rows) - first[0] + 1, max(r[1] for r in rows) - first[1] + 1
        origin = (grid.origin[0] + first[0] * grid.cell_m, grid.origin[1] + first[1] * grid.cell_m)
    else:
        first, nx, ny, origin = (0, 0), 0, 0, grid.origin
    seconds = np.zeros((ny, nx), dtype=np.float64)
    for cx, cy, total in rows:
        seconds[cy - first[1], cx - first[0]] = total
    seconds.flags.writeable = False
    return Heatmap(floor_id, origin, grid.cell_m, seconds)
