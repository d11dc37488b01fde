"""Stitching accuracy: ground-truth-labelled tracklets through the real stitcher, scored by motmetrics.

Global IDF1 treats every camera's boxes as one sequence with the stitched visitor as the
predicted identity of each ground-truth box (the boxes are the ground truth's own, so each
is matched to itself and only identities are judged): it is
high only when one person keeps one visitor id across cameras and re-entries. The same
score with every tracklet as its own id is the no-stitching baseline. The unique-visitor
error compares the number of visitors with the number of ground-truth people.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

import motmetrics as mm
import numpy as np

from cloud.stitching.stitcher import Assignment, Stitcher, StitchSettings
from cloud.stitching.tracklet import Tracklet
from shared.config.site import SiteConfig
from shared.evaluation.labelled_tracklets import LabelledTracklets


@dataclass(frozen=True)
class StitchingReport:
    tracklets: int
    identities: int
    visitors: int
    # (visitors − identities) / identities, percent.
    visitor_error_pct: float
    global_idf1: float
    unstitched_idf1: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def stitch(site: SiteConfig, labelled: LabelledTracklets, settings: StitchSettings) -> dict[tuple[str, int], str]:
    """Visitor id per (camera, track) taken as a visitor, feeding tracklets in the order they close."""
    stitcher = Stitcher(site, settings)
    tracklets = [
        Tracklet(
            site.site.id,
            t.camera_id,
            t.track_id,
            t.first_seen_ns,
            t.last_seen_ns,
            first_floor=t.first_floor,
            last_floor=t.last_floor,
            floor_id=t.floor_id,
            embedding=np.asarray(t.embedding, dtype=np.float32) if t.embedding is not None else None,
            embedding_model=t.embedding_model,
            mean_confidence=t.mean_confidence,
        )
        for t in labelled.tracklets
    ]
    decided: list[Assignment] = []
    for tracklet in sorted(tracklets, key=lambda t: t.last_seen_ns):
        decided += stitcher.add(tracklet)
    decided += stitcher.flush()
    return {(a.camera_id, a.track_id): a.visitor_id for a in decided}


def global_idf1(labelled: LabelledTracklets, identity_of: dict[tuple[str, int], str]) -> float:
    """IDF1 of the labelled tracklets' boxes with `identity_of` as each one's predicted identity."""
    # A tracklet the stitcher did not take as a visitor (clutter) is an identity of its own.
    predicted_of = {
        (t.camera_id, t.track_id): identity_of.get((t.camera_id, t.track_id), f"{t.camera_id}/{t.track_id}")
        for t in labelled.tracklets
    }
    ids = {v: n for n, v in enumerate(sorted(set(predicted_of.values())))}
    per_frame: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for t in labelled.tracklets:
        predicted = ids[predicted_of[(t.camera_id, t.track_id)]]
        for frame, *_ in t.boxes:
            per_frame[frame].append((t.identity, predicted))
    acc = mm.MOTAccumulator(auto_id=False)
    for frame in sorted(per_frame):
        rows = per_frame[frame]
        # Box i is prediction i: distance 0 to itself, no match to anything else.
        distances = np.where(np.eye(len(rows), dtype=bool), 0.0, np.nan)
        acc.update([g for g, _ in rows], [p for _, p in rows], distances, frameid=frame)
    summary = mm.metrics.create().compute(acc, metrics=["idf1"], name="stitching")
    return float(summary["idf1"].iloc[0]) * 100


def evaluate_stitching(
    site: SiteConfig, labelled: LabelledTracklets, settings: StitchSettings | None = None
) -> StitchingReport:
    if labelled.site_id != site.site.id:
        raise ValueError(f"the tracklets are of site {labelled.site_id!r}, the config is of {site.site.id!r}")
    unknown = sorted({t.camera_id for t in labelled.tracklets} - {c.id for c in site.cameras})
    if unknown:
        raise ValueError(f"tracklets name cameras the site does not have: {', '.join(unknown)}")
    if not labelled.tracklets:
        raise ValueError("no tracklets to stitch")
    visitor_of = stitch(site, labelled, settings or StitchSettings())
    visitors = len(set(visitor_of.values()))
    identities = labelled.identities
    return StitchingReport(
        tracklets=len(labelled.tracklets),
        identities=identities,
        visitors=visitors,
        visitor_error_pct=100.0 * (visitors - identities) / identities if identities else 0.0,
        global_idf1=global_idf1(labelled, visitor_of),
        unstitched_idf1=global_idf1(
            labelled, {(t.camera_id, t.track_id): f"t{t.track_id}" for t in labelled.tracklets}
        ),
    )
