"""Tracking scores from the standard libraries: CLEAR MOT and ID metrics from motmetrics, HOTA from TrackEval.

Matching follows the MOTChallenge devkit: a prediction matches a ground-truth box when
their IoU is at least 0.5; HOTA averages over IoU thresholds 0.05..0.95 as TrackEval does.
Ground truth with classes (MOT16/17/20) is prepared as TrackEval prepares it for those
benchmarks: only pedestrians are scored, and a prediction on a distractor (a static person,
a reflection) is neither a hit nor a false positive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import motmetrics as mm
import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment
from trackeval.metrics import HOTA

from edge.evaluation.mot import PEOPLE, MotClass, MotSequence

# People annotated but not scored (TrackEval's distractor classes): a prediction paired with
# one is dropped before scoring. MOT20 adds non-motorised vehicles.
DISTRACTORS = (MotClass.PERSON_ON_VEHICLE, MotClass.STATIC_PERSON, MotClass.DISTRACTOR, MotClass.REFLECTION)
MOT20_DISTRACTORS = (*DISTRACTORS, MotClass.NON_MOT_VEHICLE)

# motmetrics' summary names for the devkit's columns.
_MOTMETRICS = (
    "mota",
    "motp",
    "idf1",
    "idp",
    "idr",
    "recall",
    "precision",
    "num_switches",
    "num_false_positives",
    "num_misses",
    "mostly_tracked",
    "mostly_lost",
    "num_fragmentations",
    "num_unique_objects",
)


@dataclass(frozen=True)
class TrackingScores:
    """Percentages for ratios (as the devkit prints them), plain counts otherwise."""

    mota: float
    motp: float
    idf1: float
    idp: float
    idr: float
    recall: float
    precision: float
    hota: float
    deta: float
    assa: float
    id_switches: int
    false_positives: int
    misses: int
    mostly_tracked: int
    mostly_lost: int
    fragmentations: int
    gt_ids: int
    # Of `false_positives`, those on people the ground truth flags do-not-care (conf 0): the
    # MOT15 devkit counts them against the tracker, later MOTChallenge rules ignore them.
    false_positives_on_do_not_care: int = 0

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def iou_xywh(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    ax2, ay2 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    bx2, by2 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    w = np.clip(np.minimum(ax2[:, None], bx2[None]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    h = np.clip(np.minimum(ay2[:, None], by2[None]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = w * h
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None] - inter
    return np.asarray(inter / np.maximum(union, 1e-12))


def _frames(seq: MotSequence, frame: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    lo, hi = np.searchsorted(seq.frame, [frame, frame + 1])
    return seq.track_id[lo:hi], seq.xywh[lo:hi]


def _clear_and_identity(gt: MotSequence, pred: MotSequence, frames: NDArray[np.int64]) -> mm.MOTAccumulator:
    acc = mm.MOTAccumulator(auto_id=False)
    for f in frames.tolist():
        gt_ids, gt_boxes = _frames(gt, f)
        pr_ids, pr_boxes = _frames(pred, f)
        # motmetrics' own iou_matrix uses np.asfarray, gone in NumPy 2; same rule here.
        dist = 1.0 - iou_xywh(gt_boxes, pr_boxes)
        dist[dist > 0.5] = np.nan
        acc.update(gt_ids.tolist(), pr_ids.tolist(), dist, frameid=f)
    return acc


def _summary(acc: mm.MOTAccumulator) -> dict[str, float]:
    summary = mm.metrics.create().compute(acc, metrics=list(_MOTMETRICS), name="seq")
    return {name: float(summary[name].iloc[0]) for name in _MOTMETRICS}


def _false_positives_on(do_not_care: MotSequence, pred: MotSequence, acc: mm.MOTAccumulator) -> int:
    """False positives that pair one to one with a do-not-care box at the devkit's IoU >= 0.5."""
    if not len(do_not_care):
        return 0
    events = acc.mot_events
    false_positives = events[events["Type"] == "FP"]
    count = 0
    for f, rows in false_positives.groupby(level="FrameId"):
        _, flagged = _frames(do_not_care, int(f))
        if not len(flagged):
            continue
        ids, boxes = _frames(pred, int(f))
        unmatched = boxes[np.isin(ids, rows["HId"].to_numpy(dtype=np.int64))]
        overlap = iou_xywh(flagged, unmatched)
        overlap[overlap < 0.5] = 0.0
        r, c = linear_sum_assignment(overlap, maximize=True)
        count += int(np.count_nonzero(overlap[r, c] > 0))
    return count


