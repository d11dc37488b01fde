"""Which tracklets left the site: their last floor position lies in one of their camera's exits.

Exits are drawn per camera, in its (cropped) image pixels or on its floor; stitching only
sees floor positions, so image-space exits are projected once through the camera's
homography, the same projection the edge applies to foot points.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from cloud.stitching.tracklet import Tracklet
from shared.config.site import SiteConfig, Space
from shared.geometry import FloorMapper
from shared.geometry.shapes import point_in_polygon


class SiteExits:
    def __init__(self, site: SiteConfig) -> None:
        self._polygons: dict[str, list[list[list[float]]]] = {}
        for ex in site.exits:
            polygon: NDArray[np.float64] = np.asarray(ex.polygon, dtype=np.float64)
            if ex.space is Space.IMAGE:
                mapper = FloorMapper.for_camera(site.camera(ex.camera))
                assert mapper is not None  # the config requires an exit's camera to have a homography
                polygon = mapper.to_floor(polygon)
                if not np.isfinite(polygon).all():
                    raise ValueError(
                        f"exit {ex.id!r}: a corner lies on or beyond the horizon of camera {ex.camera!r}; "
                        "draw it lower in the image, or on the floor (space: floor)"
                    )
            self._polygons.setdefault(ex.camera, []).append(polygon.tolist())

    def departed(self, tracklet: Tracklet) -> bool:
        """The tracklet ended in an exit of its camera: the person left the site."""
        polygons = self._polygons.get(tracklet.camera_id)
        if not polygons or tracklet.last_floor is None:
            return False
        point = np.asarray([tracklet.last_floor], dtype=np.float64)
        return any(bool(point_in_polygon(point, polygon)[0]) for polygon in polygons)
