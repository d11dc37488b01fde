"""Edge throughput and accuracy on PETS09-S2L1: Mallflow's agent per detector profile vs. a plain loop.

    .venv/bin/python tests/bench/edge_fps.py [--repeats 3] [--profiles pedestrian coco]

Baseline (plain loop): OpenCV decode → the default detector profile → boxmot BoT-SORT with
OSNet on every box of every frame, one thread of control. Mallflow: the edge agent (decode
thread, detection of the next frames overlapped with tracking of the current, ReID scheduled
per track) publishing to an in-process sink, once per profile. Same models, thresholds and
tracker settings otherwise. FPS is the median of repeats measured in this run, the ratio is
against the plain loop of the same run; MOTA/IDF1/HOTA, line count accuracy and zone
person-seconds / visit errors come from one sequential pass of each configuration over the
lines and zones of tests/support/pets09_geometry.py, scored with motmetrics/TrackEval.
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

from edge.agent.agent import AgentSettings, EdgeAgent
from edge.agent.perception import CameraPerception
from edge.agent.video import run_video
from edge.evaluation.mot import MotSequence
from edge.evaluation.sequence import evaluate_sequence, run_sequence
from edge.inference.factory import create_detector, create_embedder, detect_workers_for
from edge.publish import InProcessSink
from edge.sources.base import SourceSpec
from edge.sources.factory import open_source
from shared.assets.datasets import fetch_vtest
from shared.config import SiteConfig, load_site_config
from shared.config.detector import DEFAULT_PRESET, PRESETS

REPO = Path(__file__).resolve().parents[2]
GT = Path(os.environ.get("MALLFLOW_SHARED_DIR", REPO.parent / "shared")) / "data/PETS09-S2L1/gt/gt.txt"


def site_config(video: Path, every_frame_reid: bool, detector: str = DEFAULT_PRESET) -> SiteConfig:
    # The suite's shared lines and zones; run as a script, the repository root is not on the path.
    sys.path.insert(0, str(REPO))
    from tests.support.pets09_geometry import lines_config, zones_config

    os.environ.setdefault("MALLFLOW_DATA_DIR", str(video.parent))
    site = load_site_config(REPO / "deploy/examples/pets09.yaml")
    raw = site.model_dump()
    raw["detector"] = detector
    raw["lines"] = lines_config("cam-main", settle_s=0.25)
    raw["zones"] = zones_config("cam-main", enter_s=0.1)
    if every_frame_reid:
        raw["tracking"]["reid_refresh_frames"] = 1
    return SiteConfig.model_validate(raw)


def plain_loop(site: SiteConfig) -> float:
    """Sequential decode → detect → track; ReID on every box of every frame."""
    camera = site.camera("cam-main")
    source = open_source(SourceSpec(camera.id, camera.source, fps_hint=camera.fps_hint), "opencv")
    perception = CameraPerception.from_config(site, camera.id, source.fps, create_embedder())
    detector = create_detector(profile=site.detector_of(camera.id))
    start = time.perf_counter()
    with source:
        for _ in run_video(source, detector, perception):
            pass
    return 795 / (time.perf_counter() - start)


def agent_fps(site: SiteConfig) -> float:
    # As `mallflow edge run` does: half the cores per model, since they run concurrently.
    threads = max(1, (os.cpu_count() or 2) // 2)
    with tempfile.TemporaryDirectory() as state:
        detector = create_detector(profile=site.detector_of("cam-main"), threads=threads)
        agent = EdgeAgent(
            site,
            ["cam-main"],
            detector,
            create_embedder(threads=threads),
            InProcessSink(lambda envelope: None),
            AgentSettings(edge_id="bench", state_dir=Path(state), detect_workers=detect_workers_for([detector])),
            opener=lambda spec: open_source(spec, "opencv"),
        )
        start = time.perf_counter()
        reports = agent.run()
        return reports[0].frames / (time.perf_counter() - start)


def accuracy(site: SiteConfig, gt: MotSequence) -> str:
    """One sequential pass of the configuration, judged like `mallflow eval sequence`."""
    report = evaluate_sequence(run_sequence(site, "cam-main"), gt, site, "cam-main", gt_fps=7.0)
    t = report.tracking
    person_s, visits = report.zones_person_seconds_error_pct or 0.0, report.zones_visits_error_pct or 0.0
    return (
        f"{t.mota:.1f} | {t.idf1:.1f} | {t.hota:.1f} | {t.id_switches} | {report.count_accuracy:.3f} | "
        f"{person_s:+.1f} % / {visits:+.1f} %"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profiles", nargs="+", choices=sorted(PRESETS), default=[DEFAULT_PRESET, "coco"])
    args = parser.parse_args()
    video = fetch_vtest()
    gt = MotSequence.load(GT)
    baseline_site = site_config(video, True)
    sites = {name: site_config(video, False, name) for name in args.profiles}
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}"
    )
    base_runs: list[float] = []
    agent_runs: dict[str, list[float]] = {name: [] for name in sites}
    for i in range(args.repeats):
        base_runs.append(plain_loop(baseline_site))
        for name, site in sites.items():
            agent_runs[name].append(agent_fps(site))
        agents = ", ".join(f"agent {name} {runs[-1]:5.1f} fps" for name, runs in agent_runs.items())
        print(f"repeat {i + 1}: plain loop {base_runs[-1]:5.1f} fps, {agents}", flush=True)
    base = statistics.median(base_runs)
    print(
        "| configuration | FPS (median) | × plain loop | MOTA | IDF1 | HOTA | ID sw | count acc | zone person-s / visits |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| plain loop, {DEFAULT_PRESET} | {base:.1f} | 1.00 | {accuracy(baseline_site, gt)} |")
    for name, site in sites.items():
        fps = statistics.median(agent_runs[name])
        print(f"| Mallflow agent, {name} | {fps:.1f} | {fps / base:.2f} | {accuracy(site, gt)} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
