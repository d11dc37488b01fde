"""Retention: forget what a site's `retention` settings say is too old.

* embeddings (the only biometric-like data) after `embeddings_days`: nulled in place,
  the tracklet's summary stays;
* raw detail (tracklets, line crossings, zone visits) after `tracklet_detail_days`;
* aggregates (every level of the footfall and occupancy rollups, per-day visitor counts,
  heatmap hours, stitched visitors) after `aggregates_days`;
* gallery entries past their own expiry, with their embeddings (the audit log keeps the
  fact); gallery match decisions and VIP alerts with the raw detail;
* camera outages that ended before the raw-detail horizon (one still going on stays);
* capacity alert episodes cleared before the aggregates horizon, once the alerts topic
  has both their raise and their clear (one still raised, or still in the outbox, stays).

"Older" is strict: a row exactly at the cutoff stays. Runs in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, Executable, delete, update
from sqlalchemy.orm import Session

from cloud.analytics.buckets import NS, ceil_s
from cloud.galleries.entries import purge_expired
from cloud.storage.models import (
    CameraOutage,
    GalleryAlertRow,
    GalleryMatch,
    HeatmapCell,
    LineCrossing,
    OccupancyAlertRow,
    Tracklet,
    Visitor,
    VisitorsDay,
    ZoneVisit,
)
from cloud.storage.rollups import FOOTFALL, OCCUPANCY
from shared.config.site import SiteConfig

DAY_NS = 86_400 * NS


@dataclass(frozen=True)
class RetentionResult:
    # Tracklets that kept their summary but lost their embedding.
    embeddings_cleared: int
    # Rows deleted per table.
    tracklets: int
    line_crossings: int
    zone_visits: int
    # Summed over the rollup levels.
    footfall_rollups: int
    occupancy_rollups: int
    visitors_day: int
    heatmap_cells: int
    visitors: int
    # Expired entries purged; match decisions and alerts deleted with the raw detail.
    gallery_entries: int
    gallery_matches: int
    gallery_alerts: int
    camera_outages: int
    occupancy_alerts: int


def _rows(session: Session, stmt: Executable) -> int:
    # Bulk statements bypass the identity map: nothing is loaded just to be deleted.
    result = cast(CursorResult[Any], session.execute(stmt, execution_options={"synchronize_session": False}))
    return result.rowcount


def _cutoff(now_ns: int, days: float) -> int:
    return now_ns - round(days * DAY_NS)


def apply_retention(session: Session, site: SiteConfig, now_ns: int) -> RetentionResult:
    if not isinstance(now_ns, int) or isinstance(now_ns, bool) or now_ns < 0:
        raise ValueError(f"now_ns must be non-negative epoch nanoseconds, got {now_ns!r}")
    site_id = site.site.id
    keep = site.retention
    detail = _cutoff(now_ns, keep.tracklet_detail_days)
    aggregates = _cutoff(now_ns, keep.aggregates_days)
    # Rollup rows go by their bucket start, the rule the queries use: start_s * 1e9 < cutoff.
    rollup_s = ceil_s(aggregates)
    # Deleted before embeddings are cleared, so a tracklet is counted once, as deleted.
    tracklets = _rows(session, delete(Tracklet).where(Tracklet.site_id == site_id, Tracklet.last_seen_ns < detail))
    embeddings_cleared = _rows(
        session,
        update(Tracklet)
        .where(
            Tracklet.site_id == site_id,
            Tracklet.last_seen_ns < _cutoff(now_ns, keep.embeddings_days),
            Tracklet.embedding.is_not(None),
        )
        .values(embedding=None, embedding_model=None, embedding_quality=None),
    )
    return RetentionResult(
        embeddings_cleared=embeddings_cleared,
        tracklets=tracklets,
        line_crossings=_rows(
            session, delete(LineCrossing).where(LineCrossing.site_id == site_id, LineCrossing.event_ns < detail)
        ),
        zone_visits=_rows(
            session, delete(ZoneVisit).where(ZoneVisit.site_id == site_id, ZoneVisit.entered_ns < detail)
        ),
        footfall_rollups=sum(
            _rows(session, delete(m).where(m.site_id == site_id, m.bucket_s < rollup_s)) for m in FOOTFALL.values()
        ),
        occupancy_rollups=sum(
            _rows(session, delete(m).where(m.site_id == site_id, m.bucket_s < rollup_s)) for m in OCCUPANCY.values()
        ),
        visitors_day=_rows(
            session, delete(VisitorsDay).where(VisitorsDay.site_id == site_id, VisitorsDay.day_s < rollup_s)
        ),
        heatmap_cells=_rows(
            session, delete(HeatmapCell).where(HeatmapCell.site_id == site_id, HeatmapCell.bucket_s < rollup_s)
        ),
        visitors=_rows(session, delete(Visitor).where(Visitor.site_id == site_id, Visitor.last_seen_ns < aggregates)),
        gallery_entries=purge_expired(session, site, now_ns),
        gallery_matches=_rows(
            session, delete(GalleryMatch).where(GalleryMatch.site_id == site_id, GalleryMatch.decided_ns < detail)
        ),
        gallery_alerts=_rows(
            session,
            delete(GalleryAlertRow).where(GalleryAlertRow.site_id == site_id, GalleryAlertRow.event_ns < detail),
        ),
        camera_outages=_rows(
            session, delete(CameraOutage).where(CameraOutage.site_id == site_id, CameraOutage.ended_ns < detail)
        ),
        occupancy_alerts=_rows(
            session,
            delete(OccupancyAlertRow).where(
                OccupancyAlertRow.site_id == site_id,
                OccupancyAlertRow.cleared_ns < aggregates,
                OccupancyAlertRow.raise_published.is_(True),
                OccupancyAlertRow.clear_published.is_(True),
            ),
        ),
    )
