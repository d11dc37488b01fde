"""Response bodies that are not analytics results as they come (those are served as they are)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from cloud.analytics.buckets import Bucket
from cloud.analytics.camera_health import CameraHealthStatus
from cloud.analytics.footfall import FootfallSeries
from cloud.analytics.heatmap import Heatmap
from cloud.analytics.hours import Hours, OpenPeriod
from cloud.analytics.transitions import Transition
from cloud.capacity.alerts import CapacityAlert


class FloorInfo(BaseModel):
    id: str
    name: str
    has_plan: bool
    extent: tuple[float, float, float, float] | None
    heatmap_cell_m: float


class OpeningException(BaseModel):
    date: date
    name: str
    # Periods as HH:MM-HH:MM, site-local; empty: closed.
    hours: list[str]


class OpeningHoursInfo(BaseModel):
    """The site's opening hours as configured (site-local): periods per weekday, an empty list
    for a closed day; a closing time earlier than the opening time is on the next day."""

    weekly: dict[str, list[str]]
    exceptions: list[OpeningException]


class SiteInfo(BaseModel):
    """What a dashboard needs of a site; camera sources (which may hold credentials) stay out."""

    id: str
    name: str
    timezone: str
    floors: list[FloorInfo]
    cameras: list[str]
    entrance_lines: list[str]
    lines: list[str]
    zones: list[str]
    # None: no opening hours configured (always open; figures are around the clock).
    opening_hours: OpeningHoursInfo | None = None


class SitesPage(BaseModel):
    total: int
    items: list[SiteInfo]


class FootfallOutside(BaseModel):
    """Crossings outside opening hours: the same page of series as the figures beside it."""

    total_in: int
    total_out: int
    series: list[FootfallSeries]


class FootfallPage(BaseModel):
    site_id: str
    bucket: Bucket
    buckets: list[datetime]
    total_in: int
    total_out: int
    staff_excluded: bool
    # Series (line × direction) in this page, of `series_total`.
    series_total: int
    series: list[FootfallSeries]
    hours: Hours = Field(description="the part of the range the figures cover: open, outside or all hours")
    outside_hours: FootfallOutside | None = Field(
        default=None, description="with hours=open: the crossings outside opening hours"
    )
    open_periods: list[OpenPeriod] = Field(
        default=[], description="with hours open or outside: when the site was open within the range (site-local)"
    )


class TransitionsPage(BaseModel):
    site_id: str
    visitor_paths: int
    track_paths: int
    total: int
    items: list[Transition]


class CamerasPage(BaseModel):
    site_id: str
    total: int
    items: list[CameraHealthStatus]


class HeatmapGrid(BaseModel):
    site_id: str
    floor_id: str
    origin: tuple[float, float] = Field(description="floor metres of the corner of cell [0][0]")
    cell_m: float
    width: int
    height: int
    # seconds[y][x]: occupancy-seconds of each cell over the range.
    seconds: list[list[float]]
    total_seconds: float
    max_seconds: float

    @classmethod
    def of(cls, site_id: str, floor_id: str, grid: Heatmap) -> HeatmapGrid:
        ny, nx = grid.seconds.shape
        return cls(
            site_id=site_id,
            floor_id=floor_id,
            origin=grid.origin,
            cell_m=grid.cell_m,
            width=nx,
            height=ny,
            seconds=grid.seconds.round(3).tolist(),
            total_seconds=float(grid.seconds.sum()),
            max_seconds=float(grid.seconds.max()) if grid.seconds.size else 0.0,
        )


class RebaseRequest(BaseModel):
    scope: str = Field(pattern="^(site|zone)$")
    scope_id: str = Field(min_length=1, max_length=64)
    count: int = Field(ge=0, le=1_000_000)


class Health(BaseModel):
    status: str
    sites: int


class GalleryOut(BaseModel):
    name: str
    purpose: str
    expiry_days: float
    min_similarity: float
    min_sightings: int
    webhook: bool
    entries: int


class GalleriesPage(BaseModel):
    site_id: str
    items: list[GalleryOut]


class EntryOut(BaseModel):
    entry_id: str
    gallery: str
    label: str
    enrolled_by: str
    enrolled_ns: int
    renewed_ns: int
    expires_ns: int
    source: str


class EntriesPage(BaseModel):
    total: int
    items: list[EntryOut]


class _SourceFields(BaseModel):
    """A visitor id, or a camera id with a track id: a sighting the system has stored."""

    visitor_id: str | None = Field(default=None, min_length=1, max_length=200)
    camera_id: str | None = Field(default=None, min_length=1, max_length=64)
    track_id: int | None = Field(default=None, ge=0, le=2**63 - 1)
    operator: str = Field(min_length=1, max_length=100, description="who enrols, for the audit log")


class EnrollRequest(_SourceFields):
    label: str = Field(min_length=1, max_length=200, description="opaque tag (badge number), not a name")
    expiry_days: float | None = Field(default=None, gt=0, le=3650)


class RenewRequest(_SourceFields):
    """Without a source, the latest visitor matched to the entry is used."""


class AuditOut(BaseModel):
    gallery: str
    entry_id: str
    action: str
    actor: str
    at_ns: int
    detail: dict[str, object]


class AuditPage(BaseModel):
    items: list[AuditOut]


class AlertOut(BaseModel):
    alert_id: str
    gallery: str
    entry_id: str
    label: str
    visitor_id: str
    similarity: float
    camera_id: str
    first_seen_ns: int
    event_ns: int
    published: bool
    webhook_state: str


class AlertsPage(BaseModel):
    site_id: str
    total: int
    items: list[AlertOut]


class OccupancyAlertsPage(BaseModel):
    site_id: str
    # Raised and not yet cleared, whenever they were raised: what the dashboard's banner shows.
    raised: list[CapacityAlert]
    # Alerts raised at some time in the range, newest first: this page of `total`.
    total: int
    items: list[CapacityAlert]
