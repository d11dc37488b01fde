"""Stitching at scale: a generated 40-camera corridor site, 400 people with known identities.

Each person walks 3-6 consecutive cameras of a chain, staying 5-30 s in view and 3-8 s in
the blind corridor between views (topology: neighbours, 2-10 s). Their ReID vectors share
a common component (real OSNet vectors of different people are far from orthogonal) plus
per-person and per-sighting noise. Scores are link precision/recall against the true
successor of each tracklet and the unique-visitor error; the time per tracklet is printed.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from cloud.stitching.stitcher import Assignment, Stitcher, StitchSettings
from cloud.stitching.tracklet import Tracklet
from shared.config import SiteConfig

NS = 1_000_000_000
CAMERAS = 40
PEOPLE = 400
DIM = 128


def corridor_site() -> SiteConfig:
    return SiteConfig.model_validate(
        {
            "site": {"id": "mall"},
            "floors": [{"id": "f1"}],
            "cameras": [{"id": f"cam-{i:02d}", "source": "/dev/null", "floor": "f1"} for i in range(CAMERAS)],
            "topology": [
                {"a": f"cam-{i:02d}", "b": f"cam-{i + 1:02d}", "min_transit_s": 2, "max_transit_s": 10}
                for i in range(CAMERAS - 1)
            ],
        }
    )


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


def generate(
    seed: int, sighting_noise: float
) -> tuple[list[Tracklet], dict[tuple[str, int], int], set[tuple[tuple[str, int], tuple[str, int]]]]:
    rng = np.random.default_rng(seed)
    common = rng.normal(size=DIM)
    tracklets, identity, true_links = [], {}, set()
    track_id = 0
    for person in range(PEOPLE):
        # Inter-person cosine about 0.5, as between OSNet vectors of different shoppers.
        base = unit(common + rng.normal(size=DIM))
        cam = int(rng.integers(0, CAMERAS - 3))
        step = 1 if rng.random() < 0.5 or cam == 0 else -1
        t = float(rng.uniform(0, 1800))
        previous = None
        for _ in range(int(rng.integers(3, 7))):
            if not 0 <= cam < CAMERAS:
                break
            stay = float(rng.uniform(5, 30))
            track_id += 1
            emb = unit(base + sighting_noise * rng.normal(size=DIM) / np.sqrt(DIM))
            tr = Tracklet(
                "mall",
                f"cam-{cam:02d}",
                track_id,
                int(t * NS),
                int((t + stay) * NS),
                embedding=emb,
                embedding_model="osnet",
            )
            tracklets.append(tr)
            identity[tr.key] = person
            if previous is not None:
                true_links.add((previous, tr.key))
            previous = tr.key
            t += stay + float(rng.uniform(3, 8))
            cam += step
    return tracklets, identity, true_links


# Measured 2026-11-22 (seed 7): noise 0.3 (same-person cosine ~0.92): precision 1.000, recall
# 1.000, 400 visitors; noise 0.45 (~0.83): precision 1.000, recall 0.933, 492 visitors.
@pytest.mark.parametrize(
    ("noise", "min_precision", "min_recall", "max_visitor_error"), [(0.3, 0.99, 0.99, 0.02), (0.45, 0.98, 0.9, 0.3)]
)
def test_corridor_site_at_scale(
    noise: float, min_precision: float, min_recall: float, max_visitor_error: float
) -> None:
    tracklets, _, true_links = generate(7, noise)
    stitcher = Stitcher(corridor_site(), StitchSettings())
    decided: list[Assignment] = []
    started = time.perf_counter()
    for tr in sorted(tracklets, key=lambda t: t.last_seen_ns):
        decided += stitcher.add(tr)
    decided += stitcher.flush()
    per_tracklet_ms = (time.perf_counter() - started) / len(tracklets) * 1000
    assert len(decided) == len(tracklets)
    predicted = {(a.linked_to, (a.camera_id, a.track_id)) for a in decided if a.linked_to is not None}
    precision = len(predicted & true_links) / max(1, len(predicted))
    recall = len(predicted & true_links) / len(true_links)
    visitors = len({a.visitor_id for a in decided})
    print(
        f"noise {noise}: {len(tracklets)} tracklets, link precision {precision:.3f} recall {recall:.3f}, "
        f"visitors {visitors} vs {PEOPLE}, {per_tracklet_ms:.2f} ms per tracklet"
    )
    assert precision >= min_precision and recall >= min_recall
    assert abs(visitors - PEOPLE) / PEOPLE <= max_visitor_error
