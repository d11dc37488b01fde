"""Gallery entries: enrol, renew, delete, list and expire, each written to the audit log.

Runs in the caller's transaction. Nothing here is automatic except expiry: an entry
exists only because an operator enrolled a visitor or tracklet the system had seen.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cloud.galleries.exclusion import mark_staff
from cloud.galleries.sightings import Sighting, dominant_model, of_tracklet, of_visitor
from cloud.galleries.vectors import encode
from cloud.storage.models import GalleryAudit, GalleryEmbedding, GalleryEntry, GalleryMatch, Tracklet
from cloud.storage.upsert import upsert
from shared.config.site import Gallery, GalleryPurpose, SiteConfig

DAY_NS = 86_400 * 1_000_000_000
# Most recent sightings kept per entry: enough outfits and angles, a bounded match cost.
MAX_VECTORS = 16


@dataclass(frozen=True)
class Source:
    """What an entry's vectors are taken from: a stitched visitor, or one tracklet."""

    visitor_id: str | None = None
    camera_id: str | None = None
    track_id: int | None = None

    def __post_init__(self) -> None:
        by_visitor = self.visitor_id is not None
        by_tracklet = self.camera_id is not None and self.track_id is not None
        if by_visitor == by_tracklet or (not by_tracklet and (self.camera_id or self.track_id is not None)):
            raise ValueError("enrol from either visitor_id, or camera_id together with track_id")

    def describe(self) -> str:
        if self.visitor_id is not None:
            return f"visitor:{self.visitor_id}"
        return f"tracklet:{self.camera_id}/{self.track_id}"


class EntryNotFound(LookupError):
    pass


def _gallery(site: SiteConfig, name: str) -> Gallery:
    try:
        return site.gallery(name)
    except KeyError as exc:
        raise EntryNotFound(exc.args[0]) from None


def _sightings(session: Session, site_id: str, source: Source) -> tuple[list[Sighting], str | None]:
    """The source's sightings (of one model) and the visitor they belong to, if stitched."""
    if source.visitor_id is not None:
        found = of_visitor(session, site_id, source.visitor_id)
        visitor: str | None = source.visitor_id
    else:
        assert source.camera_id is not None and source.track_id is not None
        found = of_tracklet(session, site_id, source.camera_id, source.track_id)
        visitor = session.scalar(
            select(Tracklet.visitor_id).where(
                Tracklet.site_id == site_id,
                Tracklet.camera_id == source.camera_id,
                Tracklet.track_id == source.track_id,
            )
        )
    if not found:
        raise ValueError(
            f"{source.describe()} has no embedding to enrol: unknown, seen without ReID, or its embeddings "
            "expired (retention clears them after embeddings_days)"
        )
    model = dominant_model(found)
    return [s for s in found if s.model == model][-MAX_VECTORS:], visitor


def _audit(session: Session, entry: GalleryEntry, action: str, actor: str, now_ns: int, **detail: object) -> None:
    session.add(
        GalleryAudit(
            site_id=entry.site_id,
            gallery=entry.gallery,
            entry_id=entry.entry_id,
            action=action,
            actor=actor,
            at_ns=now_ns,
            detail=detail,
        )
    )


def _store_vectors(session: Session, entry: GalleryEntry, sightings: list[Sighting]) -> None:
    session.execute(
        delete(GalleryEmbedding).where(
            GalleryEmbedding.site_id == entry.site_id, GalleryEmbedding.entry_id == entry.entry_id
        )
    )
    session.add_all(
        GalleryEmbedding(site_id=entry.site_id, entry_id=entry.entry_id, n=n, embedding=encode(s.vector))
        for n, s in enumerate(sightings)
    )


def _claim_visitor(
    session: Session, site: SiteConfig, gallery: Gallery, entry_id: str, visitor_id: str, sightings: list[Sighting]
) -> None:
    """The visitor enrolled from is that person: decided as matched, so it raises no alert of its own."""
    upsert(
        session,
        GalleryMatch,
        [
            {
                "site_id": site.site.id,
                "visitor_id": visitor_id,
                "gallery": gallery.name,
                "entry_id": entry_id,
                "similarity": 1.0,
                "sightings": len(sightings),
                "matched": True,
                "decided_by": "enrolled",
                "decided_ns": sightings[-1].last_seen_ns,
            }
        ],
        update=["entry_id", "similarity", "sightings", "matched", "decided_by", "decided_ns"],
    )
    if gallery.purpose is GalleryPurpose.STAFF:
        mark_staff(session, site.site.id, visitor_id)


