"""Draw what a camera's calibration means over one of its frames.

The 1 m floor grid (bolder every 5 m) shows at a glance whether the floor lies flat and
square in the picture; lines (with an arrow to their `in` side), zones and exits show what
is counted where; each calibration point is a circle where the installer clicked it and a
cross where its floor point lands through the fit, joined by a line as long as its error.
The caller blurs the frame first: this only draws.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from numpy.typing import NDArray

from shared.config.site import Camera, SiteConfig, Space
from shared.geometry.calibration import (
    CameraCheck,
    Point,
    floor_window,
    grid_segments,
    horizon,
    project_segments,
    to_image,
)
from shared.geometry.homography import FloorMapper

# BGR. Cyan and magenta stand out on the greys and browns of mall floors.
GRID = (255, 255, 0)
HORIZON = (0, 128, 255)
LINE = (0, 255, 255)
ZONE = (0, 200, 0)
EXIT = (0, 0, 255)
POINT = (255, 0, 255)
# Length of the arrow to a line's `in` side: pixels for image-space lines, metres for floor ones.
ARROW_PX = 25.0
ARROW_M = 0.75


def draw_overlay(image: NDArray[np.uint8], site: SiteConfig, camera: Camera, check: CameraCheck) -> NDArray[np.uint8]:
    """A copy of `image` (the camera's cropped frame) with its calibration drawn on it."""
    mapper = FloorMapper.for_camera(camera)
    if mapper is None or camera.homography is None:
        raise ValueError(f"camera {camera.id!r} has no homography: nothing to draw")
    out = image.copy()
    size = (out.shape[1], out.shape[0])
    for seg in grid_segments(mapper, size, floor_window(camera.homography)):
        cv2.line(out, _px(seg.start), _px(seg.end), GRID, 2 if seg.major else 1, cv2.LINE_AA)
    sky = horizon(mapper, size)
    if sky is not None:
        cv2.line(out, _px(sky[0]), _px(sky[1]), HORIZON, 2, cv2.LINE_AA)
        _label(out, "horizon: no floor above", _px(sky[0]), HORIZON)
    for zone in site.zones_of(camera.id):
        _polygon(out, mapper, zone.space, zone.polygon, ZONE, f"zone {zone.id}")
    for exit_ in (e for e in site.exits if e.camera == camera.id):
        _polygon(out, mapper, exit_.space, exit_.polygon, EXIT, f"exit {exit_.id}")
    for line in site.lines_of(camera.id):
        _line(out, mapper, line.space, line.points, line.id)
    _points(out, mapper, camera, check)
    return out


def _offset(camera: Camera) -> tuple[float, float]:
    # The homography is measured on the full frame; the picture is the crop.
    return (float(camera.crop[0]), float(camera.crop[1])) if camera.crop else (0.0, 0.0)


def _px(point: Point | NDArray[np.float64]) -> tuple[int, int]:
    return round(float(point[0])), round(float(point[1]))


def _drawable(point: NDArray[np.float64]) -> bool:
    # Floor projected near the camera's own plane lands far off the frame, beyond OpenCV's int coordinates.
    return bool(np.isfinite(point).all() and (np.abs(point) < 1e5).all())


def _label(image: NDArray[np.uint8], text: str, origin: tuple[int, int], colour: tuple[int, int, int]) -> None:
    # A dark outline keeps the text readable on any background.
    h, w = image.shape[:2]
    x = min(max(origin[0], 2), max(2, w - 8 * len(text)))
    y = min(max(origin[1], 14), h - 4)
    for thickness, ink in ((3, (0, 0, 0)), (1, colour)):
        cv2.putText(image, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, 0.45, ink, thickness, cv2.LINE_AA)


def _visible(
    mapper: FloorMapper, space: Space, starts: Sequence[Point], ends: Sequence[Point], size: tuple[int, int]
) -> list[tuple[Point, Point]]:
    """Segments of a drawn shape in image pixels: floor-space ones projected, cut at the horizon."""
    if space is Space.IMAGE:
        return list(zip(starts, ends, strict=True))
    return [seg for seg in project_segments(mapper, starts, ends, size) if seg is not None]


def _polygon(
    image: NDArray[np.uint8],
    mapper: FloorMapper,
    space: Space,
    polygon: list[Point],
    colour: tuple[int, int, int],
    name: str,
) -> None:
    size = (image.shape[1], image.shape[0])
    segments = _visible(mapper, space, polygon, [*polygon[1:], polygon[0]], size)
    for a, b in segments:
        cv2.line(image, _px(a), _px(b), colour, 2, cv2.LINE_AA)
    if segments:
        corners = np.asarray([p for seg in segments for p in seg], dtype=np.float64)
        _label(image, name, _px(corners.mean(axis=0)), colour)


def _line(image: NDArray[np.uint8], mapper: FloorMapper, space: Space, points: tuple[Point, Point], name: str) -> None:
    size = (image.shape[1], image.shape[0])
    for a, b in _visible(mapper, space, [points[0]], [points[1]], size):
        cv2.line(image, _px(a), _px(b), LINE, 2, cv2.LINE_AA)
    # `in` is the side where (P2 - P1) x (X - P1) > 0: the normal (-dy, dx), in the line's own space.
    p1, p2 = np.asarray(points[0], dtype=np.float64), np.asarray(points[1], dtype=np.float64)
    d = p2 - p1
    normal = np.array([-d[1], d[0]]) / np.linalg.norm(d)
    mid = (p1 + p2) / 2
    if space is Space.IMAGE:
        tail, tip = mid, mid + ARROW_PX * normal
    else:
        tail, tip = to_image(mapper, np.stack([mid, mid + ARROW_M * normal]))
    if _drawable(tail) and _drawable(tip):
        cv2.arrowedLine(image, _px(tail), _px(tip), LINE, 2, cv2.LINE_AA, tipLength=0.3)
        _label(image, f"{name} (in)", _px(tip), LINE)


def _points(image: NDArray[np.uint8], mapper: FloorMapper, camera: Camera, check: CameraCheck) -> None:
    dx, dy = _offset(camera)
    fitted = to_image(mapper, np.asarray([p.floor for p in check.points], dtype=np.float64))
    h, w = image.shape[:2]
    for point, landed in zip(check.points, fitted, strict=True):
        clicked = _px((point.image[0] - dx, point.image[1] - dy))
        if _drawable(landed):
            cv2.drawMarker(image, _px(landed), POINT, cv2.MARKER_CROSS, 10, 2, cv2.LINE_AA)
            cv2.line(image, clicked, _px(landed), POINT, 1, cv2.LINE_AA)
        # A cropped camera's points may lie on the rest of the full frame: no label at the border.
        if 0 <= clicked[0] < w and 0 <= clicked[1] < h:
            cv2.circle(image, clicked, 5, POINT, 2, cv2.LINE_AA)
            _label(image, f"{point.index}: {point.error_m:.2f} m", (clicked[0] + 7, clicked[1] - 7), POINT)
