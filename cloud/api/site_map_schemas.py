"""Response body of the site map: the floor's geometry in metres and its heatmap."""

from __future__ import annotations

from pydantic import BaseModel, Field

from cloud.analytics.site_map import CameraView, MapLine, MapRegion, PlanLayer
from cloud.api.schemas import HeatmapGrid


class SiteMapOut(BaseModel):
    site_id: str
    floor_id: str
    bounds: tuple[float, float, float, float] = Field(
        description="(xmin, ymin, xmax, ymax) metres: the floor's extent, else what the map draws; y grows downwards"
    )
    plan: PlanLayer | None = Field(
        description="the floor's plan image (GET .../floors/{floor_id}/plan) and where it lies; None without one"
    )
    cameras: list[CameraView]
    zones: list[MapRegion]
    exits: list[MapRegion]
    lines: list[MapLine]
    heatmap: HeatmapGrid = Field(description="occupancy person-seconds per cell over the range")
