"""`edge run` on a camera faster than the tracker's association rate: carried frames undetected vs every frame detected.

    .venv/bin/python tests/bench/carried_frames.py [--rate-up 4] [--repeats 2]

PETS09 motion-interpolated to 28 fps (tests/bench/frame_rate_up.py, made once under the cache)
through the edge agent with the example site's settings. Baseline: the same agent detecting
every frame, as it did before it followed the tracker's pace (`tracking.max_association_fps`);
the tracker associates the same frames either way, so both publish the same events, which
this checks. Runs alternate; FPS is the median of repeats, the ratio against the baseline of
the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "bench"))

from frame_rate_up import SOURCE_FPS, rate_up  # noqa: E402

from edge.agent.agent import AgentSettings, EdgeAgent, _TakenFrame  # noqa: E402
from edge.inference.base import Detector, Embedder  # noqa: E402
from edge.inference.factory import create_detector, create_embedder, detect_workers_for  # noqa: E402
from edge.publish import InProcessSink  # noqa: E402
from edge.sources.factory import open_source  # noqa: E402
from shared.config import SiteConfig, load_site_config  # noqa: E402
from shared.paths import cache_dir  # noqa: E402
from shared.schema import pb  # noqa: E402


class DetectsEveryFrame(EdgeAgent):
    """The baseline: every frame detected, the tracker skipping the boxes of those it carries."""

    def _take_frames(self) -> list[_TakenFrame]:
        return [(cam, frame, True) for cam, frame, _ in super()._take_frames()]


def site_config(video: Path, fps: float) -> SiteConfig:
    raw = load_site_config(ROOT / "deploy/examples/pets09.yaml").model_dump()
    raw["cameras"][0] |= {"source": str(video), "fps_hint": fps}
    return SiteConfig.model_validate(raw)


def run(agent_type: type[EdgeAgent], site: SiteConfig, detector: Detector, embedder: Embedder) -> tuple[float, Counter]:
    """(frames a second, events published by kind but camera status)."""
    kinds: Counter[str] = Counter()

    def count(envelope: pb.Envelope) -> None:
        kinds[envelope.WhichOneof("payload")] += 1

    with tempfile.TemporaryDirectory() as state:
        agent = agent_type(
            site,
            ["cam-main"],
            detector,
            embedder,
            InProcessSink(count),
            AgentSettings(edge_id="bench", state_dir=Path(state), detect_workers=detect_workers_for([detector])),
            opener=lambda spec: open_source(spec, "opencv"),
        )
        start = time.perf_counter()
        reports = agent.run()
        elapsed = time.perf_counter() - start
    del kinds["camera_status"]
    return reports[0].frames / elapsed, kinds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate-up", type=int, default=4, help="PETS09 at N times its 7 fps (default 4: 28 fps)")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    if args.rate_up < 2 or args.repeats < 1:
        parser.error("--rate-up must be >= 2 and --repeats >= 1")
    video, _ = rate_up(args.rate_up, cache_dir() / "bench" / f"pets09-x{args.rate_up}")
    site = site_config(video, SOURCE_FPS * args.rate_up)
    # As `mallflow edge run` does: half the cores per model, since they run concurrently.
    threads = max(1, (os.cpu_count() or 2) // 2)
    detector = create_detector(profile=site.detector_of("cam-main"), threads=threads)
    embedder = create_embedder(threads=threads)
    print(f"{video} at {SOURCE_FPS * args.rate_up:g} fps, max_association_fps {site.tracking.max_association_fps}")
    fps: dict[str, list[float]] = {"every frame detected": [], "carried frames undetected": []}
    events: dict[str, Counter] = {}
    for i in range(args.repeats):
        for name, agent_type in zip(fps, (DetectsEveryFrame, EdgeAgent), strict=True):
            rate, events[name] = run(agent_type, site, detector, embedder)
            fps[name].append(rate)
            print(f"repeat {i + 1}: {name} {rate:.1f} fps, events {dict(sorted(events[name].items()))}", flush=True)
    base = statistics.median(fps["every frame detected"])
    print("| agent | FPS (median) | × baseline |")
    print("|---|---|---|")
    for name, runs in fps.items():
        print(f"| {name} | {statistics.median(runs):.1f} | {statistics.median(runs) / base:.2f} |")
    same = events["every frame detected"] == events["carried frames undetected"]
    print("same events published" if same else "EVENTS DIFFER")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
