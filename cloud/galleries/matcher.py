"""Match stitched visitors against a site's galleries, inside the consumer's transaction.

Called with stitching's decisions of a batch. A visitor is matched once it has a
gallery's `min_sightings` (tracklets with an embedding of the entries' model), on its
aggregated embedding, against entries not expired at the sighting's event time, with
the gallery's `min_similarity`. Every evaluation is recorded with its best similarity
(gallery_matches), matched or not, so thresholds can be tuned from data. A match is
final for the visit: staff exclusion then covers each tracklet stitched onto it later,
and a VIP visit gets one alert, however often it is evaluated or replayed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cloud.galleries.exclusion import mark_staff
from cloud.galleries.sightings import Sighting, of_visitor
from cloud.galleries.vectors import EntryIndex, Vectors, aggregate, decode
from cloud.ingest.registry import SiteRegistry
from cloud.stitching.stitcher import Assignment
from cloud.storage.models import GalleryAlertRow, GalleryAudit, GalleryEmbedding, GalleryEntry, GalleryMatch
from cloud.storage.upsert import insert_ignore, upsert
from shared.config.site import Gallery, GalleryPurpose


@dataclass(frozen=True)
class _Entry:
    entry_id: str
    gallery: str
    label: str
    model: str
    expires_ns: int
    vectors: Vectors


class _GalleryVectors:
    """One gallery's entries of one embedding model, indexed for scoring."""

    def __init__(self, entries: list[_Entry]) -> None:
        self.entries = entries
        self.expires_ns = np.array([e.expires_ns for e in entries], dtype=np.int64)
        self.index = EntryIndex([e.vectors for e in entries])


@dataclass(frozen=True)
class Decision:
    visitor_id: str
    gallery: str
    # The most similar entry not expired at the sighting, matched or not.
    entry_id: str
    label: str
    similarity: float
    sightings: int
    matched: bool


