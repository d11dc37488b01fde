"""Per-site reads over a time range: footfall, visitors, dwell, heatmap, transitions, cameras."""

from __future__ import annotations

import time
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Response

from cloud.analytics.camera_health import camera_health
from cloud.analytics.dwell import DwellReport, dwell
from cloud.analytics.footfall import footfall
from cloud.analytics.heatmap import Heatmap, heatmap
from cloud.analytics.occupancy import OccupancyHistory, occupancy_history
from cloud.analytics.transitions import transitions
from cloud.analytics.visitors import VisitorsPerDay, unique_visitors
from cloud.api import csv_rows
from cloud.api.csv_export import CSV_RESPONSES, ExportFormat, Format, csv_response
from cloud.api.deps import DbSession, HoursChoice, Paging, Reader, Site, TimeSpan
from cloud.api.heatmap_image import render_heatmap_png
from cloud.api.schemas import CamerasPage, FootfallOutside, FootfallPage, HeatmapGrid, TransitionsPage
from shared.config.site import SiteConfig

router = APIRouter(prefix="/api/v1/sites/{site_id}", tags=["analytics"])

ExcludeStaff = Annotated[
    bool, Query(description="leave out visitors matched to a staff gallery (both numbers: call with and without)")
]


@router.get(
    "/footfall",
    response_model=FootfallPage,
    responses=CSV_RESPONSES,
    summary="crossings per entrance line and direction per bucket",
)
def get_footfall(
    _: Reader,
    site: Site,
    span: TimeSpan,
    session: DbSession,
    paging: Paging,
    hours: HoursChoice,
    fmt: Format,
    all_lines: Annotated[bool, Query(description="every counting line, not only entrances")] = False,
    exclude_staff: ExcludeStaff = False,
) -> FootfallPage | Response:
    result = footfall(
        session, site, span.range, span.bucket, all_lines=all_lines, exclude_staff=exclude_staff, hours=hours
    )
    if fmt is ExportFormat.CSV:
        return csv_response(f"{site.site.id}-footfall.csv", csv_rows.FOOTFALL_HEADER, csv_rows.footfall_rows(result))
    outside = result.outside_hours
    return FootfallPage(
        site_id=result.site_id,
        bucket=result.bucket,
        buckets=list(result.buckets),
        total_in=result.total_in,
        total_out=result.total_out,
        staff_excluded=result.staff_excluded,
        series_total=len(result.series),
        series=paging.take(result.series),
        hours=result.hours,
        outside_hours=None
        if outside is None
        else FootfallOutside(
            total_in=outside.total_in, total_out=outside.total_out, series=paging.take(outside.series)
        ),
        open_periods=list(result.open_periods),
    )


@router.get(
    "/visitors", response_model=VisitorsPerDay, responses=CSV_RESPONSES, summary="unique visitors per site-local day"
)
def get_visitors(
    _: Reader,
    site: Site,
    span: TimeSpan,
    session: DbSession,
    hours: HoursChoice,
    fmt: Format,
    exclude_staff: ExcludeStaff = False,
) -> VisitorsPerDay | Response:
    result = unique_visitors(session, site, span.range, exclude_staff=exclude_staff, hours=hours)
    if fmt is ExportFormat.CSV:
        return csv_response(f"{site.site.id}-visitors.csv", csv_rows.VISITORS_HEADER, csv_rows.visitors_rows(result))
    return result


@router.get(
    "/occupancy/history", response_model=OccupancyHistory, responses=CSV_RESPONSES, summary="peak occupancy per bucket"
)
def get_occupancy_history(
    _: Reader, site: Site, span: TimeSpan, session: DbSession, fmt: Format, exclude_staff: ExcludeStaff = False
) -> OccupancyHistory | Response:
    result = occupancy_history(session, site, span.range, span.bucket, exclude_staff=exclude_staff)
    if fmt is ExportFormat.CSV:
        return csv_response(f"{site.site.id}-occupancy.csv", csv_rows.OCCUPANCY_HEADER, csv_rows.occupancy_rows(result))
    return result


