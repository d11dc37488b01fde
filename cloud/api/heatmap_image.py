"""Heatmaps as PNG: over the floor plan when the site has one, else over a neutral grid."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from cloud.analytics.heatmap import Heatmap
from shared.config.site import Floor

log = logging.getLogger(__name__)

MAX_SIDE_PX = 4096
_BACKGROUND = (246, 246, 246)
_GRID = (222, 222, 222)


def _plan(floor: Floor) -> NDArray[np.uint8] | None:
    if floor.plan_image is None:
        return None
    image = cv2.imread(str(Path(floor.plan_image).expanduser()), cv2.IMREAD_COLOR)
    if image is None:
        log.warning("floor %r: plan image %s cannot be read; drawing a neutral grid", floor.id, floor.plan_image)
    return np.asarray(image, dtype=np.uint8)


def _colours(seconds: NDArray[np.float64]) -> tuple[NDArray[np.uint8], NDArray[np.bool_]]:
    """BGR colour per cell (inferno, square-root scaled so quiet cells still show) and which cells have any."""
    peak = float(seconds.max()) if seconds.size else 0.0
    scaled = np.sqrt(seconds / peak) if peak > 0 else np.zeros_like(seconds)
    levels = (scaled * 255).astype(np.uint8)
    return np.asarray(cv2.applyColorMap(levels, cv2.COLORMAP_INFERNO), dtype=np.uint8), seconds > 0


def render_heatmap_png(grid: Heatmap, floor: Floor, cell_px: int) -> bytes:
    """`cell_px` pixels per cell on a grid image; on a plan, the plan's own scale."""
    ny, nx = grid.seconds.shape
    plan = _plan(floor)
    if plan is not None:
        # Cell (0, 0)'s corner in plan pixels, and the size of a cell there.
        ppm = floor.pixels_per_metre
        x0 = round((grid.origin[0] - floor.origin[0]) * ppm)
        y0 = round((grid.origin[1] - floor.origin[1]) * ppm)
        size = max(1, round(grid.cell_m * ppm))
        canvas = plan.copy()
    else:
        side = max(nx, ny, 1) * cell_px
        if side > MAX_SIDE_PX:
            raise ValueError(f"a {nx}×{ny} grid at {cell_px} px per cell exceeds {MAX_SIDE_PX} px; lower cell_px")
        x0 = y0 = 0
        size = cell_px
        canvas = np.full((max(ny, 1) * cell_px, max(nx, 1) * cell_px, 3), _BACKGROUND, dtype=np.uint8)
        for i in range(nx + 1):
            cv2.line(canvas, (i * cell_px, 0), (i * cell_px, canvas.shape[0]), _GRID, 1)
        for j in range(ny + 1):
            cv2.line(canvas, (0, j * cell_px), (canvas.shape[1], j * cell_px), _GRID, 1)
    if nx and ny:
        # Only for a grid with cells: OpenCV's colour map on an empty array (a floor without
        # extent and without data) kills the process with a floating-point exception.
        colours, occupied = _colours(grid.seconds)
        layer = cv2.resize(colours, (nx * size, ny * size), interpolation=cv2.INTER_NEAREST)
        mask = cv2.resize(occupied.astype(np.uint8), (nx * size, ny * size), interpolation=cv2.INTER_NEAREST) > 0
        # The part of the grid that falls on the canvas.
        h, w = canvas.shape[:2]
        cx0, cy0 = max(0, x0), max(0, y0)
        cx1, cy1 = min(w, x0 + layer.shape[1]), min(h, y0 + layer.shape[0])
        if cx1 > cx0 and cy1 > cy0:
            sub = canvas[cy0:cy1, cx0:cx1]
            src = layer[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
            m = mask[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0, None]
            if plan is not None:
                src = cv2.addWeighted(src, 0.65, sub, 0.35, 0.0)
            np.copyto(sub, src, where=m)
    # Flat blocks of colour: run-length deflate at low effort is several times faster than
    # the default and about as small.
    ok, png = cv2.imencode(
        ".png", canvas, [cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE, cv2.IMWRITE_PNG_COMPRESSION, 1]
    )
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return png.tobytes()