class GalleryMatcher:
    def __init__(self, registry: SiteRegistry) -> None:
        self.registry = registry
        # Per site: the audit-log position the cached entries reflect, and the entries.
        self._cache: dict[str, tuple[int, dict[tuple[str, str], _GalleryVectors]]] = {}

    def __call__(self, session: Session, site_id: str, decided: Sequence[Assignment]) -> list[Decision]:
        galleries = self.registry.site(site_id).galleries
        if not galleries or not decided:
            return []
        entries = self._entries(session, site_id)
        out: list[Decision] = []
        for visitor_id in dict.fromkeys(a.visitor_id for a in decided):
            out += self._visitor(session, site_id, visitor_id, galleries, entries)
        return out

    def reset(self) -> None:
        self._cache.clear()

    def _entries(self, session: Session, site_id: str) -> dict[tuple[str, str], _GalleryVectors]:
        """Entries of the site, reloaded whenever the audit log moved (enrol, renew, delete, expiry)."""
        version = session.scalar(select(func.max(GalleryAudit.id)).where(GalleryAudit.site_id == site_id)) or 0
        cached = self._cache.get(site_id)
        if cached is not None and cached[0] == version:
            return cached[1]
        vectors: dict[str, list[np.ndarray]] = {}
        for entry_id, blob in session.execute(
            select(GalleryEmbedding.entry_id, GalleryEmbedding.embedding)
            .where(GalleryEmbedding.site_id == site_id)
            .order_by(GalleryEmbedding.entry_id, GalleryEmbedding.n)
        ):
            vector = decode(blob)
            if vector is not None:
                vectors.setdefault(entry_id, []).append(vector)
        by_gallery: dict[tuple[str, str], list[_Entry]] = {}
        for e in session.scalars(
            select(GalleryEntry).where(GalleryEntry.site_id == site_id).order_by(GalleryEntry.entry_id)
        ):
            if e.entry_id in vectors:
                entry = _Entry(
                    e.entry_id, e.gallery, e.label, e.embedding_model, e.expires_ns, np.stack(vectors[e.entry_id])
                )
                by_gallery.setdefault((e.gallery, e.embedding_model), []).append(entry)
        indexed = {key: _GalleryVectors(entries) for key, entries in by_gallery.items()}
        self._cache[site_id] = (version, indexed)
        return indexed

    def _visitor(
        self,
        session: Session,
        site_id: str,
        visitor_id: str,
        galleries: Sequence[Gallery],
        entries: dict[tuple[str, str], _GalleryVectors],
    ) -> list[Decision]:
        prior = {
            m.gallery: m
            for m in session.scalars(
                select(GalleryMatch).where(GalleryMatch.site_id == site_id, GalleryMatch.visitor_id == visitor_id)
            )
        }
        staff = any(m.matched and m.gallery in _named(galleries, GalleryPurpose.STAFF) for m in prior.values())
        open_galleries = [g for g in galleries if not (g.name in prior and prior[g.name].matched)]
        out = []
        sightings = of_visitor(session, site_id, visitor_id) if open_galleries else []
        for gallery in open_galleries:
            decision = _decide(visitor_id, gallery, sightings, entries)
            if decision is None:
                continue
            out.append(decision)
            event_ns = sightings[-1].last_seen_ns
            upsert(
                session,
                GalleryMatch,
                [
                    {
                        "site_id": site_id,
                        "visitor_id": visitor_id,
                        "gallery": gallery.name,
                        "entry_id": decision.entry_id,
                        "similarity": decision.similarity,
                        "sightings": decision.sightings,
                        "matched": decision.matched,
                        "decided_by": "matcher",
                        "decided_ns": event_ns,
                    }
                ],
                update=["entry_id", "similarity", "sightings", "matched", "decided_by", "decided_ns"],
            )
            if not decision.matched:
                continue
            if gallery.purpose is GalleryPurpose.STAFF:
                staff = True
            elif gallery.purpose is GalleryPurpose.VIP:
                insert_ignore(
                    session,
                    GalleryAlertRow,
                    [
                        {
                            "site_id": site_id,
                            "gallery": gallery.name,
                            "visitor_id": visitor_id,
                            "entry_id": decision.entry_id,
                            "label": decision.label,
                            "similarity": decision.similarity,
                            "camera_id": sightings[-1].camera_id,
                            "first_seen_ns": sightings[0].first_seen_ns,
                            "event_ns": event_ns,
                            "published": False,
                            "webhook_state": "pending" if gallery.webhook is not None else "none",
                            "webhook_attempts": 0,
                            "webhook_error": "",
                            "next_attempt_ns": 0,
                        }
                    ],
                )
        if staff:
            # Also when matched before: the tracklets stitched on since then are flagged now.
            mark_staff(session, site_id, visitor_id)
        return out


def _named(galleries: Sequence[Gallery], purpose: GalleryPurpose) -> set[str]:
    return {g.name for g in galleries if g.purpose is purpose}


def _decide(
    visitor_id: str, gallery: Gallery, sightings: list[Sighting], entries: dict[tuple[str, str], _GalleryVectors]
) -> Decision | None:
    """The visitor against one gallery; None while it has too few sightings, or nothing is enrolled."""
    if not sightings:
        return None
    # Entries are compared in the model of the visitor's latest sighting.
    model = sightings[-1].model
    usable = [s for s in sightings if s.model == model]
    indexed = entries.get((gallery.name, model))
    if len(usable) < gallery.min_sightings or indexed is None:
        return None
    event_ns = usable[-1].last_seen_ns
    scores = np.where(
        indexed.expires_ns > event_ns, indexed.index.scores(aggregate([s.vector for s in usable])), -np.inf
    )
    best = int(np.argmax(scores))
    if not np.isfinite(scores[best]):
        # Every entry expired: no decision worth recording.
        return None
    score = float(scores[best])
    entry = indexed.entries[best]
    return Decision(
        visitor_id, gallery.name, entry.entry_id, entry.label, score, len(usable), score >= gallery.min_similarity
    )
