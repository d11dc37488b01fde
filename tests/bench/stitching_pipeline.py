"""Stitching on the real pipeline: the edge agent's own tracklets over the PETS09 split view.

    .venv/bin/python tests/bench/stitching_pipeline.py [--similarity S] [--reentry-similarity R]
        [--tolerance T] [--max-transit S] [--min-confidence C] [--sweep]

`mallflow eval stitching` scores ground-truth tracklets (a perfect tracker); this runs the
real agent over both cameras of deploy/examples/pets09-split.yaml, assembled as
`mallflow demo` assembles it (about 150 s on 2 cores), and stitches every closed track with
the real stitcher: the visitor count over all of them is the number the demo prints and the
API serves. For scoring, each track takes the ground-truth person most of its boxes overlap
(tests/support/pets09_identities.py); global IDF1 over the labelled tracks' boxes, with and
without stitching, and how many people were merged into another's visitor or split over
several. --sweep replays the same tracks through one changed setting per row.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from cloud.evaluation.stitching import global_idf1, stitch  # noqa: E402
from cloud.stitching.stitcher import StitchSettings  # noqa: E402
from edge.evaluation.mot import MotSequence  # noqa: E402
from shared.config import SiteConfig, load_site_config  # noqa: E402
from shared.evaluation.labelled_tracklets import LabelledTracklet, LabelledTracklets  # noqa: E402
from shared.schema import pb, unpack_embedding  # noqa: E402
from tests.support.pets09_identities import run_agent, track_identities  # noqa: E402

START_NS = 1_700_000_000 * 10**9
FPS = 7.0
GT = ROOT.parent / "shared" / "data" / "PETS09-S2L1" / "gt" / "gt.txt"
# A track the ground truth does not annotate (clutter, or a person it leaves out) is its own identity here.
UNLABELLED = -1


def pipeline_tracks(site: SiteConfig, envelopes: list[pb.Envelope], gt: MotSequence) -> LabelledTracklets:
    """Every closed track, with its ground-truth person or UNLABELLED."""
    identity = track_identities(site, envelopes, gt, START_NS, FPS)
    boxes: dict[tuple[str, int], list[tuple[int, float, float, float, float]]] = defaultdict(list)
    for env in envelopes:
        if env.HasField("track_update"):
            tu, frame = env.track_update, round((env.event_time_ns - START_NS) * FPS / 1e9) + 1
            boxes[(env.camera_id, tu.track_id)].append(
                (frame, tu.bbox.x1, tu.bbox.y1, tu.bbox.x2 - tu.bbox.x1, tu.bbox.y2 - tu.bbox.y1)
            )
    tracklets = []
    for env in envelopes:
        if not env.HasField("track_closed"):
            continue
        tc, key = env.track_closed, (env.camera_id, env.track_closed.track_id)
        person = identity.get(key)
        vector = None
        if tc.HasField("embedding"):
            raw = unpack_embedding(tc.embedding)
            vector = (raw / np.linalg.norm(raw)).astype(np.float32).tolist()
        tracklets.append(
            LabelledTracklet(
                camera_id=env.camera_id,
                track_id=tc.track_id,
                identity=UNLABELLED if person is None else person,
                first_seen_ns=tc.first_seen_ns,
                last_seen_ns=tc.last_seen_ns,
                floor_id=tc.floor_id or None,
                first_floor=(tc.first_floor_point.x, tc.first_floor_point.y)
                if tc.HasField("first_floor_point")
                else None,
                last_floor=(tc.last_floor_point.x, tc.last_floor_point.y) if tc.HasField("last_floor_point") else None,
                embedding=vector,
                embedding_model=tc.embedding.model_id if vector is not None else None,
                mean_confidence=min(1.0, tc.mean_confidence),
                boxes=boxes[key],
            )
        )
    people = len({t.identity for t in tracklets} - {UNLABELLED})
    return LabelledTracklets(site_id=site.site.id, fps=FPS, identities=people, tracklets=tracklets)


@dataclass(frozen=True)
class Outcome:
    visitors: int
    merged: int
    split: int
    idf1: float

    def row(self, name: str) -> str:
        return f"| {name} | {self.visitors} | {self.merged} | {self.split} | {self.idf1:.1f} |"


def labelled_only(tracks: LabelledTracklets) -> LabelledTracklets:
    return tracks.model_copy(update={"tracklets": [t for t in tracks.tracklets if t.identity != UNLABELLED]})


def outcome(site: SiteConfig, tracks: LabelledTracklets, settings: StitchSettings) -> Outcome:
    """One stitch of every track: its visitor count, and the labelled tracks scored on it."""
    visitor_of = stitch(site, tracks, settings)
    labelled = labelled_only(tracks)
    people_of: dict[str, set[int]] = defaultdict(set)
    visitors_of: dict[int, set[str]] = defaultdict(set)
    for t in labelled.tracklets:
        visitor = visitor_of.get((t.camera_id, t.track_id))
        if visitor is not None:
            people_of[visitor].add(t.identity)
            visitors_of[t.identity].add(visitor)
    return Outcome(
        visitors=len(set(visitor_of.values())),
        merged=sum(len(p) - 1 for p in people_of.values()),
        split=sum(len(v) - 1 for v in visitors_of.values()),
        idf1=global_idf1(labelled, visitor_of),
    )


def with_max_transit(site: SiteConfig, seconds: float) -> SiteConfig:
    links = [link.model_copy(update={"max_transit_s": seconds}) for link in site.topology]
    return site.model_copy(update={"topology": links})


def sweep(site: SiteConfig, tracks: LabelledTracklets, base: StitchSettings) -> None:
    print("| setting | visitors | people merged | people split | global IDF1 |")
    print("|---|---|---|---|---|")
    print(outcome(site, tracks, base).row("base"))
    for seconds in (8, 12, 16, 20, 25, 45, 60):
        print(outcome(with_max_transit(site, seconds), tracks, base).row(f"max_transit_s {seconds}"))
    grid: list[tuple[str, tuple[float, ...]]] = [
        ("min_mean_confidence", (0.0, 0.25, 0.35, 0.45, 0.6, 0.7, 0.75)),
        ("min_similarity", (0.65, 0.7, 0.8, 0.85)),
        ("reentry_min_similarity", (0.8, 0.9, 0.95)),
        ("transit_tolerance_s", (0.0, 0.5, 2.0)),
        ("window_s", (2.0, 10.0)),
    ]
    for name, values in grid:
        for value in values:
            print(outcome(site, tracks, replace(base, **{name: value})).row(f"{name} {value:g}"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--similarity", type=float, help="StitchSettings.min_similarity (default: its default)")
    parser.add_argument("--reentry-similarity", type=float, help="StitchSettings.reentry_min_similarity")
    parser.add_argument("--tolerance", type=float, help="StitchSettings.transit_tolerance_s")
    parser.add_argument("--min-confidence", type=float, help="StitchSettings.min_mean_confidence")
    parser.add_argument("--max-transit", type=float, help="the site's max_transit_s on every link")
    parser.add_argument("--sweep", action="store_true", help="also print one row per changed setting")
    args = parser.parse_args()
    settings = StitchSettings()
    for name, value in (
        ("min_similarity", args.similarity),
        ("reentry_min_similarity", args.reentry_similarity),
        ("transit_tolerance_s", args.tolerance),
        ("min_mean_confidence", args.min_confidence),
    ):
        if value is not None:
            settings = replace(settings, **{name: value})
    site = load_site_config(ROOT / "deploy" / "examples" / "pets09-split.yaml")
    if args.max_transit is not None:
        site = with_max_transit(site, args.max_transit)
    with tempfile.TemporaryDirectory() as state:
        envelopes = run_agent(site, Path(state), START_NS)
    tracks = pipeline_tracks(site, envelopes, MotSequence.load(GT))
    result = outcome(site, tracks, settings)
    labelled = labelled_only(tracks)
    unstitched = global_idf1(labelled, {(t.camera_id, t.track_id): f"t{t.track_id}" for t in labelled.tracklets})
    print(settings)
    print(
        f"{len(tracks.tracklets)} tracks ({len(tracks.tracklets) - len(labelled.tracklets)} on no annotated "
        f"person) of {tracks.identities} people -> {result.visitors} visitors (the demo's number); labelled "
        f"tracks: global IDF1 {result.idf1:.1f} (without stitching {unstitched:.1f}), {result.merged} people "
        f"merged into another's visitor, {result.split} split over several"
    )
    if args.sweep:
        sweep(site, tracks, settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
