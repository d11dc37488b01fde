"""Counting lines and zones at random positions in a frame, seeded.

A handful of hand-drawn lines can suit a setting, or a tracker, by luck. A mall installer
draws lines wherever the doors are: judging counts and dwell on a few hundred lines and
zones thrown anywhere in the frame (most across no walking path, some along one, at every
angle and length) shows whether a number depends on where the shape happens to be.
`mallflow eval sequence --random-shapes` and the tracker sweep use these.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from shared.config.site import SiteConfig

Point = tuple[float, float]

# Shortest line, as a share of the frame's diagonal: shorter ones catch almost nobody.
MIN_LINE_SHARE = 0.15
# A zone's sides, as a share of the frame's short side.
ZONE_SIDE_SHARES = (0.12, 0.6)


def random_lines(count: int, width: int, height: int, seed: int = 0) -> dict[str, tuple[Point, Point]]:
    """`count` segments with both ends inside the frame, any angle, in or out either way."""
    if count < 0 or width <= 0 or height <= 0:
        raise ValueError(f"need count >= 0 and a frame size > 0, got {count} lines in {width}x{height}")
    rng = np.random.default_rng(seed)
    shortest = MIN_LINE_SHARE * float(np.hypot(width, height))
    lines: dict[str, tuple[Point, Point]] = {}
    while len(lines) < count:
        (x1, y1), (x2, y2) = rng.uniform((0, 0), (width, height), size=(2, 2)).round(1).tolist()
        if np.hypot(x2 - x1, y2 - y1) >= shortest:
            lines[f"random-line-{len(lines):03d}"] = ((x1, y1), (x2, y2))
    return lines


def random_zones(count: int, width: int, height: int, seed: int = 0) -> dict[str, list[Point]]:
    """`count` convex quadrilaterals inside the frame: rectangles of random size and aspect,
    each corner moved inward by up to a quarter of the side it sits on."""
    if count < 0 or width <= 0 or height <= 0:
        raise ValueError(f"need count >= 0 and a frame size > 0, got {count} zones in {width}x{height}")
    rng = np.random.default_rng(seed + 1)
    short = min(width, height)
    zones: dict[str, list[Point]] = {}
    for k in range(count):
        w, h = rng.uniform(*ZONE_SIDE_SHARES, size=2) * short
        x0, y0 = rng.uniform(0, width - w), rng.uniform(0, height - h)
        dx, dy = rng.uniform(0, 0.25, size=(2, 4)) * np.array([[w], [h]])
        # Corners clockwise from the top left; each moves towards the inside, which keeps the quad convex.
        xs = np.array([x0 + dx[0], x0 + w - dx[1], x0 + w - dx[2], x0 + dx[3]])
        ys = np.array([y0 + dy[0], y0 + dy[1], y0 + h - dy[2], y0 + h - dy[3]])
        zones[f"random-zone-{k:03d}"] = [(float(x), float(y)) for x, y in zip(xs.round(1), ys.round(1), strict=True)]
    return zones


def with_random_shapes(
    site: SiteConfig, camera_id: str, size: tuple[int, int], lines: int, zones: int, seed: int = 0
) -> tuple[SiteConfig, SiteConfig]:
    """(the site plus random image-space lines and zones on `camera_id`, the site with only those).

    `size` is the camera's (width, height). The shapes take the product's default settings;
    their ids (`random-line-000`, `random-zone-000`, ...) are refused if the site already uses one.
    The first config runs the camera once for both sets; the second judges the random ones.
    """
    width, height = size
    drawn_lines = [
        {"id": name, "camera": camera_id, "points": points}
        for name, points in random_lines(lines, width, height, seed).items()
    ]
    drawn_zones = [
        {"id": name, "camera": camera_id, "polygon": polygon}
        for name, polygon in random_zones(zones, width, height, seed).items()
    ]
    taken = {line.id for line in site.lines} | {zone.id for zone in site.zones}
    taken &= {shape["id"] for shape in (*drawn_lines, *drawn_zones)}
    if taken:
        raise ValueError(
            f"site {site.site.id!r} already has shapes named {sorted(taken)}: rename them to add random ones"
        )
    raw: dict[str, Any] = site.model_dump()
    both = SiteConfig.model_validate(raw | {"lines": raw["lines"] + drawn_lines, "zones": raw["zones"] + drawn_zones})
    only = SiteConfig.model_validate(raw | {"lines": drawn_lines, "zones": drawn_zones})
    return both, only