def _without_distractor_matches(
    annotated: MotSequence, pred: MotSequence, distractors: tuple[MotClass, ...]
) -> MotSequence:
    """`pred` less the boxes that pair (IoU >= 0.5, one to one over every box annotated in
    their frame, whatever its class or flag) with a distractor."""
    is_distractor = np.isin(annotated.object_class, distractors)
    if not is_distractor.any() or not len(pred):
        return pred
    keep = np.ones(len(pred), dtype=bool)
    eps = np.finfo(np.float64).eps
    for f in np.intersect1d(annotated.frame[is_distractor], pred.frame).tolist():
        lo, hi = np.searchsorted(annotated.frame, [f, f + 1])
        p_lo, p_hi = np.searchsorted(pred.frame, [f, f + 1])
        overlap = iou_xywh(annotated.xywh[lo:hi], pred.xywh[p_lo:p_hi])
        overlap[overlap < 0.5 - eps] = 0.0
        rows, cols = linear_sum_assignment(overlap, maximize=True)
        paired = overlap[rows, cols] > eps
        on_distractor = is_distractor[lo:hi][rows[paired]]
        keep[p_lo + cols[paired][on_distractor]] = False
    return pred.select(keep)


def _hota(gt: MotSequence, pred: MotSequence, frames: NDArray[np.int64]) -> dict[str, Any]:
    """TrackEval's HOTA result for the sequence, fed in TrackEval's per-timestep data layout."""
    gt_index = {int(t): i for i, t in enumerate(np.unique(gt.track_id))}
    pr_index = {int(t): i for i, t in enumerate(np.unique(pred.track_id))}
    gt_ids: list[NDArray[np.int64]] = []
    tracker_ids: list[NDArray[np.int64]] = []
    similarity: list[NDArray[np.float64]] = []
    for f in frames.tolist():
        gt_frame_ids, gt_boxes = _frames(gt, f)
        pr_frame_ids, pr_boxes = _frames(pred, f)
        gt_ids.append(np.array([gt_index[int(t)] for t in gt_frame_ids], dtype=np.int64))
        tracker_ids.append(np.array([pr_index[int(t)] for t in pr_frame_ids], dtype=np.int64))
        similarity.append(iou_xywh(gt_boxes, pr_boxes))
    data = {
        "num_timesteps": len(frames),
        "num_gt_ids": len(gt_index),
        "num_tracker_ids": len(pr_index),
        "num_gt_dets": len(gt),
        "num_tracker_dets": len(pred),
        "gt_ids": gt_ids,
        "tracker_ids": tracker_ids,
        "similarity_scores": similarity,
    }
    res: dict[str, Any] = HOTA().eval_sequence(data)
    return res


@dataclass(frozen=True)
class _Tally:
    """One sequence's matches, kept so that several sequences combine as the benchmark combines them."""

    acc: mm.MOTAccumulator
    hota: dict[str, Any]
    false_positives_on_do_not_care: int


