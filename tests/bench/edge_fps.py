"""Edge throughput and accuracy on PETS09-S2L1: Mallflow's agent vs. a plain loop.

    .venv/bin/python tests/bench/edge_fps.py [--repeats 3]

Baseline (plain loop): OpenCV decode → YOLOX-Nano → boxmot BoT-SORT with OSNet on every
box of every frame, one thread of control. Mallflow: the edge agent (decode thread,
detection of the next frame overlapped with tracking of the current, ReID scheduled per
track) publishing to an in-process sink. Both use the same models, thresholds and
tracker settings; the only differences are the ReID schedule and the threading. Each
prints FPS (median of repeats, measured in this run) and the ratio; MOTA/IDF1/HOTA come
from one sequential pass of each configuration, scored with motmetrics/TrackEval.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from edge.agent.agent import AgentSettings, EdgeAgent
from edge.agent.perception import CameraPerception
from edge.agent.video import run_video
from edge.evaluation.metrics import TrackingScores, evaluate_tracking
from edge.evaluation.mot import MotSequence
from edge.inference.factory import create_detector, create_embedder
from edge.publish import InProcessSink
from edge.sources.base import SourceSpec
from edge.sources.factory import open_source
from shared.assets.datasets import fetch_vtest
from shared.config import SiteConfig, load_site_config

REPO = Path(__file__).resolve().parents[2]
GT = Path(os.environ.get("MALLFLOW_SHARED_DIR", REPO.parent / "shared")) / "data/PETS09-S2L1/gt/gt.txt"


def site_config(video: Path, every_frame_reid: bool) -> SiteConfig:
    os.environ.setdefault("MALLFLOW_DATA_DIR", str(video.parent))
    site = load_site_config(REPO / "deploy/examples/pets09.yaml")
    raw = site.model_dump()
    if every_frame_reid:
        raw["tracking"]["reid_refresh_frames"] = 1
    return SiteConfig.model_validate(raw)


def plain_loop(site: SiteConfig) -> tuple[float, MotSequence]:
    """Sequential decode → detect → track; ReID on every box of every frame."""
    camera = site.camera("cam-main")
    source = open_source(SourceSpec(camera.id, camera.source, fps_hint=camera.fps_hint), "opencv")
    perception = CameraPerception.from_config(site, camera.id, source.fps, create_embedder())
    rows = []
    start = time.perf_counter()
    with source:
        for step in run_video(source, create_detector(), perception):
            det = step.facts.detections
            for (x1, y1, x2, y2), conf, tid in zip(det.xyxy, det.confidence, det.tracker_id, strict=True):
                rows.append([step.frame.index + 1, tid, x1, y1, x2 - x1, y2 - y1, conf])
    return 795 / (time.perf_counter() - start), MotSequence.from_array(np.array(rows))


def agent_fps(site: SiteConfig) -> float:
    # As `mallflow edge run` does: half the cores per model, since they run concurrently.
    threads = max(1, (os.cpu_count() or 2) // 2)
    with tempfile.TemporaryDirectory() as state:
        agent = EdgeAgent(
            site,
            ["cam-main"],
            create_detector(threads=threads),
            create_embedder(threads=threads),
            InProcessSink(lambda envelope: None),
            AgentSettings(edge_id="bench", state_dir=Path(state)),
            opener=lambda spec: open_source(spec, "opencv"),
        )
        start = time.perf_counter()
        reports = agent.run()
        return reports[0].frames / (time.perf_counter() - start)


def fmt(scores: TrackingScores) -> str:
    return f"MOTA {scores.mota:5.1f}  IDF1 {scores.idf1:5.1f}  HOTA {scores.hota:5.1f}  IDsw {scores.id_switches}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    video = fetch_vtest()
    gt = MotSequence.load(GT)
    baseline_site, mallflow_site = site_config(video, True), site_config(video, False)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}"
    )
    base_runs, ours_runs = [], []
    base_mot = ours_mot = None
    for i in range(args.repeats):
        fps, base_mot = plain_loop(baseline_site)
        base_runs.append(fps)
        ours_runs.append(agent_fps(mallflow_site))
        print(
            f"repeat {i + 1}: plain loop {base_runs[-1]:5.1f} fps, mallflow agent {ours_runs[-1]:5.1f} fps", flush=True
        )
    _, ours_mot = plain_loop(mallflow_site)
    assert base_mot is not None
    base, ours = statistics.median(base_runs), statistics.median(ours_runs)
    print(f"plain loop      {base:5.1f} fps  {fmt(evaluate_tracking(gt, base_mot, 795))}")
    print(f"mallflow agent  {ours:5.1f} fps  {fmt(evaluate_tracking(gt, ours_mot, 795))}")
    print(f"speed-up (median of {args.repeats}): {ours / base:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
