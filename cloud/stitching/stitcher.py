"""Online multi-camera association of tracklets into visitors.

A tracklet S continues a tracklet P (same person, later) when
  * P did not end in one of the site's exits (then the person left: nothing continues P),
  * the site topology links P's camera to S's camera (or it is the same camera, re-entry),
  * the gap S.first_seen − P.last_seen lies within the link's [min, max] transit seconds,
    its minimum eased by `transit_tolerance_s` (overlapping views may also overlap in
    time, then their floor positions must agree); a re-entry within `reentry_max_gap_s`,
  * their ReID vectors (same model) are at least `min_similarity` alike
    (`reentry_min_similarity` for a re-entry).
Competing candidates are resolved together: every decision round solves one assignment
problem (Hungarian, scipy's linear_sum_assignment) over all undecided tracklets and all
open predecessors, maximising total similarity, instead of letting the first tracklet to
arrive take the best match. A tracklet is decided once `window_s` of event time has passed
after it closed, so successors that close a little later can still compete.

A tracklet whose detections averaged below `min_mean_confidence` is clutter the tracker
held on to (a pole, a poster, a reflection), not a person: it is stored with its camera's
events but neither starts nor continues a visitor.

Decisions depend only on the tracklets' contents and event times, and visitor ids are
derived from the visitor's first tracklet, so replaying the same tracklets (or restoring
from the database and continuing) gives the same visitors.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from cloud.stitching.exits import SiteExits
from cloud.stitching.tracklet import Tracklet, TrackletKey
from shared.config.site import Link, SiteConfig

NS = 1_000_000_000


@dataclass(frozen=True)
class StitchSettings:
    # Cosine similarity of aggregated OSNet x0.25 vectors for a link between cameras, which
    # the topology's transit window already constrains. PETS09 split-view proxy
    # (tests/unit/test_stitching.py, BENCHMARKS.md), with the site's exits: its lowest true
    # link between the cameras scores 0.764; 0.75 links all of them, 0.8 misses that one.
    min_similarity: float = 0.75
    # The same for a re-entry into the same camera: nothing but the gap constrains those,
    # and look-alikes score as high as the person's own sightings (PETS09: different
    # people's re-entries at 0.81-0.97, most of them someone leaving through an exit and
    # someone else coming in, which the exits rule out). Its true re-entries, after
    # occlusions and from the blind strip, score 0.897-0.933; 0.85-0.89 score alike.
    reentry_min_similarity: float = 0.85
    # A transit may look this much shorter than the link's minimum (even negative): edge
    # clocks differ a little, and a person at the border of two adjacent views is partly
    # in both for a moment. Real agent on the PETS09 split view with a 12 s link: 0 s gave
    # 22 visitors for 19 people and IDF1 89.5, 0.5 s 21 and 92.2, 1 s 20 and 90.1; with the
    # example site's 30 s link 0-2 s all give 20 (BENCHMARKS.md).
    transit_tolerance_s: float = 1.0
    # Event time a closed tracklet waits for competing successors before it is decided.
    window_s: float = 5.0
    # Overlapping views: floor positions of two simultaneous sightings agree within this.
    max_floor_distance_m: float = 1.5
    # Same-camera re-entry (left the view, came back): allowed within this gap.
    reentry_max_gap_s: float = 30.0
    # Longest a tracklet may stay open at the edge and still be linked to its predecessor.
    max_track_s: float = 3600.0
    # Mean detection confidence below which a tracklet is not a visitor. PETS09 split view,
    # real agent (pedestrian profile): people's tracklets average 0.72-0.85; the one below
    # is a 30 s track held on a static object by BoT-SORT's low-score association at 0.30.
    # Visitors are 20 from 0.35 to 0.7 (BENCHMARKS.md).
    min_mean_confidence: float = 0.5

    def __post_init__(self) -> None:
        for name in ("min_similarity", "reentry_min_similarity"):
            if not -1 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be a cosine in [-1, 1], got {getattr(self, name)}")
        if self.window_s < 0 or self.reentry_max_gap_s < 0 or self.transit_tolerance_s < 0:
            raise ValueError("window_s, reentry_max_gap_s and transit_tolerance_s must be >= 0")
        if self.max_floor_distance_m <= 0 or self.max_track_s <= 0:
            raise ValueError("max_floor_distance_m and max_track_s must be > 0")
        if not 0 <= self.min_mean_confidence <= 1:
            raise ValueError(f"min_mean_confidence must be in [0, 1], got {self.min_mean_confidence}")


@dataclass(frozen=True)
class Assignment:
    site_id: str
    camera_id: str
    track_id: int
    visitor_id: str
    # The tracklet this one continues, or None when it starts a new visitor.
    linked_to: TrackletKey | None
    similarity: float | None


def visitor_id_of(tracklet: Tracklet) -> str:
    return f"{tracklet.site_id}:{tracklet.camera_id}:{tracklet.track_id}"


class Stitcher:
    def __init__(self, site: SiteConfig, settings: StitchSettings | None = None) -> None:
        self.site_id = site.site.id
        self.settings = settings or StitchSettings()
        self._exits = SiteExits(site)
        self._links: dict[tuple[str, str], Link] = {}
        for link in site.topology:
            self._links[(link.a, link.b)] = link
            if link.bidirectional:
                self._links[(link.b, link.a)] = link
        # The longest gap any rule allows between a predecessor's end and a successor's start.
        self._reach_ns = int(
            max([link.max_transit_s for link in site.topology] + [self.settings.reentry_max_gap_s]) * NS
        )
        self._horizon_ns = int(
            (
                max([link.max_transit_s for link in site.topology] + [self.settings.reentry_max_gap_s])
                + self.settings.window_s
            )
            * NS
        )
        self._pending: list[Tracklet] = []
        # Decided tracklets that may still get a successor: key → (tracklet, visitor id).
        self._open: dict[TrackletKey, tuple[Tracklet, str]] = {}
        self._watermark_ns = 0

    def is_visitor(self, tracklet: Tracklet) -> bool:
        """Whether the tracklet is a person at all (see `min_mean_confidence`)."""
        return tracklet.mean_confidence >= self.settings.min_mean_confidence

    def restore(self, decided: Iterable[tuple[Tracklet, str]], pending: Iterable[Tracklet]) -> None:
        """Reload state after a restart: decided tracklets that have no successor yet, and undecided ones."""
        for tracklet, visitor in decided:
            self._open[tracklet.key] = (tracklet, visitor)
            self._watermark_ns = max(self._watermark_ns, tracklet.last_seen_ns)
        for tracklet in pending:
            if not self.is_visitor(tracklet):
                continue
            self._pending.append(tracklet)
            self._watermark_ns = max(self._watermark_ns, tracklet.last_seen_ns)

    @property
    def horizon_ns(self) -> int:
        """How far back (event time) a tracklet can still be linked to; older state can go."""
        return self._horizon_ns

    def advance(self, time_ns: int) -> list[Assignment]:
        """Event time moved on (any event of the site): decide what has waited long enough."""
        self._watermark_ns = max(self._watermark_ns, time_ns)
        return self.flush(self._watermark_ns - int(self.settings.window_s * NS))

    def add(self, tracklet: Tracklet) -> list[Assignment]:
        """Take a closed tracklet; returns the decisions that became final (none for clutter)."""
        if tracklet.site_id != self.site_id:
            raise ValueError(f"tracklet of site {tracklet.site_id!r} given to the stitcher of {self.site_id!r}")
        if self.is_visitor(tracklet):
            self._pending.append(tracklet)
        self._watermark_ns = max(self._watermark_ns, tracklet.last_seen_ns)
        return self.flush(self._watermark_ns - int(self.settings.window_s * NS))

    def flush(self, until_ns: int | None = None, camera_id: str | None = None) -> list[Assignment]:
        """Decide every pending tracklet closed at or before `until_ns` (all of them when None);
        with `camera_id`, every pending tracklet of that camera (its stream ended), together
        with the other cameras' that closed before its last one: those may be its
        predecessors, and only tracklets decided in the same round or earlier can be."""
        if camera_id is not None:
            ended = [t.last_seen_ns for t in self._pending if t.camera_id == camera_id]
            if not ended:
                return []
            until_ns = max(ended)

        def is_due(t: Tracklet) -> bool:
            return (until_ns is None or t.last_seen_ns <= until_ns) or t.camera_id == camera_id

        due = [t for t in self._pending if is_due(t)]
        if not due:
            return []
        due.sort(key=lambda t: (t.first_seen_ns, t.camera_id, t.track_id))
        self._pending = [t for t in self._pending if not is_due(t)]
        predecessors = [t for t, _ in self._open.values()] + due
        links = self._solve(due, predecessors)
        visitors = {key: visitor for key, (_, visitor) in self._open.items()}
        out = []
        for t in due:
            link = links.get(t.key)
            if link is None:
                visitor, linked, sim = visitor_id_of(t), None, None
            else:
                linked, sim = link
                visitor = visitors[linked]
                self._open.pop(linked, None)
            visitors[t.key] = visitor
            self._open[t.key] = (t, visitor)
            out.append(Assignment(self.site_id, t.camera_id, t.track_id, visitor, linked, sim))
        self._expire()
        return out

    def _solve(
        self, successors: list[Tracklet], predecessors: list[Tracklet]
    ) -> dict[TrackletKey, tuple[TrackletKey, float]]:
        scores = np.full((len(successors), len(predecessors)), -np.inf)
        ends = np.array([p.last_seen_ns for p in predecessors], dtype=np.int64)
        # Whether a predecessor left the site, worked out once per round, for those any successor is near.
        departed: dict[int, bool] = {}
        for i, s in enumerate(successors):
            # Only predecessors that ended within reach of this start (vectorised prefilter).
            near = np.flatnonzero((ends >= s.first_seen_ns - self._reach_ns) & (ends <= s.last_seen_ns))
            for j in near.tolist():
                p = predecessors[j]
                if j not in departed:
                    departed[j] = self._exits.departed(p)
                score = self._score(p, s, departed[j])
                if score is not None:
                    scores[i, j] = score
        feasible = np.isfinite(scores)
        if not feasible.any():
            return {}
        # Maximise total similarity over feasible pairs; infeasible ones cost more than any
        # feasible set of pairs could gain, so they are never chosen over leaving a row free.
        cost = np.where(feasible, -scores, 1e6)
        rows, cols = linear_sum_assignment(cost)
        chosen: dict[TrackletKey, tuple[TrackletKey, float]] = {}
        used: set[TrackletKey] = set()
        for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
            if feasible[i, j] and predecessors[j].key not in used:
                chosen[successors[i].key] = (predecessors[j].key, float(scores[i, j]))
                used.add(predecessors[j].key)
        return chosen

    def _score(self, p: Tracklet, s: Tracklet, p_departed: bool) -> float | None:
        """Similarity if S may continue P (which left through an exit when `p_departed`), else None."""
        if p.key == s.key:
            return None
        gap_s = (s.first_seen_ns - p.last_seen_ns) / NS
        if gap_s > 0 and p_departed:
            # P left the site: whoever came after, however alike, is a new visit. (Seen
            # by two overlapping views at once, at the door, is still one person.)
            return None
        overlap_ok = False
        if p.camera_id == s.camera_id:
            if not 0 < gap_s <= self.settings.reentry_max_gap_s:
                return None
        else:
            link = self._links.get((p.camera_id, s.camera_id))
            if link is None:
                return None
            if link.overlapping and gap_s <= 0:
                # Seen in both views at once: the floor positions must agree.
                if p.last_floor is None or s.first_floor is None or p.floor_id != s.floor_id:
                    return None
                if (
                    np.hypot(p.last_floor[0] - s.first_floor[0], p.last_floor[1] - s.first_floor[1])
                    > self.settings.max_floor_distance_m
                ):
                    return None
                if s.last_seen_ns <= p.last_seen_ns:
                    return None
                overlap_ok = True
            elif not link.min_transit_s - self.settings.transit_tolerance_s <= gap_s <= link.max_transit_s:
                return None
        if p.embedding is None or s.embedding is None or p.embedding_model != s.embedding_model:
            # Without comparable appearance only a position-confirmed overlap may link.
            return 1.0 if overlap_ok else None
        similarity = float(np.dot(p.embedding, s.embedding))
        needed = self.settings.reentry_min_similarity if p.camera_id == s.camera_id else self.settings.min_similarity
        return similarity if similarity >= needed else None

    def _expire(self) -> None:
        """Forget predecessors no pending or future tracklet can continue.

        A successor is only seen once it closes, which may be long after it started (a
        shopper standing in view): predecessors stay until `max_track_s` has passed too.
        """
        cutoff = self._watermark_ns - self._horizon_ns - int(self.settings.max_track_s * NS)
        for key in [k for k, (t, _) in self._open.items() if t.last_seen_ns < cutoff]:
            del self._open[key]