def _tally(gt: MotSequence, pred: MotSequence, num_frames: int | None, mot20: bool) -> _Tally:
    pred = _without_distractor_matches(gt, pred, MOT20_DISTRACTORS if mot20 else DISTRACTORS)
    # The devkit drops ground-truth rows flagged 0 in the confidence column (do-not-care);
    # predictions on them count as false positives, as they do there, and are counted apart
    # so a reader sees how many of the false positives are people the annotators left out.
    do_not_care = gt.select((gt.confidence <= 0) & np.isin(gt.object_class, PEOPLE))
    gt = gt.select((gt.confidence > 0) & (gt.object_class == MotClass.PEDESTRIAN))
    last = num_frames or int(max(gt.frame.max(initial=0), pred.frame.max(initial=0)))
    if last < 1:
        raise ValueError("nothing to evaluate: ground truth and prediction are both empty")
    frames = np.arange(1, last + 1, dtype=np.int64)
    acc = _clear_and_identity(gt, pred, frames)
    return _Tally(acc, _hota(gt, pred, frames), _false_positives_on(do_not_care, pred, acc))


def _scores(clear: dict[str, float], hota: dict[str, Any], on_do_not_care: int) -> TrackingScores:
    def pct(name: str) -> float:
        value = clear[name]
        return 0.0 if np.isnan(value) else value * 100

    def hota_pct(name: str) -> float:
        return float(np.mean(hota[name])) * 100

    return TrackingScores(
        mota=pct("mota"),
        motp=(1 - clear["motp"]) * 100 if not np.isnan(clear["motp"]) else 0.0,
        idf1=pct("idf1"),
        idp=pct("idp"),
        idr=pct("idr"),
        recall=pct("recall"),
        precision=pct("precision"),
        hota=hota_pct("HOTA"),
        deta=hota_pct("DetA"),
        assa=hota_pct("AssA"),
        id_switches=int(clear["num_switches"]),
        false_positives=int(clear["num_false_positives"]),
        misses=int(clear["num_misses"]),
        mostly_tracked=int(clear["mostly_tracked"]),
        mostly_lost=int(clear["mostly_lost"]),
        fragmentations=int(clear["num_fragmentations"]),
        gt_ids=int(clear["num_unique_objects"]),
        false_positives_on_do_not_care=on_do_not_care,
    )


def evaluate_tracking(
    gt: MotSequence, pred: MotSequence, num_frames: int | None = None, *, mot20: bool = False
) -> TrackingScores:
    """Score predicted tracks against ground truth over frames 1..num_frames (default: last GT frame).

    `mot20`: MOT20's rules for classed ground truth (non-motorised vehicles are distractors too).
    """
    tally = _tally(gt, pred, num_frames, mot20)
    return _scores(_summary(tally.acc), tally.hota, tally.false_positives_on_do_not_care)


@dataclass(frozen=True)
class BenchmarkScores:
    """Each sequence's scores and the benchmark's: counts summed over sequences, not scores averaged."""

    sequences: dict[str, TrackingScores]
    combined: TrackingScores


def evaluate_benchmark(
    sequences: Mapping[str, tuple[MotSequence, MotSequence, int | None]], *, mot20: bool = False
) -> BenchmarkScores:
    """Several sequences, each (ground truth, prediction, length or None), combined as MOTChallenge combines them.

    motmetrics' overall row sums the CLEAR and identity counts; TrackEval's HOTA combines its own.
    """
    if not sequences:
        raise ValueError("a benchmark needs at least one sequence")
    tallies = {name: _tally(gt, pred, n, mot20) for name, (gt, pred, n) in sequences.items()}
    names = list(tallies)
    summary = mm.metrics.create().compute_many(
        [t.acc for t in tallies.values()], names=names, metrics=list(_MOTMETRICS), generate_overall=True
    )

    def clear(row: str) -> dict[str, float]:
        return {name: float(summary.loc[row, name]) for name in _MOTMETRICS}

    per_sequence = {name: _scores(clear(name), t.hota, t.false_positives_on_do_not_care) for name, t in tallies.items()}
    combined = _scores(
        clear("OVERALL"),
        HOTA().combine_sequences({name: t.hota for name, t in tallies.items()}),
        sum(t.false_positives_on_do_not_care for t in tallies.values()),
    )
    return BenchmarkScores(per_sequence, combined)
