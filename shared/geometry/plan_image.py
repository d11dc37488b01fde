"""A floor plan drawn from a site's calibration: what its cameras see, on a metre grid.

Sites without an architect's plan (the PETS09 examples) still get a plan under their site
map: each camera's field of view filled and outlined, the 1 m grid (every 5th line bolder)
over the floor's extent. The image is in plan pixels with the floor's `pixels_per_metre`,
and pixel (0, 0) at the extent's corner, so the site YAML points at it with
`origin: [xmin, ymin]`.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from shared.config.site import SiteConfig
from shared.geometry.calibration import MAJOR_EVERY
from shared.geometry.field_of_view import camera_window, frame_size, view_polygon
from shared.geometry.homography import FloorMapper

# Greys and a pale blue: the heatmap and the overlays in colour must stand out on it.
_PAPER = (255, 255, 255)
_MINOR = (236, 236, 236)
_MAJOR = (212, 212, 212)
_SEEN = (246, 236, 222)
_OUTLINE = (168, 140, 110)
_LABEL = (110, 90, 70)
# A plan larger than this is a mistyped extent or scale, not a floor.
MAX_SIDE_PX = 8192


@dataclass(frozen=True, eq=False)
class PlanImage:
    image: NDArray[np.uint8]  # BGR
    pixels_per_metre: float
    origin: tuple[float, float]  # floor metres of pixel (0, 0)


def render_plan(site: SiteConfig, floor_id: str) -> PlanImage:
    """The floor's plan at its own `pixels_per_metre`, covering its `extent`."""
    floor = site.floor(floor_id)
    if floor.extent is None:
        raise ValueError(f"floor {floor_id!r} has no extent: the plan needs the area to cover")
    xmin, ymin, xmax, ymax = floor.extent
    ppm = floor.pixels_per_metre
    width, height = round((xmax - xmin) * ppm), round((ymax - ymin) * ppm)
    if max(width, height) > MAX_SIDE_PX:
        raise ValueError(f"a {width}x{height} px plan exceeds {MAX_SIDE_PX} px: lower pixels_per_metre")
    canvas = np.full((height, width, 3), _PAPER, dtype=np.uint8)

    def px(points: list[tuple[float, float]]) -> NDArray[np.int32]:
        xy = (np.asarray(points, dtype=np.float64) - (xmin, ymin)) * ppm
        return np.rint(xy).astype(np.int32)

    views = []
    for camera in site.cameras:
        mapper = FloorMapper.for_camera(camera)
        window = camera_window(camera)
        if camera.floor != floor_id or mapper is None or window is None:
            continue
        # Within the extent too, so each label lands on the part of the view the plan shows.
        inside = (max(window[0], xmin), max(window[1], ymin), min(window[2], xmax), min(window[3], ymax))
        if not (inside[0] < inside[2] and inside[1] < inside[3]):
            continue
        view = view_polygon(mapper, frame_size(site, camera), inside)
        if len(view) >= 3:
            views.append((camera.id, px(view)))
    for _, polygon in views:
        cv2.fillPoly(canvas, [polygon], _SEEN)
    for metre in range(int(np.ceil(xmin)), int(np.floor(xmax)) + 1):
        x = round((metre - xmin) * ppm)
        cv2.line(canvas, (x, 0), (x, height), _MAJOR if metre % MAJOR_EVERY == 0 else _MINOR, 1)
    for metre in range(int(np.ceil(ymin)), int(np.floor(ymax)) + 1):
        y = round((metre - ymin) * ppm)
        cv2.line(canvas, (0, y), (width, y), _MAJOR if metre % MAJOR_EVERY == 0 else _MINOR, 1)
    for camera_id, polygon in views:
        cv2.polylines(canvas, [polygon], True, _OUTLINE, 1, cv2.LINE_AA)
        cx, cy = polygon.mean(axis=0).astype(int)
        cv2.putText(canvas, camera_id, (int(cx) - 20, int(cy)), cv2.FONT_HERSHEY_SIMPLEX, 0.35, _LABEL, 1, cv2.LINE_AA)
    return PlanImage(canvas, ppm, (xmin, ymin))


def encode_png(plan: PlanImage) -> bytes:
    ok, png = cv2.imencode(".png", plan.image, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return png.tobytes()
