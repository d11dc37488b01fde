"""A floor's site map in metres: cameras' fields of view, lines, zones, exits and the heatmap.

Everything a site YAML draws in a camera's pixels is projected through that camera's
homography (shared/geometry/field_of_view.py), so the dashboard draws one coordinate system.
Floor-space lines, zones and exits are already in metres. A camera without a homography has
no place on the floor and is listed with an empty view.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import cv2
from sqlalchemy.orm import Session

from cloud.analytics.buckets import TimeRange
from cloud.analytics.heatmap import Heatmap, heatmap
from shared.config.site import Camera, SiteConfig, Space
from shared.geometry.calibration import Point
from shared.geometry.field_of_view import (
    camera_window,
    frame_size,
    image_polygon_on_floor,
    line_on_floor,
    view_polygon,
)
from shared.geometry.homography import FloorMapper

# Metres around the drawn features when the floor has no extent to frame the map.
MARGIN_M = 1.0


@dataclass(frozen=True)
class CameraView:
    id: str
    # The floor the frame sees; empty without a homography or when it sees no floor.
    view: list[Point]
    frame_width: int
    frame_height: int
    # False: the frame size was inferred from the config's image points (no crop says it).
    frame_known: bool


@dataclass(frozen=True)
class MapRegion:
    id: str
    camera: str
    # Empty when an image-space region lies wholly above its camera's horizon.
    polygon: list[Point]


@dataclass(frozen=True)
class MapLine:
    id: str
    camera: str
    entrance: bool
    group: str | None
    start: Point
    end: Point
    # Unit vector on the floor pointing to the line's `in` side.
    inward: Point


@dataclass(frozen=True)
class PlanLayer:
    # The plan's size in metres at the floor's pixels_per_metre, and its corner (pixel 0, 0).
    width_m: float
    height_m: float
    origin: Point
    width_px: int
    height_px: int


@dataclass(frozen=True)
class FloorGeometry:
    """What the map draws of a floor: it depends on the site's config alone."""

    # (xmin, ymin, xmax, ymax) metres: the floor's extent, else what the map draws.
    bounds: tuple[float, float, float, float]
    plan: PlanLayer | None
    cameras: list[CameraView]
    zones: list[MapRegion]
    exits: list[MapRegion]
    lines: list[MapLine]


@dataclass(frozen=True)
class SiteMap:
    site_id: str
    floor_id: str
    geometry: FloorGeometry
    heatmap: Heatmap


def plan_path(site: SiteConfig, floor_id: str) -> Path | None:
    """The floor's plan image file when configured and present on this server."""
    plan = site.floor(floor_id).plan_image
    if plan is None:
        return None
    path = Path(plan).expanduser()
    return path if path.is_file() else None


def _plan_layer(site: SiteConfig, floor_id: str) -> PlanLayer | None:
    path = plan_path(site, floor_id)
    if path is None:
        return None
    # Only the header is needed, but OpenCV has no header read: plans are small images.
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        return None
    floor = site.floor(floor_id)
    h, w = image.shape[:2]
    ppm = floor.pixels_per_metre
    return PlanLayer(round(w / ppm, 3), round(h / ppm, 3), floor.origin, w, h)


def _region(
    site: SiteConfig, mappers: dict[str, FloorMapper | None], camera_id: str, space: Space, polygon: list[Point]
) -> list[Point]:
    if space is Space.FLOOR:
        return [(float(x), float(y)) for x, y in polygon]
    mapper = mappers.get(camera_id)
    window = camera_window(site.camera(camera_id))
    if mapper is None or window is None:
        return []
    return image_polygon_on_floor(mapper, polygon, window)


def _bounds(
    site: SiteConfig, floor_id: str, points: list[Point], plan: PlanLayer | None
) -> tuple[float, float, float, float]:
    extent = site.floor(floor_id).extent
    if extent is not None:
        return extent
    if plan is not None:
        points = [*points, plan.origin, (plan.origin[0] + plan.width_m, plan.origin[1] + plan.height_m)]
    if not points:
        return (0.0, 0.0, 10.0, 10.0)
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return (min(xs) - MARGIN_M, min(ys) - MARGIN_M, max(xs) + MARGIN_M, max(ys) + MARGIN_M)


def _camera_view(site: SiteConfig, camera: Camera, mapper: FloorMapper | None) -> CameraView:
    size = frame_size(site, camera)
    window = camera_window(camera)
    view = [] if mapper is None or window is None else view_polygon(mapper, size, window)
    return CameraView(camera.id, view, size.width, size.height, size.known)


class _GeometryCache:
    """Floor geometry per site config object: projecting every view, zone and line costs about
    1 ms per camera, on every map request otherwise. The API's site catalog hands out the same
    config object until the stored config changes, which is then a miss. The plan's size is
    kept with it: a plan image redrawn at another size under the same path shows once the
    config changes or the API restarts."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str], tuple[SiteConfig, FloorGeometry]] = OrderedDict()

    def get(self, site: SiteConfig, floor_id: str) -> FloorGeometry:
        key = (site.site.id, floor_id)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] is site:
                self._entries.move_to_end(key)
                return entry[1]
        geometry = floor_geometry(site, floor_id)
        with self._lock:
            self._entries[key] = (site, geometry)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return geometry


# A few floors per site of a chain of a few hundred sites.
_CACHE = _GeometryCache(1024)


def floor_geometry(site: SiteConfig, floor_id: str) -> FloorGeometry:
    cameras = [c for c in site.cameras if c.floor == floor_id]
    mappers = {c.id: FloorMapper.for_camera(c) for c in cameras}
    views = [_camera_view(site, c, mappers[c.id]) for c in cameras]
    zones = [
        MapRegion(z.id, z.camera, _region(site, mappers, z.camera, z.space, z.polygon))
        for z in site.zones
        if z.camera in mappers
    ]
    exits = [
        MapRegion(e.id, e.camera, _region(site, mappers, e.camera, e.space, e.polygon))
        for e in site.exits
        if e.camera in mappers
    ]
    lines = []
    for ln in site.lines:
        if ln.camera not in mappers:
            continue
        placed = line_on_floor(mappers[ln.camera], ln.points, ln.space)
        if placed is not None:
            lines.append(MapLine(ln.id, ln.camera, ln.entrance, ln.group, *placed))
    plan = _plan_layer(site, floor_id)
    drawn = [p for r in (*zones, *exits) for p in r.polygon] + [p for ln in lines for p in (ln.start, ln.end)]
    return FloorGeometry(_bounds(site, floor_id, drawn, plan), plan, views, zones, exits, lines)


def site_map(session: Session, site: SiteConfig, floor_id: str, span: TimeRange) -> SiteMap:
    """The floor's map with the heatmap of `span`; raises ValueError for an unknown floor."""
    if floor_id not in {f.id for f in site.floors}:
        raise ValueError(f"site {site.site.id!r} has no floor {floor_id!r}")
    return SiteMap(site.site.id, floor_id, _CACHE.get(site, floor_id), heatmap(session, site, floor_id, span))
