"""Our motmetrics/TrackEval wrapper reproduces the official MOTChallenge devkit's scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge.evaluation.metrics import evaluate_tracking
from edge.evaluation.mot import MotSequence

SEQUENCES = [
    "ADL-Rundle-6",
    "ADL-Rundle-8",
    "ETH-Bahnhof",
    "ETH-Pedcross2",
    "ETH-Sunnyday",
    "KITTI-13",
    "KITTI-17",
    "PETS09-S2L1",
    "TUD-Campus",
    "TUD-Stadtmitte",
    "Venice-2",
]
# Devkit columns: IDF1 IDP IDR Rcll Prcn FAR GT MT PT ML FP FN IDs FM MOTA MOTP MOTAL
COLUMNS = {"idf1": 0, "idp": 1, "idr": 2, "recall": 3, "precision": 4, "mota": 14, "motp": 15}
# Mostly tracked/lost are left out: motmetrics and the devkit round the 80 % rule differently.
COUNTS = {"false_positives": 10, "misses": 11}


@pytest.mark.parametrize("sequence", SEQUENCES)
def test_matches_devkit(metric_fixture: Path, sequence: str) -> None:
    gt = MotSequence.load(metric_fixture / "gt" / sequence / "gt.txt")
    pred = MotSequence.load(metric_fixture / "tracker" / f"{sequence}.txt")
    devkit = np.loadtxt(metric_fixture / "tracker" / f"eval_{sequence}.txt", delimiter=",")
    scores = evaluate_tracking(gt, pred)
    for name, col in COLUMNS.items():
        assert getattr(scores, name) == pytest.approx(devkit[col], abs=0.1), name
    for name, col in COUNTS.items():
        assert getattr(scores, name) == int(devkit[col]), name
    # motmetrics and the devkit break ties between equal-cost matches differently.
    assert abs(scores.id_switches - int(devkit[12])) <= 1
    assert 0 < scores.hota <= 100


def test_rejects_empty_input() -> None:
    with pytest.raises(ValueError, match="nothing to evaluate"):
        evaluate_tracking(MotSequence.from_array(np.zeros((0, 10))), MotSequence.from_array(np.zeros((0, 10))))


def test_perfect_tracking_scores_100() -> None:
    rows = np.array([[f, i, 10 * i, 10, 8, 20, 1, -1, -1, -1] for f in range(1, 6) for i in (1, 2)], dtype=float)
    scores = evaluate_tracking(MotSequence.from_array(rows), MotSequence.from_array(rows))
    assert (scores.mota, scores.idf1, scores.id_switches) == (100.0, 100.0, 0)
    assert scores.hota == pytest.approx(100.0)


def _rows(*boxes: tuple[int, int, float, float]) -> MotSequence:
    """(frame, id, x, conf) people of a fixed 8x20 size at y = 10."""
    return MotSequence.from_array(
        np.array([[f, i, x, 10, 8, 20, conf, -1, -1, -1] for f, i, x, conf in boxes], dtype=float)
    )


# One scored person (id 1 at x=0) and one the annotators flagged do-not-care (id 2 at x=100).
GT_WITH_DO_NOT_CARE = [(f, 1, 0, 1.0) for f in (1, 2)] + [(f, 2, 100, 0.0) for f in (1, 2)]


@pytest.mark.parametrize(
    ("pred", "false_positives", "on_do_not_care"),
    [
        ([(f, 7, 0, 1.0) for f in (1, 2)], 0, 0),
        ([(f, 7, 0, 1.0) for f in (1, 2)] + [(f, 8, 100, 1.0) for f in (1, 2)], 2, 2),
        ([(f, 7, 0, 1.0) for f in (1, 2)] + [(1, 8, 100, 1.0)], 1, 1),
        # IoU 0.33 with the flagged box: a plain false positive.
        ([(f, 7, 0, 1.0) for f in (1, 2)] + [(f, 8, 104, 1.0) for f in (1, 2)], 2, 0),
        ([(f, 8, 50, 1.0) for f in (1, 2)], 2, 0),
    ],
)
def test_counts_false_positives_on_do_not_care_people_apart(
    pred: list[tuple[int, int, float, float]], false_positives: int, on_do_not_care: int
) -> None:
    scores = evaluate_tracking(_rows(*GT_WITH_DO_NOT_CARE), _rows(*pred))
    assert (scores.false_positives, scores.false_positives_on_do_not_care) == (false_positives, on_do_not_care)


def test_do_not_care_false_positives_on_the_fixture_are_a_part_of_all(metric_fixture: Path) -> None:
    sequence = "PETS09-S2L1"
    gt = MotSequence.load(metric_fixture / "gt" / sequence / "gt.txt")
    scores = evaluate_tracking(gt, MotSequence.load(metric_fixture / "tracker" / f"{sequence}.txt"))
    assert 0 < scores.false_positives_on_do_not_care <= min(scores.false_positives, int((gt.confidence <= 0).sum()))
