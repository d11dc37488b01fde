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
