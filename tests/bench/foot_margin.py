"""How far below the soles a detector's boxes reach, on PETS09-S2L1.

    .venv/bin/python tests/bench/foot_margin.py [--detector pedestrian coco] [--canvas 1 2]

Every box the detector finds at the profile's score threshold is matched to the ground
truth (IoU >= 0.5, one box per annotated person, the best); the table gives the distance
from the annotated soles down to the box's bottom edge, as a fraction of the box's
height (positive: the box ends below the soles). The profile's `foot_margin`
(shared/config/detector.py, MODEL_FOOT_MARGIN) is this median at full size, to 0.01, so that foot points stand on
the soles; the top edge's offset is printed beside it to show whether a model pads the whole
body. `--canvas 2` shows the people at half the size (tests/bench/tracker_sweep.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "bench"))

from tracker_sweep import GT, base_site, detect_all  # noqa: E402

from edge.evaluation.metrics import iou_xywh  # noqa: E402
from edge.evaluation.mot import MotSequence  # noqa: E402
from shared.assets.datasets import fetch_vtest  # noqa: E402
from shared.config.detector import PRESETS  # noqa: E402

MATCH_IOU = 0.5


def offsets(detector: str, canvas: float, gt: MotSequence) -> tuple[np.ndarray, np.ndarray]:
    """(bottom, top) offsets of matched boxes from the annotation, fractions of the box height (down is +)."""
    site = base_site(fetch_vtest(), detector)
    threshold = site.detector.score_threshold
    cached = detect_all(site, canvas)
    bottom, top = [], []
    for index, found in enumerate(cached.boxes):
        found = found[found[:, 4] >= threshold]
        truth = gt.select(gt.frame == index + 1)
        if not len(truth) or not len(found):
            continue
        heights = found[:, 3] - found[:, 1]
        iou = iou_xywh(truth.xywh, np.c_[found[:, :2], found[:, 2:4] - found[:, :2]])
        for row, (y, h) in enumerate(truth.xywh[:, [1, 3]]):
            best = int(np.argmax(iou[row]))
            if iou[row, best] >= MATCH_IOU:
                bottom.append((found[best, 3] - (y + h)) / heights[best])
                top.append((found[best, 1] - y) / heights[best])
    return np.asarray(bottom), np.asarray(top)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--detector", nargs="*", choices=sorted(PRESETS), default=sorted(PRESETS))
    parser.add_argument("--canvas", nargs="*", type=float, default=[1.0, 2.0])
    args = parser.parse_args()
    gt = MotSequence.load(GT)
    print("| detector | canvas | matched boxes | bottom below soles: median (p25-p75) | top above head: median |")
    print("|---|---|---|---|---|")
    for detector in args.detector:
        for canvas in args.canvas:
            bottom, top = offsets(detector, canvas, gt)
            p25, p50, p75 = np.percentile(bottom, [25, 50, 75])
            print(
                f"| {detector} | x{canvas:g} | {len(bottom)} | {p50:.3f} ({p25:.3f} to {p75:.3f}) | "
                f"{-np.median(top):.3f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
