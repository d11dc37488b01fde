"""Counting lines and zones drawn all over the PETS09-S2L1 frame (768x576 pixels).

Accuracy is judged on many positions, orientations and directions, so that no number
depends on where one line happens to be drawn: the accuracy tests, the tracker sweep and
BENCHMARKS.md use these same shapes.
"""

from __future__ import annotations

from typing import Any

Point = tuple[float, float]

# Full-height verticals (walking right is `in` for the upward ones, left for the downward),
# horizontals both ways, diagonals and two short segments that people also pass beside.
LINES: dict[str, tuple[Point, Point]] = {
    "v150-up": ((150, 576), (150, 120)),
    "v250-down": ((250, 120), (250, 576)),
    "v400-up": ((400, 576), (400, 150)),
    "v550-down": ((550, 100), (550, 576)),
    "v650-up": ((650, 576), (650, 100)),
    "h220-right": ((0, 220), (768, 220)),
    "h300-left": ((768, 300), (0, 300)),
    "h380-right": ((0, 380), (768, 380)),
    "h470-left": ((768, 470), (0, 470)),
    "diag-rising": ((100, 576), (700, 150)),
    "diag-falling": ((80, 150), (700, 560)),
    "short-v320": ((320, 250), (320, 420)),
    "short-h500": ((420, 420), (640, 420)),
}

ZONES: dict[str, list[Point]] = {
    "centre": [(250, 250), (550, 250), (600, 450), (200, 450)],
    "left": [(0, 200), (230, 200), (230, 576), (0, 576)],
    "right": [(560, 150), (768, 150), (768, 576), (560, 576)],
    "upper-band": [(100, 130), (700, 130), (700, 260), (100, 260)],
    "lower-band": [(0, 420), (768, 420), (768, 576), (0, 576)],
    "small-middle": [(340, 300), (460, 300), (460, 400), (340, 400)],
}


def lines_config(
    camera: str, shapes: dict[str, tuple[Point, Point]] | None = None, **settings: Any
) -> list[dict[str, Any]]:
    """Site `lines` entries for `shapes` (default: LINES)."""
    return [{"id": name, "camera": camera, "points": pts, **settings} for name, pts in (shapes or LINES).items()]


def zones_config(camera: str, shapes: dict[str, list[Point]] | None = None, **settings: Any) -> list[dict[str, Any]]:
    """Site `zones` entries for `shapes` (default: ZONES)."""
    return [{"id": name, "camera": camera, "polygon": poly, **settings} for name, poly in (shapes or ZONES).items()]
