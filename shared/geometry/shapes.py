"""Vectorised side-of-line and point-in-polygon tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray


def side_of_line(points: NDArray[np.float64], p1: Sequence[float], p2: Sequence[float]) -> NDArray[np.float64]:
    """Signed distance of (N, 2) points from the line P1→P2.

    Positive where the cross product (P2−P1)×(X−P1) is positive, i.e. the `in` side
    by Mallflow's direction rule (image coordinates: x right, y down).
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    a = np.asarray(p1, dtype=np.float64)
    d = np.asarray(p2, dtype=np.float64) - a
    rel = pts - a
    return (d[0] * rel[:, 1] - d[1] * rel[:, 0]) / float(np.hypot(d[0], d[1]))


def point_in_polygon(points: NDArray[np.float64], polygon: Sequence[Sequence[float]]) -> NDArray[np.bool_]:
    """Even-odd rule containment of (N, 2) points in a simple polygon."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    poly = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    x, y = pts[:, 0:1], pts[:, 1:2]
    x1, y1 = poly[:, 0], poly[:, 1]
    x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
    straddles = (y1 <= y) != (y2 <= y)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
    crossings = straddles & (x < x_cross)
    return np.asarray(crossings.sum(axis=1) % 2 == 1)
