"""Stitching inside the consumer's transaction: decisions are stored with the batch that caused them.

Each site's Stitcher lives in memory and is rebuilt from the tracklets table the first
time a site's events arrive after a start or a rebalance, so a restarted consumer makes
the decisions an uninterrupted one would have made. One thing is not stored: the site's
event clock (the newest footage time seen, positions included). The rebuilt clock starts at
the newest stored tracklet's end, so where a batch then carries only a lagging camera's
events, a pending tracklet may be decided a batch later, in a round with more competitors.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sqlalchemy import Row, select, tuple_, update
from sqlalchemy.orm import Session

from cloud.ingest.applier import ApplyResult
from cloud.ingest.registry import SiteRegistry
from cloud.stitching.stitcher import NS, Assignment, Stitcher, StitchSettings
from cloud.stitching.tracklet import Tracklet, TrackletKey
from cloud.storage.models import Tracklet as TrackletRow
from cloud.storage.models import Visitor
from cloud.storage.rollups import count_visitor_days

# What a rebuild reads of every tracklet in its window; embeddings only for those it keeps.
_SUMMARY = (
    TrackletRow.camera_id,
    TrackletRow.track_id,
    TrackletRow.first_seen_ns,
    TrackletRow.last_seen_ns,
    TrackletRow.first_x,
    TrackletRow.first_y,
    TrackletRow.last_x,
    TrackletRow.last_y,
    TrackletRow.floor_id,
    TrackletRow.embedding_model,
    TrackletRow.mean_confidence,
    TrackletRow.visitor_id,
    TrackletRow.site_id,
)
# Keys per IN list: far under any database's bound-parameter limit.
_CHUNK = 400


def _embeddings(session: Session, site_id: str, rows: Sequence[Row[*tuple[Any, ...]]]) -> dict[TrackletKey, bytes]:
    out: dict[TrackletKey, bytes] = {}
    keys = [(row.camera_id, row.track_id) for row in rows]
    for i in range(0, len(keys), _CHUNK):
        for camera_id, track_id, blob in session.execute(
            select(TrackletRow.camera_id, TrackletRow.track_id, TrackletRow.embedding).where(
                TrackletRow.site_id == site_id,
                tuple_(TrackletRow.camera_id, TrackletRow.track_id).in_(keys[i : i + _CHUNK]),
                TrackletRow.embedding.is_not(None),
            )
        ):
            if blob is not None:
                out[(camera_id, track_id)] = blob
    return out


def _from_row(row: Row[*tuple[Any, ...]], embeddings: dict[TrackletKey, bytes]) -> Tracklet:
    embedding = None
    blob = embeddings.get((row.camera_id, row.track_id))
    if blob:
        vector = np.frombuffer(blob, dtype="<f2").astype(np.float32)
        norm = float(np.linalg.norm(vector))
        embedding = vector / norm if norm > 0 else None
    return Tracklet(
        site_id=row.site_id,
        camera_id=row.camera_id,
        track_id=row.track_id,
        first_seen_ns=row.first_seen_ns,
        last_seen_ns=row.last_seen_ns,
        first_floor=(row.first_x, row.first_y) if row.first_x is not None and row.first_y is not None else None,
        last_floor=(row.last_x, row.last_y) if row.last_x is not None and row.last_y is not None else None,
        floor_id=row.floor_id,
        embedding=embedding,
        embedding_model=row.embedding_model if embedding is not None else None,
        mean_confidence=row.mean_confidence,
    )


# Told each site's decisions once they are stored, in the same transaction (gallery matching).
DecisionListener = Callable[[Session, str, Sequence[Assignment]], object]


class StitchingHook:
    def __init__(
        self,
        registry: SiteRegistry,
        settings: StitchSettings | None = None,
        listeners: Sequence[DecisionListener] = (),
    ) -> None:
        self.registry = registry
        self.settings = settings or StitchSettings()
        self.listeners = list(listeners)
        self._stitchers: dict[str, Stitcher] = {}

    def __call__(self, session: Session, result: ApplyResult) -> None:
        closed: dict[str, list[Tracklet]] = defaultdict(list)
        for env in result.closed:
            closed[env.site_id].append(Tracklet.from_envelope(env))
        # A site whose batch holds nothing but a camera's end (a status: no footage time) still
        # decides that camera's pending tracklets; nothing else would.
        ended = {site_id for site_id, _ in result.ended_cameras}
        for site_id in set(closed) | set(result.latest_event_ns) | ended:
            stitcher = self._stitcher(session, site_id, {t.key for t in closed[site_id]})
            decided: list[Assignment] = []
            for tracklet in sorted(closed[site_id], key=lambda t: t.last_seen_ns):
                decided += stitcher.add(tracklet)
            decided += stitcher.advance(result.latest_event_ns.get(site_id, 0))
            for ended_site, camera_id in result.ended_cameras:
                if ended_site == site_id:
                    decided += stitcher.flush(camera_id=camera_id)
            self._store(session, decided)
            for listener in self.listeners:
                listener(session, site_id, decided)

    def reset(self) -> None:
        """After a rebalance: state is rebuilt from the database on next use."""
        self._stitchers.clear()
        for listener in self.listeners:
            reset = getattr(listener, "reset", None)
            if reset is not None:
                reset()

    def _stitcher(self, session: Session, site_id: str, arriving: set[tuple[str, int]]) -> Stitcher:
        """The site's stitcher; rebuilt from stored tracklets, except those arriving in this batch."""
        stitcher = self._stitchers.get(site_id)
        if stitcher is not None:
            return stitcher
        stitcher = Stitcher(self.registry.site(site_id), self.settings)
        newest = session.scalar(
            select(TrackletRow.last_seen_ns)
            .where(TrackletRow.site_id == site_id)
            .order_by(TrackletRow.last_seen_ns.desc())
            .limit(1)
        )
        if newest is not None:
            # A running stitcher keeps an open predecessor until `max_track_s` past the horizon
            # (a successor may stay in view that long before it closes): the rebuilt one must too.
            keep_ns = stitcher.horizon_ns + int(self.settings.max_track_s * NS)
            rows = session.execute(
                select(*_SUMMARY).where(TrackletRow.site_id == site_id, TrackletRow.last_seen_ns >= newest - keep_ns)
            ).all()
            # Of each visitor only the tracklet no other continues can still be continued: the
            # one that ended last (a successor always ends after its predecessor, except across
            # a link whose minimum transit less the tolerance is negative). Not the one that
            # began last: in overlapping views a successor may have begun before its predecessor.
            heads: dict[str, Row[*tuple[Any, ...]]] = {}
            for row in rows:
                if row.visitor_id is not None:
                    head = heads.get(row.visitor_id)
                    if head is None or (row.last_seen_ns, row.first_seen_ns) > (head.last_seen_ns, head.first_seen_ns):
                        heads[row.visitor_id] = row
            # Undecided ones, however old: a batch that moved the clock past the horizon decides them now.
            pending = [row for row in rows if row.visitor_id is None and (row.camera_id, row.track_id) not in arriving]
            embeddings = _embeddings(session, site_id, [*heads.values(), *pending])
            stitcher.restore(
                [(_from_row(row, embeddings), visitor) for visitor, row in heads.items()],
                [_from_row(row, embeddings) for row in pending],
            )
        self._stitchers[site_id] = stitcher
        return stitcher

    def _store(self, session: Session, decided: list[Assignment]) -> None:
        # (before, after) stays per visitor, for the per-day visitor counts.
        stays: dict[tuple[str, str], tuple[tuple[int, int] | None, tuple[int, int]]] = {}
        for a in decided:
            # The applier inserted every closed tracklet earlier in this transaction.
            row = session.get(TrackletRow, (a.site_id, a.camera_id, a.track_id))
            if row is None:
                raise LookupError(f"tracklet {a.site_id}/{a.camera_id}/{a.track_id} was decided but never stored")
            first_ns, last_ns = row.first_seen_ns, row.last_seen_ns
            session.execute(
                update(TrackletRow)
                .where(
                    TrackletRow.site_id == a.site_id,
                    TrackletRow.camera_id == a.camera_id,
                    TrackletRow.track_id == a.track_id,
                )
                .values(visitor_id=a.visitor_id)
            )
            visitor = session.get(Visitor, (a.site_id, a.visitor_id))
            if visitor is None:
                visitor = Visitor(
                    site_id=a.site_id,
                    visitor_id=a.visitor_id,
                    first_seen_ns=first_ns,
                    last_seen_ns=last_ns,
                    path=[a.camera_id],
                    tracklets=1,
                )
                session.add(visitor)
                session.flush()
                before = None
            else:
                before = (visitor.first_seen_ns, visitor.last_seen_ns)
                visitor.first_seen_ns = min(visitor.first_seen_ns, first_ns)
                visitor.last_seen_ns = max(visitor.last_seen_ns, last_ns)
                if visitor.path[-1] != a.camera_id:
                    visitor.path = [*visitor.path, a.camera_id]
                visitor.tracklets += 1
            key = (a.site_id, a.visitor_id)
            stays[key] = (stays[key][0] if key in stays else before, (visitor.first_seen_ns, visitor.last_seen_ns))
        by_site: dict[str, list[tuple[tuple[int, int] | None, tuple[int, int]]]] = defaultdict(list)
        for (site_id, _), stay in stays.items():
            by_site[site_id].append(stay)
        for site_id, site_stays in by_site.items():
            count_visitor_days(session, site_id, self.registry.timezones()[site_id], site_stays)
