"""Which trajectories make a line's count differ from the ground truth's.

Predicted and reference crossings of one line and direction are paired by time (one
assignment, within a window); whatever stays unpaired is a difference, and each is
named by the trajectory behind it: for an extra crossing the predicted track and the
ground-truth person its box covers then (none: a detection of someone or something the
ground truth does not annotate), for a missed one the person and whether any predicted
box covered them then (no: the detector missed them; yes: their track broke or
switched identity at the line).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from scipy.optimize import linear_sum_assignment

from edge.analytics.events import Direction
from edge.evaluation.metrics import iou_xywh
from edge.evaluation.mot import MotSequence
from edge.evaluation.reference_counts import WalkedFrames, debounced_crossings, walked_paths
from edge.evaluation.sequence import SequenceRun
from shared.config.site import Camera, Line

# A box stands for a person at this overlap when naming who was behind a difference.
COVER_IOU = 0.3


class Cause(StrEnum):
    UNANNOTATED = "extra: a track on no annotated person"
    WRONG_PERSON = "extra: a track on a person who did not cross then"
    UNDETECTED = "missed: no predicted box on the person"
    TRACK_BROKEN = "missed: the person was tracked, the track did not settle across"


@dataclass(frozen=True)
class CountDifference:
    line_id: str
    direction: Direction
    frame: int
    cause: Cause
    track_id: int | None
    person: int | None


def _best_cover(boxes: MotSequence, frame: int, xywh: np.ndarray) -> tuple[int | None, float]:
    rows = boxes.select(boxes.frame == frame)
    if not len(rows):
        return None, 0.0
    iou = iou_xywh(xywh.reshape(1, 4), rows.xywh)[0]
    best = int(np.argmax(iou))
    return int(rows.track_id[best]), float(iou[best])


def count_differences(
    run: SequenceRun, gt: MotSequence, line: Line, fps: float, window_s: float = 2.0, camera: Camera | None = None
) -> list[CountDifference]:
    """The unpaired crossings of `line` between `run` and the ground truth's walked paths (in `camera`'s coverage)."""
    annotated = walked_paths(gt, camera)
    reference = debounced_crossings(WalkedFrames.of(annotated, run.frames), line, fps)
    window = window_s * fps
    out = []
    for direction in Direction:
        pred = [(f, tid) for f, ln, d, tid in run.crossings if ln == line.id and d is direction]
        ref = [c for c in reference if c.direction is direction]
        cost = np.zeros((len(pred), len(ref)), dtype=np.float64)
        for i, (frame, _) in enumerate(pred):
            cost[i] = [abs(frame - c.frame) for c in ref]
        paired_p: set[int] = set()
        paired_r: set[int] = set()
        if cost.size:
            rows, cols = linear_sum_assignment(np.where(cost <= window, cost, 1e9))
            for r, c in zip(rows, cols, strict=True):
                if cost[r, c] <= window:
                    paired_p.add(int(r))
                    paired_r.add(int(c))
        for i, (frame, track_id) in enumerate(pred):
            if i in paired_p:
                continue
            own = run.mot.select((run.mot.frame == frame) & (run.mot.track_id == track_id))
            person, iou = _best_cover(annotated, frame, own.xywh[0]) if len(own) else (None, 0.0)
            cause = Cause.WRONG_PERSON if iou >= COVER_IOU else Cause.UNANNOTATED
            out.append(
                CountDifference(line.id, direction, frame, cause, track_id, person if iou >= COVER_IOU else None)
            )
        for j, crossing in enumerate(ref):
            if j in paired_r:
                continue
            own = annotated.select((annotated.frame == crossing.frame) & (annotated.track_id == crossing.track_id))
            track, iou = _best_cover(run.mot, crossing.frame, own.xywh[0]) if len(own) else (None, 0.0)
            cause = Cause.TRACK_BROKEN if iou >= COVER_IOU else Cause.UNDETECTED
            out.append(
                CountDifference(
                    line.id, direction, crossing.frame, cause, track if iou >= COVER_IOU else None, crossing.track_id
                )
            )
    return sorted(out, key=lambda d: (d.frame, d.direction))
