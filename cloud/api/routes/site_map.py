"""The site map of a floor (geometry in metres with the heatmap) and the floor's plan image."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import FileResponse

from cloud.analytics.site_map import plan_path, site_map
from cloud.api.deps import DbSession, Reader, Site, TimeSpan
from cloud.api.schemas import HeatmapGrid
from cloud.api.site_map_schemas import SiteMapOut
from shared.config.site import SiteConfig

router = APIRouter(prefix="/api/v1/sites/{site_id}", tags=["site map"])


def _floor(site: SiteConfig, floor_id: str | None) -> str:
    if floor_id is None:
        return site.floors[0].id
    if floor_id not in {f.id for f in site.floors}:
        raise HTTPException(
            404, f"site {site.site.id!r} has no floor {floor_id!r} (floors: {', '.join(f.id for f in site.floors)})"
        )
    return floor_id


@router.get(
    "/map",
    response_model=SiteMapOut,
    summary="a floor in metres: cameras' fields of view, lines, zones, exits, plan and the heatmap of the range",
)
def get_map(
    _: Reader,
    site: Site,
    span: TimeSpan,
    session: DbSession,
    floor: Annotated[str | None, Query(max_length=64, description="floor id (default: the site's first)")] = None,
) -> SiteMapOut:
    result = site_map(session, site, _floor(site, floor), span.range)
    grid, geometry = result.heatmap, result.geometry
    return SiteMapOut(
        site_id=result.site_id,
        floor_id=result.floor_id,
        bounds=geometry.bounds,
        plan=geometry.plan,
        cameras=geometry.cameras,
        zones=geometry.zones,
        exits=geometry.exits,
        lines=geometry.lines,
        heatmap=HeatmapGrid.of(result.site_id, result.floor_id, grid),
    )


@router.get(
    "/floors/{floor_id}/plan",
    response_class=FileResponse,
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}}, "description": "the floor's plan image"}},
    summary="the floor's plan image, as configured",
)
def get_plan(_: Reader, site: Site, floor_id: str) -> FileResponse:
    path = plan_path(site, _floor(site, floor_id))
    if path is None:
        raise HTTPException(404, f"floor {floor_id!r} of site {site.site.id!r} has no plan image on this server")
    return FileResponse(path, headers={"Cache-Control": "no-store"})
