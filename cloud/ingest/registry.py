"""The sites the cloud knows, by id: what validation and the writers look up."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from shared.config.site import Floor, SiteConfig


@dataclass(frozen=True)
class HeatmapGrid:
    """Cells of one floor's heatmap: `cell_m` squares from the extent's corner (or 0, 0)."""

    origin: tuple[float, float]
    cell_m: float
    # Cells beyond the extent are not counted (people on a mis-calibrated horizon).
    size: tuple[int, int] | None

    @classmethod
    def of(cls, floor: Floor) -> HeatmapGrid:
        if floor.extent is None:
            return cls((0.0, 0.0), floor.heatmap_cell_m, None)
        x0, y0, x1, y1 = floor.extent
        size = (math.ceil((x1 - x0) / floor.heatmap_cell_m), math.ceil((y1 - y0) / floor.heatmap_cell_m))
        return cls((x0, y0), floor.heatmap_cell_m, size)

    def cells(self, points: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
        """The (cx, cy) cell of each of the (N, 2) floor points, and which are inside the extent."""
        cells = np.floor((points - self.origin) / self.cell_m).astype(np.int64)
        if self.size is None:
            return cells, np.ones(len(points), dtype=bool)
        inside = (cells >= 0) & (cells < self.size)
        return cells, np.logical_and(inside[:, 0], inside[:, 1])


class SiteRegistry:
    def __init__(self, sites: Iterable[SiteConfig]) -> None:
        self._sites: dict[str, SiteConfig] = {}
        for site in sites:
            if site.site.id in self._sites:
                raise ValueError(f"site {site.site.id!r} is configured twice")
            self._sites[site.site.id] = site
        self._timezones = {sid: site.site.timezone for sid, site in self._sites.items()}
        self._counting = {sid: {ln.id: ln.group or ln.id for ln in site.lines} for sid, site in self._sites.items()}
        self._groups = {
            sid: {ln.id: [m.id for m in members] for members in site.line_groups().values() for ln in members}
            for sid, site in self._sites.items()
        }
        self._cameras = frozenset((sid, c.id) for sid, site in self._sites.items() for c in site.cameras)
        self._entrances = {(sid, ln.id) for sid, site in self._sites.items() for ln in site.lines if ln.entrance}
        self._grids = {
            (sid, floor.id): HeatmapGrid.of(floor) for sid, site in self._sites.items() for floor in site.floors
        }

    def __contains__(self, site_id: str) -> bool:
        return site_id in self._sites

    def sites(self) -> list[SiteConfig]:
        return list(self._sites.values())

    def site(self, site_id: str) -> SiteConfig:
        return self._sites[site_id]

    def has_camera(self, site_id: str, camera_id: str) -> bool:
        return (site_id, camera_id) in self._cameras

    def cameras(self) -> frozenset[tuple[str, str]]:
        """Every (site_id, camera_id) configured."""
        return self._cameras

    def timezones(self) -> dict[str, str]:
        """Site id → IANA timezone: what the local-day rollups are keyed by."""
        return self._timezones

    def grid(self, site_id: str, floor_id: str) -> HeatmapGrid | None:
        return self._grids.get((site_id, floor_id))

    def counting_point(self, site_id: str, line_id: str) -> str:
        return self._counting[site_id].get(line_id, line_id)

    def line_group(self, site_id: str, line_id: str) -> list[str] | None:
        """The lines of `line_id`'s group (itself included), or None when it is in none."""
        return self._groups[site_id].get(line_id)

    def is_entrance(self, site_id: str, line_id: str) -> bool:
        return (site_id, line_id) in self._entrances

    def update_interval_s(self, site_id: str) -> float:
        """Seconds of presence one track update stands for (the edge sends update_hz per track)."""
        return 1.0 / self._sites[site_id].tracking.update_hz
