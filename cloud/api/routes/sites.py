"""Sites the API knows and the service's own health."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from sqlalchemy import text

from cloud.api.deps import Catalog, DbSession, Paging, Reader, Site
from cloud.api.schemas import FloorInfo, Health, OpeningException, OpeningHoursInfo, SiteInfo, SitesPage
from shared.config.opening_hours import WEEKDAYS, OpeningHours
from shared.config.site import SiteConfig

router = APIRouter(tags=["sites"])


def opening_hours_info(hours: OpeningHours | None) -> OpeningHoursInfo | None:
    if hours is None:
        return None
    return OpeningHoursInfo(
        weekly={day: [str(p) for p in hours.weekly.of(i)] for i, day in enumerate(WEEKDAYS)},
        exceptions=[
            OpeningException(date=e.date, name=e.name, hours=[str(p) for p in e.hours])
            for e in sorted(hours.exceptions, key=lambda e: e.date)
        ],
    )


def site_info(site: SiteConfig) -> SiteInfo:
    return SiteInfo(
        id=site.site.id,
        name=site.site.name,
        timezone=site.site.timezone,
        floors=[
            FloorInfo(
                id=f.id,
                name=f.name,
                has_plan=f.plan_image is not None and Path(f.plan_image).expanduser().is_file(),
                extent=f.extent,
                heatmap_cell_m=f.heatmap_cell_m,
            )
            for f in site.floors
        ],
        cameras=[c.id for c in site.cameras],
        entrance_lines=[ln.id for ln in site.lines if ln.entrance],
        lines=[ln.id for ln in site.lines],
        zones=[z.id for z in site.zones],
        opening_hours=opening_hours_info(site.opening_hours),
    )


@router.get("/api/v1/sites", response_model=SitesPage, summary="sites, paged")
def list_sites(_: Reader, paging: Paging, sites: Catalog) -> SitesPage:
    everything = sites.all()
    return SitesPage(total=len(everything), items=[site_info(s) for s in paging.take(everything)])


@router.get("/api/v1/sites/{site_id}", response_model=SiteInfo, summary="one site")
def get_site(_: Reader, site: Site) -> SiteInfo:
    return site_info(site)


@router.get("/healthz", response_model=Health, summary="liveness and database reachability")
def health(session: DbSession, sites: Catalog) -> Health:
    session.execute(text("SELECT 1"))
    return Health(status="ok", sites=len(sites.all()))
