"""Gallery false matches on PETS09: how many other people match an enrolled person, per threshold.

    source deploy/local/env.sh
    .venv/bin/python tests/bench/gallery_matches.py [--json FILE]

Scores are what the matcher computes (cloud/galleries/vectors.py): a visit's aggregated
embedding against an entry's vectors (the best of them and of their mean). Two
populations of the split-view site (deploy/examples/pets09-split.yaml), both with
ground-truth identities:

* ground-truth tracklets (`mallflow eval gt-tracklets`: the ground truth's boxes cut per
  camera, OSNet vectors of their crops): each person is enrolled from their first visit
  (first two sightings); probes are every two consecutive sightings of each person. A
  probe of someone else that matches is a false match; a later probe of the enrolled
  person that matches is a true re-sighting (they come back). The matching rule alone.
* the pipeline: the real edge agent and the cloud's stitching; each person stitching kept
  in one visitor seen at least twice is enrolled from it, and every other visitor with two
  sightings or more is a probe. End to end, stitching errors included.

Reported for a range of thresholds; 0.8 is stitching's own threshold, the reference.

Also the cost of matching one visit against a large gallery (500 entries of 16 vectors,
a big mall's staff): the matcher's EntryIndex against scoring entry by entry with the
reference function, in the same run (`--scale-only` runs just that).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import yaml
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, as pytest's pythonpath has it

from support.pets09_identities import run_agent, track_identities

from cloud.galleries.vectors import EntryIndex, aggregate, decode, similarity
from cloud.hooks import batch_hooks
from cloud.ingest.applier import EventApplier
from cloud.ingest.registry import SiteRegistry
from cloud.storage import create_db_engine, session_factory, upgrade
from cloud.storage.models import Tracklet
from cloud.storage.sites import sync_sites
from edge.evaluation.gt_tracklets import label_tracklets
from edge.evaluation.mot import MotSequence
from edge.inference.factory import create_embedder
from shared.assets.datasets import fetch_vtest
from shared.config import SiteConfig, parse_site_config

REPO = Path(__file__).resolve().parents[2]
THRESHOLDS = (0.8, 0.85, 0.88, 0.9, 0.92, 0.94, 0.96)
FPS = 7.0
Scores = tuple[dict[int, list[float]], list[float]]


def split_site() -> SiteConfig:
    raw = yaml.safe_load((REPO / "deploy/examples/pets09-split.yaml").read_text())
    video = fetch_vtest()
    for camera in raw["cameras"]:
        camera["source"] = str(video)
    return parse_site_config(raw)


def gt_tracklet_scores(site: SiteConfig, gt: MotSequence) -> Scores:
    labelled = label_tracklets(site, gt, fetch_vtest(), create_embedder(threads=1), fps=FPS)
    sightings: dict[int, list[np.ndarray]] = defaultdict(list)
    for t in sorted(labelled.tracklets, key=lambda t: t.first_seen_ns):
        if t.embedding is not None:
            sightings[t.identity].append(np.asarray(t.embedding, dtype=np.float32))
    visits = {p: [aggregate(vs[i : i + 2]) for i in range(len(vs) - 1)] for p, vs in sightings.items() if len(vs) > 1}
    false_scores: dict[int, list[float]] = defaultdict(list)
    true_scores: list[float] = []
    for person, vs in sightings.items():
        if len(vs) < 2:
            continue
        entry = np.stack(vs[:2])
        for other, probes in visits.items():
            # The enrolled visit itself, and probes sharing its sightings, are no re-sighting.
            for probe in probes[2:] if other == person else probes:
                (true_scores if other == person else false_scores[person]).append(similarity(probe, entry))
    return false_scores, true_scores


def pipeline_scores(site: SiteConfig, gt: MotSequence, tmp: Path) -> Scores:
    start_ns = time.time_ns() // 3_600_000_000_000 * 3_600_000_000_000
    envelopes = run_agent(site, tmp / "edge", start_ns)
    identities = track_identities(site, envelopes, gt, start_ns, FPS)
    url = f"sqlite:///{tmp / 'bench.db'}"
    upgrade(url)
    registry = SiteRegistry([site])
    applier, hooks = EventApplier(registry), batch_hooks(registry)
    people: dict[str, set[int | None]] = defaultdict(set)
    vectors: dict[str, list[np.ndarray]] = defaultdict(list)
    with session_factory(create_db_engine(url))() as session:
        sync_sites(session, [site])
        for i in range(0, len(envelopes), 100):
            result = applier.apply(session, envelopes[i : i + 100])
            for hook in hooks:
                hook(session, result)
            session.commit()
        for t in session.scalars(select(Tracklet)):
            if t.visitor_id is None:
                continue
            people[t.visitor_id].add(identities.get((t.camera_id, t.track_id)))
            vector = decode(t.embedding) if t.embedding else None
            if vector is not None:
                vectors[t.visitor_id].append(vector)
    probes = {v: aggregate(vs) for v, vs in vectors.items() if len(vs) >= 2}
    pure: dict[int, list[str]] = defaultdict(list)
    for v, who in people.items():
        person = next(iter(who)) if len(who) == 1 else None
        if person is not None and len(vectors[v]) >= 2:
            pure[person].append(v)
    false_scores: dict[int, list[float]] = defaultdict(list)
    true_scores: list[float] = []
    for person, visitors in sorted(pure.items()):
        # Whole: no visitor mixing them with others; enrolled from their longest visit.
        if any(person in who and len(who) > 1 for who in people.values()):
            continue
        enrolled = max(visitors, key=lambda v: len(vectors[v]))
        entry = np.stack(vectors[enrolled])
        for other, probe in probes.items():
            if other != enrolled:
                score = similarity(probe, entry)
                (true_scores if people[other] == {person} else false_scores[person]).append(score)
    return false_scores, true_scores


def table(name: str, scores: Scores) -> dict[str, object]:
    false_scores, true_scores = scores
    pairs = [s for person in false_scores.values() for s in person]
    rows = []
    for threshold in THRESHOLDS:
        confused = {p: sum(s >= threshold for s in person) for p, person in false_scores.items()}
        rows.append(
            {
                "threshold": threshold,
                "false_match_rate": float(np.mean([s >= threshold for s in pairs])) if pairs else 0.0,
                "enrolled_with_a_false_match": sum(1 for n in confused.values() if n),
                "mean_others_matched": float(np.mean(list(confused.values()))) if confused else 0.0,
                "true_match_rate": float(np.mean([s >= threshold for s in true_scores])) if true_scores else None,
            }
        )
    print(
        f"\n{name}: {len(false_scores)} people enrolled, {len(pairs)} probes of others, "
        f"{len(true_scores)} re-sightings of the enrolled"
    )
    print(
        f"{'threshold':>9} {'false-match rate':>16} {'enrolled confused':>17} {'others/enrolled':>15} {'true-match':>10}"
    )
    for r in rows:
        true = "–" if r["true_match_rate"] is None else f"{r['true_match_rate']:.2f}"
        confused_of = f"{r['enrolled_with_a_false_match']}/{len(false_scores)}"
        print(
            f"{r['threshold']:>9.2f} {r['false_match_rate']:>16.3f} {confused_of:>17} "
            f"{r['mean_others_matched']:>15.2f} {true:>10}"
        )
    return {"people_enrolled": len(false_scores), "probes": len(pairs), "resightings": len(true_scores), "rows": rows}


def matching_cost(entries: int = 500, vectors: int = 16, probes: int = 200, dim: int = 512) -> dict[str, float]:
    rng = np.random.default_rng(0)

    def units(n: int) -> np.ndarray:
        v = rng.normal(size=(n, dim)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    gallery = [units(vectors) for _ in range(entries)]
    visits = units(probes)
    index = EntryIndex(gallery)
    started = time.perf_counter()
    for probe in visits:
        index.scores(probe)
    indexed = (time.perf_counter() - started) / probes
    started = time.perf_counter()
    for probe in visits:
        [similarity(probe, e) for e in gallery]
    looped = (time.perf_counter() - started) / probes
    print(
        f"matching one visit against {entries} entries x {vectors} vectors ({dim}-d): "
        f"index {indexed * 1e3:.2f} ms, entry by entry {looped * 1e3:.2f} ms, {looped / indexed:.1f}x"
    )
    return {"index_ms": indexed * 1e3, "loop_ms": looped * 1e3, "ratio": looped / indexed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    parser.add_argument(
        "--gt",
        type=Path,
        default=Path(os.environ.get("MALLFLOW_SHARED_DIR", REPO.parent / "shared")) / "data/PETS09-S2L1/gt/gt.txt",
        help="PETS09-S2L1 ground truth (MOT format)",
    )
    parser.add_argument("--scale-only", action="store_true", help="only the matching cost on a large gallery")
    args = parser.parse_args()
    cost = matching_cost()
    if args.scale_only:
        return 0
    site = split_site()
    gt = MotSequence.load(args.gt)
    report: dict[str, object] = {"matching_cost": cost}
    report["gt_tracklets"] = table("ground-truth tracklets", gt_tracklet_scores(site, gt))
    with tempfile.TemporaryDirectory() as tmp:
        report["pipeline"] = table("pipeline (edge agent + stitching)", pipeline_scores(site, gt, Path(tmp)))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
