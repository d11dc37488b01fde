"""Where a site's cameras, lines, zones and exits lie on the floor, in metres.

A camera's field of view is its frame projected through its homography: the frame cut at
the horizon (the floor runs to infinity there) and then to the floor window the calibration
is trusted in (`calibration.floor_window`). Image-space lines, zones and exits are projected
the same way, so a site map can draw everything in floor coordinates. Pure geometry: the
cloud's site map and the plan-image generator both use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from shared.config.site import Camera, SiteConfig, Space
from shared.geometry.calibration import Point, Window, floor_window
from shared.geometry.homography import FloatArray, FloorMapper

# A frame is cut this far below the horizon (as a share of the largest projective scale in
# the frame): closer, the projected corners would be astronomically far and only the window
# clip would bound them, which floats survive but a browser's SVG renderer does not like.
HORIZON_MARGIN = 1e-3


@dataclass(frozen=True)
class FrameSize:
    width: int
    height: int
    # False: no crop says it; the smallest frame holding every image point the config gives
    # (the true frame may be larger: the view drawn is then a lower bound).
    known: bool


def frame_size(site: SiteConfig, camera: Camera) -> FrameSize:
    """The camera's own frame in pixels, from its crop or else from the config's image points.

    The cloud never sees a frame, so an uncropped camera's size is inferred from its
    calibration points (full frame) and its image-space lines, zones and exits.
    """
    if camera.crop is not None:
        x0, y0, x1, y1 = camera.crop
        return FrameSize(x1 - x0, y1 - y0, True)
    points: list[Sequence[float]] = list(camera.homography.image_points) if camera.homography else []
    for line in site.lines:
        if line.camera == camera.id and line.space is Space.IMAGE:
            points.extend(line.points)
    for zone in site.zones:
        if zone.camera == camera.id and zone.space is Space.IMAGE:
            points.extend(zone.polygon)
    for exit_ in site.exits:
        if exit_.camera == camera.id and exit_.space is Space.IMAGE:
            points.extend(exit_.polygon)
    if not points:
        return FrameSize(1, 1, False)
    xy = np.asarray(points, dtype=np.float64)
    return FrameSize(max(1, int(np.ceil(xy[:, 0].max()))), max(1, int(np.ceil(xy[:, 1].max()))), False)


def _clip(polygon: FloatArray, normal: FloatArray, offset: float) -> FloatArray:
    """Sutherland-Hodgman: the part of a polygon where normal · p + offset >= 0."""
    if len(polygon) == 0:
        return polygon
    side = polygon @ normal + offset
    out: list[FloatArray] = []
    for i in range(len(polygon)):
        j = (i + 1) % len(polygon)
        a, b, sa, sb = polygon[i], polygon[j], side[i], side[j]
        if sa >= 0:
            out.append(a)
        if (sa >= 0) != (sb >= 0):
            out.append(a + (sa / (sa - sb)) * (b - a))
    return np.asarray(out, dtype=np.float64).reshape(-1, 2)


def _in_front(mapper: FloorMapper, polygon: FloatArray) -> FloatArray:
    """The polygon (image pixels) cut to the part below the horizon, with a margin."""
    row = mapper.matrix[2] * mapper.front_sign
    scale = np.hstack([polygon, np.ones((len(polygon), 1))]) @ row
    top = float(scale.max()) if len(scale) else 0.0
    if top <= 0:
        return np.zeros((0, 2))
    return _clip(polygon, row[:2], float(row[2]) - HORIZON_MARGIN * top)


def _to_window(polygon: FloatArray, window: Window) -> FloatArray:
    xmin, ymin, xmax, ymax = window
    for normal, offset in (((1, 0), -xmin), ((-1, 0), xmax), ((0, 1), -ymin), ((0, -1), ymax)):
        polygon = _clip(polygon, np.asarray(normal, dtype=np.float64), float(offset))
    return polygon


def _points(polygon: FloatArray) -> list[Point]:
    return [(round(float(x), 3), round(float(y), 3)) for x, y in polygon]


def image_polygon_on_floor(mapper: FloorMapper, polygon: Sequence[Sequence[float]], window: Window) -> list[Point]:
    """An image polygon (the camera's own pixels) on the floor: the part below the horizon, within `window`."""
    front = _in_front(mapper, np.asarray(polygon, dtype=np.float64).reshape(-1, 2))
    if len(front) < 3:
        return []
    return _points(_to_window(mapper.to_floor(front), window))


def view_polygon(mapper: FloorMapper, size: FrameSize, window: Window) -> list[Point]:
    """The floor a frame sees, as a polygon in metres; empty when it sees none."""
    w, h = float(size.width), float(size.height)
    return image_polygon_on_floor(mapper, [(0, 0), (w, 0), (w, h), (0, h)], window)


def camera_window(camera: Camera) -> Window | None:
    return None if camera.homography is None else floor_window(camera.homography)


def line_on_floor(
    mapper: FloorMapper | None, points: Sequence[Sequence[float]], space: Space
) -> tuple[Point, Point, Point] | None:
    """A line's ends on the floor and the direction of its `in` side: where (P2−P1)×(X−P1) > 0
    in the line's own coordinates, i.e. along the normal (−dy, dx) there."""
    p = np.asarray(points, dtype=np.float64).reshape(2, 2)
    d = p[1] - p[0]
    mid = p.mean(axis=0)
    # A step of a tenth of the line's length towards `in`: far enough to survive rounding.
    probe = mid + 0.1 * np.array([-d[1], d[0]])
    pts = np.vstack([p, mid, probe])
    if space is Space.IMAGE:
        if mapper is None:
            return None
        pts = mapper.to_floor(pts)
        if not np.isfinite(pts).all():
            return None
    direction = pts[3] - pts[2]
    norm = float(np.linalg.norm(direction))
    if norm == 0:
        return None
    unit = direction / norm
    start, end = _points(pts[:2])
    return start, end, (round(float(unit[0]), 4), round(float(unit[1]), 4))