@router.get(
    "/dwell",
    response_model=DwellReport,
    responses=CSV_RESPONSES,
    summary="dwell-time statistics and histogram per zone",
)
def get_dwell(
    _: Reader,
    site: Site,
    span: TimeSpan,
    session: DbSession,
    hours: HoursChoice,
    fmt: Format,
    exclude_staff: ExcludeStaff = False,
) -> DwellReport | Response:
    result = dwell(session, site, span.range, exclude_staff=exclude_staff, hours=hours)
    if fmt is ExportFormat.CSV:
        return csv_response(f"{site.site.id}-dwell.csv", csv_rows.dwell_header(result), csv_rows.dwell_rows(result))
    return result


def _grid(site: SiteConfig, floor_id: str, span: TimeSpan, session: DbSession) -> Heatmap:
    if floor_id not in {f.id for f in site.floors}:
        raise HTTPException(404, f"site {site.site.id!r} has no floor {floor_id!r}")
    return heatmap(session, site, floor_id, span.range)


@router.get(
    "/floors/{floor_id}/heatmap",
    response_model=HeatmapGrid,
    responses=CSV_RESPONSES,
    summary="occupancy-seconds per floor cell",
)
def get_heatmap(
    _: Reader, site: Site, floor_id: str, span: TimeSpan, session: DbSession, fmt: Format
) -> HeatmapGrid | Response:
    grid = _grid(site, floor_id, span, session)
    if fmt is ExportFormat.CSV:
        return csv_response(
            f"{site.site.id}-heatmap-{floor_id}.csv", csv_rows.HEATMAP_HEADER, csv_rows.heatmap_rows(grid)
        )
    return HeatmapGrid.of(site.site.id, floor_id, grid)


@router.get(
    "/floors/{floor_id}/heatmap.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "the heatmap over the plan or a neutral grid"}},
    summary="heatmap as a PNG",
)
def get_heatmap_png(
    _: Reader,
    site: Site,
    floor_id: str,
    span: TimeSpan,
    session: DbSession,
    cell_px: Annotated[int, Query(ge=1, le=64, description="pixels per cell on the neutral grid")] = 16,
) -> Response:
    # A grid too large to draw raises ValueError: the app answers 422 with its message.
    png = render_heatmap_png(_grid(site, floor_id, span, session), site.floor(floor_id), cell_px)
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.get(
    "/transitions",
    response_model=TransitionsPage,
    responses=CSV_RESPONSES,
    summary="zone-to-zone transitions, most frequent first",
)
def get_transitions(
    _: Reader, site: Site, span: TimeSpan, session: DbSession, paging: Paging, fmt: Format
) -> TransitionsPage | Response:
    result = transitions(session, site, span.range)
    if fmt is ExportFormat.CSV:
        return csv_response(
            f"{site.site.id}-transitions.csv", csv_rows.TRANSITIONS_HEADER, csv_rows.transitions_rows(result)
        )
    return TransitionsPage(
        site_id=result.site_id,
        visitor_paths=result.visitor_paths,
        track_paths=result.track_paths,
        total=len(result.transitions),
        items=paging.take(result.transitions),
    )


@router.get(
    "/cameras",
    response_model=CamerasPage,
    responses=CSV_RESPONSES,
    summary="camera health: last status, fps, lag, last event, recent outages",
)
def get_cameras(
    _: Reader,
    site: Site,
    session: DbSession,
    paging: Paging,
    fmt: Format,
    stale_after_s: Annotated[float, Query(gt=0, le=86_400, description="no event for this long: stale")] = 60.0,
    outage_window_s: Annotated[
        float, Query(gt=0, le=90 * 86_400, description="list outages that ended this recently or go on")
    ] = 86_400.0,
) -> CamerasPage | Response:
    cameras = camera_health(session, site, time.time_ns(), stale_after_s, outage_window_s)
    if fmt is ExportFormat.CSV:
        rows = csv_rows.camera_rows(cameras, ZoneInfo(site.site.timezone))
        return csv_response(f"{site.site.id}-cameras.csv", csv_rows.CAMERAS_HEADER, rows)
    return CamerasPage(
        site_id=site.site.id,
        total=len(cameras),
        items=paging.take(cameras),
    )
