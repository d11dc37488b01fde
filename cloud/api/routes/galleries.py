"""Galleries (admin keys only): entries, enrolment, renewal, deletion, the audit log; VIP alerts (read)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import func, select

from cloud.api.deps import Admin, DbSession, KeyId, Paging, Reader, Site, TimeSpan
from cloud.api.schemas import (
    AlertOut,
    AlertsPage,
    AuditOut,
    AuditPage,
    EnrollRequest,
    EntriesPage,
    EntryOut,
    GalleriesPage,
    GalleryOut,
    RenewRequest,
)
from cloud.galleries import entries
from cloud.galleries.alerts import alert_id
from cloud.galleries.entries import EntryNotFound, Source
from cloud.storage.models import GalleryAlertRow, GalleryEntry
from shared.config.site import SiteConfig

router = APIRouter(prefix="/api/v1/sites/{site_id}", tags=["galleries"])


def _entry_out(entry: GalleryEntry) -> EntryOut:
    return EntryOut(
        entry_id=entry.entry_id,
        gallery=entry.gallery,
        label=entry.label,
        enrolled_by=entry.enrolled_by,
        enrolled_ns=entry.enrolled_ns,
        renewed_ns=entry.renewed_ns,
        expires_ns=entry.expires_ns,
        source=entry.source,
    )


def _gallery(site: SiteConfig, name: str) -> None:
    if name not in {g.name for g in site.galleries}:
        raise HTTPException(404, f"site {site.site.id!r} has no gallery {name!r}")


@router.get("/galleries", response_model=GalleriesPage, summary="configured galleries and their entry counts (admin)")
def get_galleries(_: Admin, site: Site, session: DbSession) -> GalleriesPage:
    counts = dict(
        session.execute(
            select(GalleryEntry.gallery, func.count())
            .where(GalleryEntry.site_id == site.site.id)
            .group_by(GalleryEntry.gallery)
        ).all()
    )
    return GalleriesPage(
        site_id=site.site.id,
        items=[
            GalleryOut(
                name=g.name,
                purpose=g.purpose.value,
                expiry_days=g.expiry,
                min_similarity=g.min_similarity,
                min_sightings=g.min_sightings,
                webhook=g.webhook is not None,
                entries=int(counts.get(g.name, 0)),
            )
            for g in site.galleries
        ],
    )


@router.get("/galleries/{gallery}/entries", response_model=EntriesPage, summary="entries of a gallery (admin)")
def get_entries(_: Admin, site: Site, gallery: str, session: DbSession, paging: Paging) -> EntriesPage:
    _gallery(site, gallery)
    items = entries.list_entries(session, site, gallery)
    return EntriesPage(total=len(items), items=[_entry_out(e) for e in paging.take(items)])


@router.post(
    "/galleries/{gallery}/entries",
    response_model=EntryOut,
    status_code=201,
    summary="enrol a visitor or tracklet the system has seen (admin)",
)
def post_entry(_: Admin, caller: KeyId, site: Site, gallery: str, body: EnrollRequest, session: DbSession) -> EntryOut:
    _gallery(site, gallery)
    source = Source(body.visitor_id, body.camera_id, body.track_id)
    actor = f"{body.operator} ({caller})"
    entry = entries.enroll(session, site, gallery, source, body.label, actor, time.time_ns(), body.expiry_days)
    session.commit()
    return _entry_out(entry)


@router.post(
    "/galleries/{gallery}/entries/{entry_id}/renew",
    response_model=EntryOut,
    summary="fresh vectors from a recent sighting and a new expiry (admin)",
)
def post_renew(
    _: Admin, caller: KeyId, site: Site, gallery: str, entry_id: str, body: RenewRequest, session: DbSession
) -> EntryOut:
    _gallery(site, gallery)
    source = None
    if body.visitor_id is not None or body.camera_id is not None or body.track_id is not None:
        source = Source(body.visitor_id, body.camera_id, body.track_id)
    try:
        entry = entries.renew(session, site, gallery, entry_id, f"{body.operator} ({caller})", time.time_ns(), source)
    except EntryNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    session.commit()
    return _entry_out(entry)


@router.delete(
    "/galleries/{gallery}/entries/{entry_id}", status_code=204, summary="delete an entry and its embeddings (admin)"
)
def delete_entry(
    _: Admin,
    caller: KeyId,
    site: Site,
    gallery: str,
    entry_id: str,
    session: DbSession,
    operator: Annotated[str, Query(min_length=1, max_length=100, description="who asks, for the audit log")],
) -> None:
    _gallery(site, gallery)
    try:
        entries.remove(session, site, gallery, entry_id, f"{operator} ({caller})", time.time_ns())
    except EntryNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    session.commit()


@router.get("/galleries/audit", response_model=AuditPage, summary="enrol/renew/delete/expire log, newest first (admin)")
def get_audit(_: Admin, site: Site, session: DbSession, paging: Paging) -> AuditPage:
    rows = entries.audit_log(session, site, paging.limit, paging.offset)
    return AuditPage(
        items=[
            AuditOut(
                gallery=r.gallery, entry_id=r.entry_id, action=r.action, actor=r.actor, at_ns=r.at_ns, detail=r.detail
            )
            for r in rows
        ]
    )


@router.get("/alerts", response_model=AlertsPage, summary="VIP arrival alerts in the range, newest first")
def get_alerts(_: Reader, site: Site, span: TimeSpan, session: DbSession, paging: Paging) -> AlertsPage:
    where = (
        GalleryAlertRow.site_id == site.site.id,
        GalleryAlertRow.event_ns >= span.range.start_ns,
        GalleryAlertRow.event_ns < span.range.end_ns,
    )
    total = session.scalar(select(func.count()).select_from(GalleryAlertRow).where(*where)) or 0
    rows = session.scalars(
        select(GalleryAlertRow)
        .where(*where)
        .order_by(GalleryAlertRow.event_ns.desc(), GalleryAlertRow.visitor_id)
        .limit(paging.limit)
        .offset(paging.offset)
    )
    return AlertsPage(
        site_id=site.site.id,
        total=total,
        items=[
            AlertOut(
                alert_id=alert_id(r.gallery, r.visitor_id),
                gallery=r.gallery,
                entry_id=r.entry_id,
                label=r.label,
                visitor_id=r.visitor_id,
                similarity=r.similarity,
                camera_id=r.camera_id,
                first_seen_ns=r.first_seen_ns,
                event_ns=r.event_ns,
                published=r.published,
                webhook_state=r.webhook_state,
            )
            for r in rows
        ],
    )
