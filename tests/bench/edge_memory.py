"""Peak memory of the edge agent per camera.

    .venv/bin/python tests/bench/edge_memory.py [--cameras 1 2 4] [--frames 150] [--repeats 3]

Each measurement is a fresh process that runs the real agent (detector, BoT-SORT with
scheduled OSNet, analytics, publisher into an in-process sink) over N cameras, each
playing the first `--frames` frames of vtest.avi, and reports its peak resident set
(getrusage ru_maxrss). Baseline, measured in the same run the same way: a process that
imports what the agent imports (boxmot brings torch), loads the same models and runs one
inference of each, with no camera. Per camera = (peak − baseline) / N, and the marginal
cost of one more camera between the smallest and largest N; medians over repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

VTEST = Path.home() / ".cache" / "mallflow" / "data" / "vtest.avi"


def _clip(frames: int, directory: Path) -> Path:
    import cv2

    out = directory / f"vtest-{frames}.avi"
    cap = cv2.VideoCapture(str(VTEST))
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), 7.0, (768, 576))
    for _ in range(frames):
        ok, frame = cap.read()
        if not ok:
            break
        writer.write(frame)
    writer.release()
    cap.release()
    return out


def child(cameras: int, clip: Path) -> None:
    from edge.inference.factory import create_detector, create_embedder

    detector, embedder = create_detector(threads=1), create_embedder(threads=1)
    if cameras == 0:
        # Everything the agent imports (boxmot brings torch), without a camera.
        import edge.agent.agent  # noqa: F401

        detector.detect([np.zeros((576, 768, 3), np.uint8)])
        embedder.embed(np.zeros((576, 768, 3), np.uint8), np.array([[10, 10, 60, 160]], np.float32))
    else:
        from edge.agent.agent import AgentSettings, EdgeAgent
        from edge.publish.memory_sink import InProcessSink
        from edge.sources.factory import open_source
        from shared.config import SiteConfig

        site = SiteConfig.model_validate(
            {
                "site": {"id": "bench"},
                "floors": [{"id": "f"}],
                "cameras": [
                    {"id": f"cam-{i}", "source": str(clip), "floor": "f", "fps_hint": 7} for i in range(cameras)
                ],
                "lines": [
                    {"id": f"line-{i}", "camera": f"cam-{i}", "points": [[400, 576], [400, 150]]}
                    for i in range(cameras)
                ],
            }
        )
        with tempfile.TemporaryDirectory() as state:
            EdgeAgent(
                site,
                [c.id for c in site.cameras],
                detector,
                embedder,
                InProcessSink(lambda env: None),
                AgentSettings(edge_id="bench", state_dir=Path(state)),
                opener=lambda spec: open_source(spec, "opencv"),
            ).run()
    # Linux reports kilobytes.
    print(json.dumps({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def measure(cameras: int, clip: Path) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(cameras), "--clip", str(clip)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(json.loads(out.strip().splitlines()[-1])["peak_mb"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cameras", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--clip", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.clip)
        return
    with tempfile.TemporaryDirectory() as tmp:
        clip = _clip(args.frames, Path(tmp))
        peaks: dict[int, list[float]] = {n: [] for n in [0, *args.cameras]}
        for _ in range(args.repeats):
            for n in peaks:
                peaks[n].append(measure(n, clip))
                print(f"  {n} camera(s): {peaks[n][-1]:.0f} MB", flush=True)
    base = statistics.median(peaks[0])
    low, high = min(args.cameras), max(args.cameras)
    print(f"\ncpu cores: {os.cpu_count()}; {args.frames} frames per camera; medians of {args.repeats}")
    print("\n| cameras | peak RSS MB | over baseline MB | per camera MB | peak / baseline |\n|---|---|---|---|---|")
    for n, values in peaks.items():
        peak = statistics.median(values)
        per = f"{(peak - base) / n:.0f}" if n else "-"
        label = "baseline (models loaded, one inference)" if n == 0 else str(n)
        print(f"| {label} | {peak:.0f} | {peak - base:.0f} | {per} | {peak / base:.2f}× |")
    if high > low:
        marginal = (statistics.median(peaks[high]) - statistics.median(peaks[low])) / (high - low)
        print(f"\none more camera (between {low} and {high}): {marginal:.0f} MB")


if __name__ == "__main__":
    main()
