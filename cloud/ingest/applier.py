"""Apply a batch of validated envelopes to the database in the caller's transaction.

Idempotence: per camera, only envelopes with a seq above `camera_progress.last_seq` are
applied, and the new high-water mark is written in the same transaction. Redelivered
batches (consumer restart before its offset commit, edge spool replays) change nothing;
the fact tables' natural primary keys are a second line of defence.

Shape: one walk over the batch in event-time order sorts it into per-table row sets
(cloud/ingest/rowsets.py) and moves live occupancy as it goes; then each set is written
once (cloud/storage/bulk: COPY + one INSERT … SELECT per table on PostgreSQL).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain, count
from operator import attrgetter, itemgetter, methodcaller

import numpy as np
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from cloud.ingest.dedup import original_of
from cloud.ingest.heads import Head, read_heads
from cloud.ingest.occupancy import LiveOccupancy
from cloud.ingest.outages import OutageLog
from cloud.ingest.registry import SiteRegistry
from cloud.ingest.rowsets import BatchRows, HeatKey
from cloud.storage.bulk import BulkWriter, RowSet, writer_for
from cloud.storage.models import CameraProgress
from cloud.storage.rollups import FootfallCount, add_footfall
from shared.schema import pb

_DIRECTION = {pb.DIRECTION_IN: "in", pb.DIRECTION_OUT: "out"}
_STATE = {
    pb.CAMERA_STATE_ONLINE: "online",
    pb.CAMERA_STATE_RECONNECTING: "reconnecting",
    pb.CAMERA_STATE_OFFLINE: "offline",
    pb.CAMERA_STATE_ENDED: "ended",
}
NS = 1_000_000_000
HOUR_NS = 3600 * NS
_isfinite = math.isfinite


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


def _finite(value: float) -> float:
    """A figure (camera rates, a tracklet's confidence) the database and JSON can hold: SQLite
    stores NaN as NULL (the columns are NOT NULL) and the API cannot send it; an edge
    reporting NaN reported nothing."""
    return value if _isfinite(value) else 0.0


def _point(
    msg: pb.TrackUpdate | pb.TrackClosed | pb.LineCrossing | pb.ZoneTransition, name: str
) -> tuple[float, float] | None:
    if not msg.HasField(name):
        return None
    p = getattr(msg, name)
    return (p.x, p.y) if _isfinite(p.x) and _isfinite(p.y) else None


# Built once: the statement is compiled once and only its site list changes. FOR UPDATE: a
# consumer that lost its partition in a rebalance but has not noticed yet waits here
# instead of applying the same events concurrently (PostgreSQL).
_progress = CameraProgress.__table__.c
_PROGRESS_OF_SITES = (
    select(_progress.site_id, _progress.camera_id, _progress.last_seq)
    .where(_progress.site_id.in_(bindparam("sites", expanding=True)))
    .with_for_update()
)

_camera_order = itemgetter(0, 1, 2)
_camera = itemgetter(0, 1)
_seq = itemgetter(2)
_event_order = itemgetter(3, 1, 2)
_site = itemgetter(0)
_time = itemgetter(3)
_kind = itemgetter(5)
_payload = itemgetter(6)
_floor_id = attrgetter("floor_id")
_has_floor_point = methodcaller("HasField", "floor_point")
_xy = attrgetter("x", "y")
_floor_point = attrgetter("floor_point")


def _rising(
    heads: Sequence[Head], last: dict[tuple[str, str], int]
) -> tuple[list[Head], dict[tuple[str, str], tuple[int, int]]] | None:
    """_gate's answer for the usual batch, worked out with numpy instead of a Python step per
    event: every camera's seqs rise through the batch from above its stored one, so all
    heads are fresh. None for any other batch (a replay, a seq out of order)."""
    n = len(heads)
    keys = list(map(_camera, heads))
    # Each camera's code is the position of its first head: unique, and read in one C pass.
    codes_of: dict[tuple[str, str], int] = {}
    codes = np.fromiter(map(codes_of.setdefault, keys, count()), np.int64, n)
    try:
        seqs = np.fromiter(map(_seq, heads), np.int64, n)
    except OverflowError:  # a seq past int64 (unvalidated input): the Python gate judges it
        return None
    order = np.argsort(codes, kind="stable")
    by_camera, seq_order = codes[order], seqs[order]
    starts = np.flatnonzero(np.r_[True, by_camera[1:] != by_camera[:-1]])
    rises = seq_order[1:] > seq_order[:-1]
    rises[starts[1:] - 1] = True  # a new camera's first seq is compared with its stored one
    if not rises.all():
        return None
    ends = np.r_[starts[1:] - 1, n - 1]
    high: dict[tuple[str, str], tuple[int, int]] = {}
    for first, end in zip(order[starts].tolist(), order[ends].tolist(), strict=True):
        key = keys[first]
        if heads[first][2] <= last.get(key, 0):
            return None
        high[key] = (heads[end][2], heads[end][3])
    return list(heads), high


def _gate(
    heads: Iterable[Head], last: dict[tuple[str, str], int]
) -> tuple[list[Head], dict[tuple[str, str], tuple[int, int]]] | None:
    """The heads above their camera's stored seq and above every seq before them in the
    batch, and each camera's new (seq, event time) high-water mark; None when a seq lies
    between the stored one and an earlier one of the batch (the batch needs sorting)."""
    fresh: list[Head] = []
    high: dict[tuple[str, str], tuple[int, int]] = {}
    for head in heads:
        key = head[:2]
        seq = head[2]
        top = high.get(key)
        if top is None:
            if seq > last.get(key, 0):
                fresh.append(head)
                high[key] = (seq, head[3])
        elif seq > top[0]:
            fresh.append(head)
            high[key] = (seq, head[3])
        elif seq != top[0] and seq > last.get(key, 0):
            return None
    return fresh, high


class EventApplier:
    def __init__(self, registry: SiteRegistry) -> None:
        self.registry = registry

    def apply(self, session: Session, envelopes: Sequence[pb.Envelope]) -> ApplyResult:
        return self.apply_heads(session, read_heads(envelopes))

    def apply_heads(self, session: Session, heads: Sequence[Head]) -> ApplyResult:
        """apply() of envelopes whose heads validation has read already."""
        result = ApplyResult()
        writer = writer_for(session)
        fresh = self._new_only(session, writer, heads, result)
        rows = BatchRows()
        occupancy = LiveOccupancy(session, self.registry)
        outages = OutageLog(session)
        footfall: list[FootfallCount] = []
        latest = result.latest_event_ns
        result.by_type.update(Counter(map(_kind, fresh)))
        # Track updates (most events) only add seconds to heatmap cells, which does not depend
        # on order: they skip the sort and the dispatch.
        self._heat([h for h in fresh if h[5] == "track_update"], rows.heat, latest)
        others = [h for h in fresh if h[5] != "track_update"]
        # Event-time order across cameras, so occupancy moves as it did in the mall.
        for site_id, camera_id, seq, time_ns, env, kind, payload in sorted(others, key=_event_order):
            if kind != "camera_status" and time_ns > latest.get(site_id, 0):
                # Statuses are stamped with the agent's wall clock, which runs ahead of the
                # footage's clock in a replay of recorded video or a lagging camera; stitching
                # waits on footage time only.
                latest[site_id] = time_ns
            if kind == "track_closed":
                rows.tracklets.append(self._tracklet(site_id, camera_id, payload))
                result.closed.append(env)
            elif kind == "line_crossing":
                self._crossing(session, (site_id, camera_id, seq, time_ns), payload, rows, footfall, occupancy, result)
            elif kind == "zone_transition":
                self._zone((site_id, camera_id, time_ns), payload, rows, occupancy)
            elif kind == "camera_status":
                st = payload
                if st.state in (pb.CAMERA_STATE_ENDED, pb.CAMERA_STATE_OFFLINE):
                    result.ended_cameras.append((site_id, camera_id))
                state = _STATE.get(st.state, "unknown")
                outages.observe(site_id, camera_id, state, time_ns, st.message)
                rows.health[(site_id, camera_id)] = (
                    site_id, camera_id, env.edge_id, state, _finite(st.fps), st.frames, st.dropped_frames,
                    st.thinned_frames, _finite(st.source_fps), st.overloaded, _finite(st.lag_ms),
                    dict(st.model_versions), st.message[:500], time_ns,
                )  # fmt: skip
        rows.write(writer)
        add_footfall(session, self.registry.timezones(), footfall)
        outages.write()
        occupancy.write(writer)
        result.applied = len(fresh)
        return result

    def _new_only(self, session: Session, writer: BulkWriter, heads: Sequence[Head], result: ApplyResult) -> list[Head]:
        if not heads:
            return []
        last = {
            (site, camera): seq
            for site, camera, seq in session.connection().execute(_PROGRESS_OF_SITES, {"sites": set(map(_site, heads))})
        }
        # A partition delivers each camera's events in the order the edge numbered them, so
        # the gate goes through the batch as it came; a seq below one seen earlier in the
        # batch but above the stored one (a replay mixed into a live stream) needs the batch
        # sorted by seq first.
        gated = _rising(heads, last) or _gate(heads, last)
        if gated is None:
            gated = _gate(sorted(heads, key=_camera_order), last)
            assert gated is not None
        fresh, high = gated
        result.duplicates += len(heads) - len(fresh)
        writer.upsert(
            RowSet.of(
                CameraProgress,
                ("site_id", "camera_id", "last_seq", "last_event_ns"),
                [(*key, seq, t) for key, (seq, t) in high.items()],
            ),
            ["last_seq", "last_event_ns"],
        )
        return fresh

    def _heat(self, updates: list[Head], heat: defaultdict[HeatKey, float], latest: dict[str, int]) -> None:
        """Each update's floor point adds the seconds it stands for to its cell of the hour:
        per site and floor, the cells of the batch's points at once (numpy), not one by one."""
        if not updates:
            return
        n = len(updates)
        sites = np.array(list(map(_site, updates)), dtype=object)
        times = np.fromiter(map(_time, updates), np.int64, n)
        of_site = {site_id: sites == site_id for site_id in set(sites.tolist())}
        for site_id, mask in of_site.items():
            newest = int(times[mask].max())
            if newest > latest.get(site_id, 0):
                latest[site_id] = newest
        tus = list(map(_payload, updates))
        floors = np.array(list(map(_floor_id, tus)), dtype=object)
        placed = np.fromiter(map(_has_floor_point, tus), bool, n)
        xy = np.fromiter(chain.from_iterable(map(_xy, map(_floor_point, tus))), np.float64, 2 * n).reshape(n, 2)
        placed &= np.isfinite(xy).all(axis=1)
        hours = times // HOUR_NS * 3600
        for site_id, floor_id in set(zip(sites[placed].tolist(), floors[placed].tolist(), strict=True)):
            grid = self.registry.grid(site_id, floor_id) if floor_id else None
            if grid is None:
                continue
            at = placed & of_site[site_id] & (floors == floor_id)
            cells, inside = grid.cells(xy[at])
            seconds = self.registry.update_interval_s(site_id)
            placed_cells = zip(
                hours[at][inside].tolist(), cells[inside, 0].tolist(), cells[inside, 1].tolist(), strict=True
            )
            for (hour, cx, cy), n_updates in Counter(placed_cells).items():
                heat[(site_id, floor_id, hour, cx, cy)] += n_updates * seconds

    def _crossing(
        self,
        session: Session,
        head: tuple[str, str, int, int],
        lc: pb.LineCrossing,
        rows: BatchRows,
        footfall: list[FootfallCount],
        occupancy: LiveOccupancy,
        result: ApplyResult,
    ) -> None:
        """`head`: the envelope's site, camera, seq and event time, as validation read them."""
        site_id, camera_id, seq, time_ns = head
        direction = _DIRECTION.get(lc.direction)
        if direction is None:
            return
        floor = _point(lc, "floor_point")
        line_id = lc.line_id
        crossing: dict[str, object] = {
            "site_id": site_id,
            "camera_id": camera_id,
            "seq": seq,
            "line_id": line_id,
            "direction": direction,
            "track_id": lc.track_id,
            "event_ns": time_ns,
            "floor_x": floor[0] if floor else None,
            "floor_y": floor[1] if floor else None,
            "duplicate_of_camera": None,
            "duplicate_of_seq": None,
        }
        group = self.registry.line_group(site_id, line_id)
        original = (
            original_of(session, crossing, group, rows.crossings, self.registry.site(site_id).footfall_dedup)
            if group is not None
            else None
        )
        rows.crossings.append(crossing)
        if original is not None:
            crossing["duplicate_of_camera"], crossing["duplicate_of_seq"] = original
            result.duplicate_crossings += 1
            return
        point = self.registry.counting_point(site_id, line_id)
        footfall.append(FootfallCount(site_id, point, direction, time_ns // NS, 1))
        if self.registry.is_entrance(site_id, line_id):
            occupancy.change(site_id, "site", site_id, 1 if direction == "in" else -1, time_ns)

    @staticmethod
    def _tracklet(site_id: str, camera_id: str, tc: pb.TrackClosed) -> tuple[object, ...]:
        first, last = _point(tc, "first_floor_point"), _point(tc, "last_floor_point")
        emb = tc.embedding if tc.HasField("embedding") else None
        return (
            site_id, camera_id, tc.track_id, tc.first_seen_ns, tc.last_seen_ns, tc.observations,
            _finite(tc.mean_confidence), tc.floor_id or None,
            first[0] if first else None, first[1] if first else None,
            last[0] if last else None, last[1] if last else None,
            emb.vector_f16 if emb else None, emb.model_id if emb else None, emb.quality if emb else None,
        )  # fmt: skip

    @staticmethod
    def _zone(head: tuple[str, str, int], zt: pb.ZoneTransition, rows: BatchRows, occupancy: LiveOccupancy) -> None:
        """`head`: the envelope's site, camera and event time, as validation read them."""
        site_id, camera_id, time_ns = head
        zone_id, event = zt.zone_id, zt.event
        key = (site_id, camera_id, zone_id, zt.track_id)
        if event == pb.ZONE_EVENT_ENTER:
            rows.enters.append((*key, time_ns, None, None))
            occupancy.change(site_id, "zone", zone_id, 1, time_ns)
        elif event == pb.ZONE_EVENT_EXIT:
            # The exit names its visit's start, so it completes the enter's row by primary
            # key; when the enter went missing (retention, an outage) it inserts the visit whole.
            entered = zt.entered_time_ns or time_ns
            dwell = max(0.0, (time_ns - entered) / NS)
            rows.exits.append((*key, entered, time_ns, dwell))
            occupancy.change(site_id, "zone", zone_id, -1, time_ns)
