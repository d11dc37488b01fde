"""Apply a batch of validated envelopes to the database in the caller's transaction.

Idempotence: per camera, only envelopes with a seq above `camera_progress.last_seq` are
applied, and the new high-water mark is written in the same transaction. Redelivered
batches (consumer restart before its offset commit, edge spool replays) change nothing;
the fact tables' natural primary keys are a second line of defence.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.capacity.monitor import CapacityMonitor
from cloud.ingest.dedup import original_of
from cloud.ingest.outages import OutageLog
from cloud.ingest.registry import SiteRegistry
from cloud.storage.models import (
    CameraHealth,
    CameraProgress,
    HeatmapCell,
    LineCrossing,
    Occupancy,
    Tracklet,
    ZoneVisit,
)
from cloud.storage.rollups import FootfallCount, OccupancyLevel, add_footfall, record_occupancy
from cloud.storage.upsert import increment, insert_ignore, upsert
from shared.schema import pb

_DIRECTION = {pb.DIRECTION_IN: "in", pb.DIRECTION_OUT: "out"}
_STATE = {
    pb.CAMERA_STATE_ONLINE: "online",
    pb.CAMERA_STATE_RECONNECTING: "reconnecting",
    pb.CAMERA_STATE_OFFLINE: "offline",
    pb.CAMERA_STATE_ENDED: "ended",
}
NS = 1_000_000_000


def hour_of(ns: int) -> int:
    return ns // NS // 3600 * 3600


@dataclass
class ApplyResult:
    applied: int = 0
    duplicates: int = 0
    by_type: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # Tracklets closed in this batch, for stitching.
    closed: list[pb.Envelope] = field(default_factory=list)
    # Newest event time per site in this batch: stitching's clock.
    latest_event_ns: dict[str, int] = field(default_factory=dict)
    # Cameras that reported their stream ended or went offline: no more tracklets follow.
    ended_cameras: list[tuple[str, str]] = field(default_factory=list)
    # Crossings another camera of their line group had already counted.
    duplicate_crossings: int = 0


def _point(
    msg: pb.TrackUpdate | pb.TrackClosed | pb.LineCrossing | pb.ZoneTransition, name: str
) -> tuple[float, float] | None:
    if not msg.HasField(name):
        return None
    p = getattr(msg, name)
    return (p.x, p.y) if math.isfinite(p.x) and math.isfinite(p.y) else None


class _Occupancy:
    """Live counts touched by one batch: loaded once, changed in event order, written back.

    Every change is shown to the capacity monitor as it happens, so an alert is raised
    at the event that crossed the limit, even when the batch ends back under it.
    """

    def __init__(self, session: Session, registry: SiteRegistry) -> None:
        self.session = session
        self.registry = registry
        self.capacity = CapacityMonitor(session)
        self.counts: dict[tuple[str, str, str], tuple[int, int]] = {}
        self.levels: list[OccupancyLevel] = []
        self._loaded: set[str] = set()
        # Only these are written back: the others were read, not changed.
        self.changed: set[tuple[str, str, str]] = set()

    def _current(self, key: tuple[str, str, str]) -> int:
        if key not in self.counts:
            site_id = key[0]
            if site_id not in self._loaded:
                # Every live count of the site in one read: a batch touches most of them.
                self._loaded.add(site_id)
                for scope, scope_id, count, updated in self.session.execute(
                    select(Occupancy.scope, Occupancy.scope_id, Occupancy.count, Occupancy.updated_ns).where(
                        Occupancy.site_id == site_id
                    )
                ):
                    self.counts.setdefault((site_id, scope, scope_id), (count, updated))
            self.counts.setdefault(key, (0, 0))
        return self.counts[key][0]

    def change(self, site_id: str, scope: str, scope_id: str, delta: int, time_ns: int) -> None:
        key = (site_id, scope, scope_id)
        # Never negative: an exit whose enter predates the data (or was lost to a
        # camera outage) must not drive the count below zero.
        value = max(0, self._current(key) + delta)
        self.counts[key] = (value, time_ns)
        self.changed.add(key)
        self.levels.append(OccupancyLevel(site_id, scope, scope_id, time_ns // NS, value, value))
        self.capacity.observe(self.registry.site(site_id), scope, scope_id, value, time_ns)

    def write(self) -> None:
        upsert(
            self.session,
            Occupancy,
            [
                {"site_id": s, "scope": sc, "scope_id": i, "count": c, "updated_ns": t}
                for (s, sc, i), (c, t) in self.counts.items()
                if (s, sc, i) in self.changed
            ],
            update=["count", "updated_ns"],
        )
        record_occupancy(self.session, self.registry.timezones(), self.levels)
        self.capacity.write()


class EventApplier:
    def __init__(self, registry: SiteRegistry) -> None:
        self.registry = registry

    def apply(self, session: Session, envelopes: Sequence[pb.Envelope]) -> ApplyResult:
        result = ApplyResult()
        fresh = self._new_only(session, envelopes, result)
        occupancy = _Occupancy(session, self.registry)
        outages = OutageLog(session)
        crossings: list[dict[str, object]] = []
        footfall: list[FootfallCount] = []
        heat: dict[tuple[str, str, int, int, int], float] = defaultdict(float)
        tracklets: list[dict[str, object]] = []
        health: dict[tuple[str, str], dict[str, object]] = {}
        enters: list[dict[str, object]] = []
        exits: list[dict[str, object]] = []
        # Event-time order across cameras, so occupancy moves as it did in the mall.
        for env in sorted(fresh, key=lambda e: (e.event_time_ns, e.camera_id, e.seq)):
            kind = env.WhichOneof("payload")
            result.by_type[kind or "none"] += 1
            if kind != "camera_status":
                # Statuses are stamped with the agent's wall clock, which runs ahead of the
                # footage's clock in a replay of recorded video or a lagging camera; stitching
                # waits on footage time only.
                result.latest_event_ns[env.site_id] = max(result.latest_event_ns.get(env.site_id, 0), env.event_time_ns)
            if kind == "track_update":
                self._heat(env, heat)
            elif kind == "track_closed":
                tracklets.append(self._tracklet(env))
                result.closed.append(env)
            elif kind == "line_crossing":
                lc = env.line_crossing
                direction = _DIRECTION.get(lc.direction)
                if direction is None:
                    continue
                floor = _point(lc, "floor_point")
                crossing: dict[str, object] = {
                    "site_id": env.site_id,
                    "camera_id": env.camera_id,
                    "seq": env.seq,
                    "line_id": lc.line_id,
                    "direction": direction,
                    "track_id": lc.track_id,
                    "event_ns": env.event_time_ns,
                    "floor_x": floor[0] if floor else None,
                    "floor_y": floor[1] if floor else None,
                    "duplicate_of_camera": None,
                    "duplicate_of_seq": None,
                }
                group = self.registry.line_group(env.site_id, lc.line_id)
                original = (
                    original_of(session, crossing, group, crossings, self.registry.site(env.site_id).footfall_dedup)
                    if group is not None
                    else None
                )
                crossings.append(crossing)
                if original is not None:
                    crossing["duplicate_of_camera"], crossing["duplicate_of_seq"] = original
                    result.duplicate_crossings += 1
                    continue
                point = self.registry.counting_point(env.site_id, lc.line_id)
                footfall.append(FootfallCount(env.site_id, point, direction, env.event_time_ns // NS, 1))
                if self.registry.is_entrance(env.site_id, lc.line_id):
                    occupancy.change(
                        env.site_id, "site", env.site_id, 1 if direction == "in" else -1, env.event_time_ns
                    )
            elif kind == "zone_transition":
                self._zone(env, enters, exits, occupancy)
            elif kind == "camera_status":
                st = env.camera_status
                if st.state in (pb.CAMERA_STATE_ENDED, pb.CAMERA_STATE_OFFLINE):
                    result.ended_cameras.append((env.site_id, env.camera_id))
                state = _STATE.get(st.state, "unknown")
                outages.observe(env.site_id, env.camera_id, state, env.event_time_ns, st.message)
                health[(env.site_id, env.camera_id)] = {
                    "site_id": env.site_id,
                    "camera_id": env.camera_id,
                    "edge_id": env.edge_id,
                    "state": state,
                    "fps": st.fps,
                    "frames": st.frames,
                    "dropped_frames": st.dropped_frames,
                    "thinned_frames": st.thinned_frames,
                    "source_fps": st.source_fps,
                    "overloaded": st.overloaded,
                    "lag_ms": st.lag_ms,
                    "model_versions": dict(st.model_versions),
                    "message": st.message[:500],
                    "status_ns": env.event_time_ns,
                }
        insert_ignore(session, LineCrossing, crossings)
        insert_ignore(session, Tracklet, tracklets)
        insert_ignore(session, ZoneVisit, enters)
        upsert(session, ZoneVisit, exits, update=["exited_ns", "dwell_s"])
        add_footfall(session, self.registry.timezones(), footfall)
        increment(
            session,
            HeatmapCell,
            [
                {"site_id": s, "floor_id": f, "bucket_s": b, "cell_x": x, "cell_y": y, "seconds": sec}
                for (s, f, b, x, y), sec in heat.items()
            ],
            add=["seconds"],
        )
        upsert(
            session,
            CameraHealth,
            list(health.values()),
            update=[
                "edge_id",
                "state",
                "fps",
                "frames",
                "dropped_frames",
                "thinned_frames",
                "source_fps",
                "overloaded",
                "lag_ms",
                "model_versions",
                "message",
                "status_ns",
            ],
        )
        outages.write()
        occupancy.write()
        result.applied = len(fresh)
        return result

    def _new_only(self, session: Session, envelopes: Sequence[pb.Envelope], result: ApplyResult) -> list[pb.Envelope]:
        cameras = sorted({(e.site_id, e.camera_id) for e in envelopes})
        if not cameras:
            return []
        # FOR UPDATE: a consumer that lost its partition in a rebalance but has not noticed
        # yet waits here instead of applying the same events concurrently (PostgreSQL).
        rows = session.execute(
            select(CameraProgress).where(CameraProgress.site_id.in_({s for s, _ in cameras})).with_for_update()
        ).scalars()
        last = {(r.site_id, r.camera_id): r.last_seq for r in rows}
        fresh: list[pb.Envelope] = []
        high: dict[tuple[str, str], tuple[int, int]] = {}
        for env in sorted(envelopes, key=lambda e: (e.site_id, e.camera_id, e.seq)):
            key = (env.site_id, env.camera_id)
            seen = high.get(key, (last.get(key, 0), 0))[0]
            if env.seq <= seen:
                result.duplicates += 1
                continue
            fresh.append(env)
            high[key] = (env.seq, env.event_time_ns)
        upsert(
            session,
            CameraProgress,
            [{"site_id": s, "camera_id": c, "last_seq": q, "last_event_ns": t} for (s, c), (q, t) in high.items()],
            update=["last_seq", "last_event_ns"],
        )
        return fresh

    def _heat(self, env: pb.Envelope, heat: dict[tuple[str, str, int, int, int], float]) -> None:
        tu = env.track_update
        floor = _point(tu, "floor_point")
        if floor is None or not tu.floor_id:
            return
        grid = self.registry.grid(env.site_id, tu.floor_id)
        cell = grid.cell(*floor) if grid else None
        if cell is None:
            return
        heat[(env.site_id, tu.floor_id, hour_of(env.event_time_ns), *cell)] += self.registry.update_interval_s(
            env.site_id
        )

    @staticmethod
    def _tracklet(env: pb.Envelope) -> dict[str, object]:
        tc = env.track_closed
        first, last = _point(tc, "first_floor_point"), _point(tc, "last_floor_point")
        emb = tc.embedding if tc.HasField("embedding") else None
        return {
            "site_id": env.site_id,
            "camera_id": env.camera_id,
            "track_id": tc.track_id,
            "first_seen_ns": tc.first_seen_ns,
            "last_seen_ns": tc.last_seen_ns,
            "observations": tc.observations,
            "mean_confidence": tc.mean_confidence,
            "floor_id": tc.floor_id or None,
            "first_x": first[0] if first else None,
            "first_y": first[1] if first else None,
            "last_x": last[0] if last else None,
            "last_y": last[1] if last else None,
            "embedding": emb.vector_f16 if emb else None,
            "embedding_model": emb.model_id if emb else None,
            "embedding_quality": emb.quality if emb else None,
            "visitor_id": None,
        }

    @staticmethod
    def _zone(
        env: pb.Envelope, enters: list[dict[str, object]], exits: list[dict[str, object]], occupancy: _Occupancy
    ) -> None:
        zt = env.zone_transition
        key = {"site_id": env.site_id, "camera_id": env.camera_id, "zone_id": zt.zone_id, "track_id": zt.track_id}
        if zt.event == pb.ZONE_EVENT_ENTER:
            enters.append({**key, "entered_ns": env.event_time_ns, "exited_ns": None, "dwell_s": None})
            occupancy.change(env.site_id, "zone", zt.zone_id, 1, env.event_time_ns)
        elif zt.event == pb.ZONE_EVENT_EXIT:
            # The exit names its visit's start, so it completes the enter's row by primary
            # key; when the enter went missing (retention, an outage) it inserts the visit whole.
            entered = zt.entered_time_ns or env.event_time_ns
            dwell = max(0.0, (env.event_time_ns - entered) / NS)
            exits.append({**key, "entered_ns": entered, "exited_ns": env.event_time_ns, "dwell_s": dwell})
            occupancy.change(env.site_id, "zone", zt.zone_id, -1, env.event_time_ns)
