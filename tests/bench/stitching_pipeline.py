"""Stitching on the real pipeline: the edge agent's own tracklets over the PETS09 split view.

    .venv/bin/python tests/bench/stitching_pipeline.py [--similarity S] [--reentry-similarity R] [--tolerance T]

`mallflow eval stitching` scores ground-truth tracklets (a perfect tracker); this runs the
real agent (YOLOX-Nano, BoT-SORT, OSNet) over both cameras of deploy/examples/pets09-split.yaml
(about 100 s on 2 cores), labels each closed track with the ground-truth person most of its
boxes overlap (tests/support/pets09_identities.py; tracks overlapping no one are left out),
and scores the real stitcher on them the same way: global IDF1 over the tracks' boxes and
the unique-visitor error, with and without stitching. Also prints the largest number of
people merged into one visitor.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from cloud.evaluation.stitching import evaluate_stitching, stitch  # noqa: E402
from cloud.stitching.stitcher import StitchSettings  # noqa: E402
from edge.evaluation.mot import MotSequence  # noqa: E402
from shared.config import SiteConfig, load_site_config  # noqa: E402
from shared.evaluation.labelled_tracklets import LabelledTracklet, LabelledTracklets  # noqa: E402
from shared.schema import pb, unpack_embedding  # noqa: E402
from tests.support.pets09_identities import run_agent, track_identities  # noqa: E402

START_NS = 1_700_000_000 * 10**9
FPS = 7.0
GT = ROOT.parent / "shared" / "data" / "PETS09-S2L1" / "gt" / "gt.txt"


def labelled_tracks(site: SiteConfig, envelopes: list[pb.Envelope], gt: MotSequence) -> LabelledTracklets:
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
        if person is None or not boxes[key]:
            continue
        vector = None
        if tc.HasField("embedding"):
            raw = unpack_embedding(tc.embedding)
            vector = (raw / np.linalg.norm(raw)).astype(np.float32).tolist()
        tracklets.append(
            LabelledTracklet(
                camera_id=env.camera_id,
                track_id=tc.track_id,
                identity=person,
                first_seen_ns=tc.first_seen_ns,
                last_seen_ns=tc.last_seen_ns,
                floor_id=tc.floor_id or None,
                first_floor=(tc.first_floor_point.x, tc.first_floor_point.y)
                if tc.HasField("first_floor_point")
                else None,
                last_floor=(tc.last_floor_point.x, tc.last_floor_point.y) if tc.HasField("last_floor_point") else None,
                embedding=vector,
                embedding_model=tc.embedding.model_id if vector is not None else None,
                boxes=boxes[key],
            )
        )
    people = len({t.identity for t in tracklets})
    return LabelledTracklets(site_id=site.site.id, fps=FPS, identities=people, tracklets=tracklets)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--similarity", type=float, help="StitchSettings.min_similarity (default: its default)")
    parser.add_argument("--reentry-similarity", type=float, help="StitchSettings.reentry_min_similarity")
    parser.add_argument("--tolerance", type=float, help="StitchSettings.transit_tolerance_s")
    args = parser.parse_args()
    settings = StitchSettings()
    for name, value in (
        ("min_similarity", args.similarity),
        ("reentry_min_similarity", args.reentry_similarity),
        ("transit_tolerance_s", args.tolerance),
    ):
        if value is not None:
            settings = replace(settings, **{name: value})
    site = load_site_config(ROOT / "deploy" / "examples" / "pets09-split.yaml")
    with tempfile.TemporaryDirectory() as state:
        envelopes = run_agent(site, Path(state), START_NS)
    labelled = labelled_tracks(site, envelopes, MotSequence.load(GT))
    report = evaluate_stitching(site, labelled, settings)
    people_of: dict[str, set[int]] = defaultdict(set)
    for t, visitor in zip(labelled.tracklets, _visitors(site, labelled, settings), strict=True):
        people_of[visitor].add(t.identity)
    print(settings)
    print(
        f"{report.tracklets} tracks of {report.identities} people -> {report.visitors} visitors "
        f"(unique-visitor error {report.visitor_error_pct:+.1f} %), global IDF1 {report.global_idf1:.1f} "
        f"(without stitching {report.unstitched_idf1:.1f}), largest visitor holds "
        f"{max(len(p) for p in people_of.values())} people"
    )
    return 0


def _visitors(site: SiteConfig, labelled: LabelledTracklets, settings: StitchSettings) -> list[str]:
    visitor_of = stitch(site, labelled, settings)
    return [visitor_of[(t.camera_id, t.track_id)] for t in labelled.tracklets]


if __name__ == "__main__":
    sys.exit(main())