def enroll(
    session: Session,
    site: SiteConfig,
    gallery_name: str,
    source: Source,
    label: str,
    actor: str,
    now_ns: int,
    expiry_days: float | None = None,
) -> GalleryEntry:
    gallery = _gallery(site, gallery_name)
    if not label.strip() or len(label) > 200:
        raise ValueError("label must be 1-200 characters (an opaque tag such as a badge number, not a name)")
    if expiry_days is not None and not 0 < expiry_days <= 3650:
        raise ValueError(f"expiry_days must be in (0, 3650], got {expiry_days}")
    sightings, visitor = _sightings(session, site.site.id, source)
    entry = GalleryEntry(
        site_id=site.site.id,
        entry_id=uuid.uuid4().hex,
        gallery=gallery.name,
        label=label.strip(),
        enrolled_by=actor,
        enrolled_ns=now_ns,
        renewed_ns=now_ns,
        expires_ns=now_ns + round((expiry_days or gallery.expiry) * DAY_NS),
        source=source.describe(),
        embedding_model=sightings[0].model,
    )
    session.add(entry)
    session.flush()
    _store_vectors(session, entry, sightings)
    if visitor is not None:
        _claim_visitor(session, site, gallery, entry.entry_id, visitor, sightings)
    _audit(session, entry, "enroll", actor, now_ns, source=entry.source, vectors=len(sightings), label=entry.label)
    return entry


def get_entry(session: Session, site: SiteConfig, gallery_name: str, entry_id: str) -> GalleryEntry:
    _gallery(site, gallery_name)
    entry = session.get(GalleryEntry, (site.site.id, entry_id))
    if entry is None or entry.gallery != gallery_name:
        raise EntryNotFound(f"gallery {gallery_name!r} of site {site.site.id!r} has no entry {entry_id!r}")
    return entry


def renew(
    session: Session,
    site: SiteConfig,
    gallery_name: str,
    entry_id: str,
    actor: str,
    now_ns: int,
    source: Source | None = None,
) -> GalleryEntry:
    """Fresh vectors and a new expiry. Without a source, from the latest visitor matched to the entry:
    staff wear other clothes tomorrow, and today's sighting is the best likeness."""
    entry = get_entry(session, site, gallery_name, entry_id)
    gallery = _gallery(site, gallery_name)
    if source is None:
        latest = session.scalar(
            select(GalleryMatch.visitor_id)
            .where(
                GalleryMatch.site_id == site.site.id,
                GalleryMatch.gallery == gallery_name,
                GalleryMatch.entry_id == entry_id,
                GalleryMatch.matched.is_(True),
            )
            .order_by(GalleryMatch.decided_ns.desc())
            .limit(1)
        )
        if latest is None:
            raise ValueError(f"entry {entry_id!r} has no matched sighting to renew from; name a visitor or tracklet")
        source = Source(visitor_id=latest)
    sightings, visitor = _sightings(session, site.site.id, source)
    entry.renewed_ns = now_ns
    entry.expires_ns = now_ns + round(gallery.expiry * DAY_NS)
    entry.source = source.describe()
    entry.embedding_model = sightings[0].model
    _store_vectors(session, entry, sightings)
    if visitor is not None:
        _claim_visitor(session, site, gallery, entry.entry_id, visitor, sightings)
    _audit(session, entry, "renew", actor, now_ns, source=entry.source, vectors=len(sightings))
    return entry


def _remove(session: Session, entry: GalleryEntry, action: str, actor: str, now_ns: int) -> None:
    # Explicit, not only ON DELETE CASCADE: SQLite enforces foreign keys only when asked to.
    session.execute(
        delete(GalleryEmbedding).where(
            GalleryEmbedding.site_id == entry.site_id, GalleryEmbedding.entry_id == entry.entry_id
        )
    )
    _audit(session, entry, action, actor, now_ns, label=entry.label)
    session.delete(entry)


def remove(session: Session, site: SiteConfig, gallery_name: str, entry_id: str, actor: str, now_ns: int) -> None:
    """Delete the entry and its embeddings; past decisions stay, as history of what was counted."""
    _remove(session, get_entry(session, site, gallery_name, entry_id), "delete", actor, now_ns)


def list_entries(session: Session, site: SiteConfig, gallery_name: str) -> list[GalleryEntry]:
    _gallery(site, gallery_name)
    return list(
        session.scalars(
            select(GalleryEntry)
            .where(GalleryEntry.site_id == site.site.id, GalleryEntry.gallery == gallery_name)
            .order_by(GalleryEntry.enrolled_ns, GalleryEntry.entry_id)
        )
    )


def purge_expired(session: Session, site: SiteConfig, now_ns: int) -> int:
    """Delete entries past their expiry (the retention job); returns how many."""
    expired = list(
        session.scalars(
            select(GalleryEntry).where(GalleryEntry.site_id == site.site.id, GalleryEntry.expires_ns <= now_ns)
        )
    )
    for entry in expired:
        _remove(session, entry, "expire", "retention", now_ns)
    return len(expired)


def audit_log(session: Session, site: SiteConfig, limit: int, offset: int = 0) -> list[GalleryAudit]:
    return list(
        session.scalars(
            select(GalleryAudit)
            .where(GalleryAudit.site_id == site.site.id)
            .order_by(GalleryAudit.at_ns.desc(), GalleryAudit.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )
