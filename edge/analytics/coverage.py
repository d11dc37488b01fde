"""Which of a frame's people stand where their camera reports (a site's `cameras[].coverage`)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from edge.analytics.frame import FloatArray
from shared.config.coverage import Coverage
from shared.config.regions import Space
from shared.geometry import point_in_polygon

# Boxes cut by the frame end exactly on its edge (y = height), where an installer draws the
# coverage's edge too: a point on the boundary is inside.
_ON_EDGE = 1e-6


class CoverageArea:
    """Tests foot points (image space) or their floor positions (floor space) against a coverage polygon."""

    def __init__(self, coverage: Coverage) -> None:
        self.coverage = coverage
        corners = np.asarray(coverage.polygon, dtype=np.float64)
        self._starts = corners
        self._edges = np.roll(corners, -1, axis=0) - corners

    def contains(self, foot: FloatArray, floor: FloatArray) -> NDArray[np.bool_]:
        """(N,) True where a person stands inside or on the edge; a floor position that does not project is outside."""
        points = floor if self.coverage.space is Space.FLOOR else foot
        if len(points) == 0:
            return np.zeros(0, dtype=np.bool_)
        finite = np.isfinite(points).all(axis=1)
        inside = np.zeros(len(points), dtype=np.bool_)
        pts = points[finite]
        inside[finite] = point_in_polygon(pts, self.coverage.polygon) | self._on_boundary(pts)
        return inside

    def _on_boundary(self, points: FloatArray) -> NDArray[np.bool_]:
        rel = points[:, None, :] - self._starts[None]
        length2 = np.einsum("ij,ij->i", self._edges, self._edges)
        t = np.clip(np.einsum("nij,ij->ni", rel, self._edges) / length2, 0.0, 1.0)
        nearest = self._starts[None] + t[..., None] * self._edges[None]
        distance = np.hypot(*(points[:, None, :] - nearest).transpose(2, 0, 1))
        return np.asarray((distance <= _ON_EDGE).any(axis=1))
