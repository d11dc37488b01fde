"""MOT16/17/20 ground truth (nine columns, with classes) is scored as TrackEval scores those benchmarks.

The reference is TrackEval's own MotChallenge2DBox dataset and evaluator run on the same
files: only pedestrians are scored, a prediction on a distractor (a static person, a
reflection; in MOT20 a non-motorised vehicle too) is dropped, one on a car is a false
positive. A split of several sequences combines as TrackEval combines it (`eval benchmark`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edge.evaluation.metrics import TrackingScores, evaluate_benchmark, evaluate_tracking
from edge.evaluation.mot import MotClass, MotSequence
from edge.evaluation.reference_counts import walked_paths
from shared.cli.main import main

FRAMES = 40
# (class, consider flag) of the objects in the scene: the first three walk and are scored.
OBJECTS = [
    (MotClass.PEDESTRIAN, 1),
    (MotClass.PEDESTRIAN, 1),
    (MotClass.PEDESTRIAN, 1),
    (MotClass.PEDESTRIAN, 0),
    (MotClass.STATIC_PERSON, 0),
    (MotClass.STATIC_PERSON, 1),
    (MotClass.PERSON_ON_VEHICLE, 0),
    (MotClass.REFLECTION, 0),
    (MotClass.DISTRACTOR, 0),
    (MotClass.NON_MOT_VEHICLE, 0),
    (MotClass.CAR, 0),
    (MotClass.OCCLUDER, 0),
]


def _scene(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(nine-column ground truth, ten-column predictions) of one random scene.

    The tracker follows every object, people or not, with jitter, dropouts, one identity
    swap and a false alarm; some objects stand close enough for a box to overlap two.
    """
    rng = np.random.default_rng(seed)
    gt, pred = [], []
    start = rng.uniform([0, 0], [600, 300], size=(len(OBJECTS), 2))
    step = rng.normal(0, 4, size=(len(OBJECTS), 2))
    step[4:6] = 0.0  # static people stand still
    size = rng.uniform([30, 70], [60, 160], size=(len(OBJECTS), 2))
    swap_at = int(rng.integers(10, 30))
    for f in range(1, FRAMES + 1):
        for i, (cls, flag) in enumerate(OBJECTS):
            x, y = start[i] + step[i] * f
            w, h = size[i]
            gt.append([f, i + 1, x, y, w, h, flag, int(cls), rng.uniform(0.2, 1.0)])
            if rng.random() < 0.1:
                continue  # missed
            track = i + 1
            if i in (0, 1) and f >= swap_at:
                track = 2 - i  # objects 1 and 2 swap identities
            jitter = rng.normal(0, 0.08, size=4) * [w, h, w, h]
            pred.append([f, track + 100, x + jitter[0], y + jitter[1], w + jitter[2], h + jitter[3], 1, -1, -1, -1])
        if rng.random() < 0.3:
            pred.append([f, 999, *rng.uniform([0, 0, 20, 50], [700, 400, 60, 150]), 1, -1, -1, -1])
    # A box between the first scored walker and the static person: the pairing decides.
    for f in range(1, FRAMES + 1):
        a, b = start[0] + step[0] * f, start[5]
        pred.append([f, 500, *((a + b) / 2), *size[0], 1, -1, -1, -1])
    return np.array(gt), np.array(pred)


def _trackeval(
    sequences: dict[str, tuple[np.ndarray, np.ndarray]], benchmark: str, tmp: Path
) -> dict[str, dict[str, float]]:
    """TrackEval's scores of each sequence and of all together (COMBINED_SEQ)."""
    import trackeval

    for name, (gt, pred) in sequences.items():
        (tmp / "gt" / name / "gt").mkdir(parents=True)
        (tmp / "trackers" / "ours" / "data").mkdir(parents=True, exist_ok=True)
        np.savetxt(tmp / "gt" / name / "gt" / "gt.txt", gt, delimiter=",", fmt="%.4f")
        np.savetxt(tmp / "trackers" / "ours" / "data" / f"{name}.txt", pred, delimiter=",", fmt="%.4f")
    dataset = trackeval.datasets.MotChallenge2DBox(
        {
            "GT_FOLDER": str(tmp / "gt"),
            "TRACKERS_FOLDER": str(tmp / "trackers"),
            "OUTPUT_FOLDER": str(tmp / "out"),
            "BENCHMARK": benchmark,
            "SKIP_SPLIT_FOL": True,
            "SEQ_INFO": dict.fromkeys(sequences, FRAMES),
            "PRINT_CONFIG": False,
        }
    )
    evaluator = trackeval.Evaluator(
        {
            "PRINT_RESULTS": False,
            "PRINT_CONFIG": False,
            "TIME_PROGRESS": False,
            "OUTPUT_SUMMARY": False,
            "OUTPUT_DETAILED": False,
            "PLOT_CURVES": False,
            "LOG_ON_ERROR": None,
        }
    )
    metrics = [trackeval.metrics.HOTA(), trackeval.metrics.CLEAR(), trackeval.metrics.Identity()]
    results, _ = evaluator.evaluate([dataset], metrics)
    out = {}
    for name, by_class in results["MotChallenge2DBox"]["ours"].items():
        seq = by_class["pedestrian"]
        out[name] = {
            "mota": seq["CLEAR"]["MOTA"] * 100,
            "idf1": seq["Identity"]["IDF1"] * 100,
            "hota": float(np.mean(seq["HOTA"]["HOTA"])) * 100,
            "false_positives": seq["CLEAR"]["CLR_FP"],
            "misses": seq["CLEAR"]["CLR_FN"],
            "id_switches": seq["CLEAR"]["IDSW"],
        }
    return out


def _ours(scores: TrackingScores) -> dict[str, float]:
    return {
        "mota": scores.mota,
        "idf1": scores.idf1,
        "hota": scores.hota,
        "false_positives": scores.false_positives,
        "misses": scores.misses,
        "id_switches": scores.id_switches,
    }


def _assert_agree(ours: dict[str, float], theirs: dict[str, float]) -> None:
    for name in ("mota", "idf1", "hota"):
        assert ours[name] == pytest.approx(theirs[name], abs=0.05), (name, ours, theirs)
    for name in ("false_positives", "misses", "id_switches"):
        assert ours[name] == theirs[name], (name, ours, theirs)


@pytest.mark.parametrize("benchmark", ["MOT17", "MOT20"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scores_match_trackeval(seed: int, benchmark: str, tmp_path: Path) -> None:
    gt, pred = _scene(seed)
    theirs = _trackeval({"SEQ": (gt, pred)}, benchmark, tmp_path)["SEQ"]
    ours = evaluate_tracking(
        MotSequence.from_array(gt, classed=True), MotSequence.from_array(pred), FRAMES, mot20=benchmark == "MOT20"
    )
    _assert_agree(_ours(ours), theirs)


@pytest.mark.parametrize("benchmark", ["MOT17", "MOT20"])
def test_a_benchmark_combines_its_sequences_as_trackeval(benchmark: str, tmp_path: Path) -> None:
    scenes = {f"SEQ-{seed}": _scene(seed) for seed in (3, 4, 5)}
    theirs = _trackeval(scenes, benchmark, tmp_path)
    ours = evaluate_benchmark(
        {
            name: (MotSequence.from_array(gt, classed=True), MotSequence.from_array(pred), FRAMES)
            for name, (gt, pred) in scenes.items()
        },
        mot20=benchmark == "MOT20",
    )
    for name in scenes:
        _assert_agree(_ours(ours.sequences[name]), theirs[name])
    _assert_agree(_ours(ours.combined), theirs["COMBINED_SEQ"])
    # Combined is not the mean of the sequences' scores.
    assert ours.combined.false_positives == sum(s.false_positives for s in ours.sequences.values())


@pytest.mark.parametrize(
    ("followed", "mot20", "false_positives"),
    [
        (MotClass.STATIC_PERSON, False, 0),
        (MotClass.PERSON_ON_VEHICLE, False, 0),
        (MotClass.REFLECTION, False, 0),
        (MotClass.DISTRACTOR, False, 0),
        (MotClass.NON_MOT_VEHICLE, False, FRAMES),
        (MotClass.NON_MOT_VEHICLE, True, 0),
        (MotClass.CAR, False, FRAMES),
        (MotClass.CAR, True, FRAMES),
        (MotClass.OCCLUDER, False, FRAMES),
    ],
)
def test_a_track_on_one_object_is_false_positives_unless_it_is_a_distractor(
    followed: MotClass, mot20: bool, false_positives: int
) -> None:
    gt = np.array(
        [
            [f, i + 1, 100 * i, 50, 40, 100, flag, int(cls), 1.0]
            for f in range(1, FRAMES + 1)
            for i, (cls, flag) in enumerate(OBJECTS)
        ]
    )
    first = 1 + [cls for cls, _ in OBJECTS].index(followed)
    pred = gt[gt[:, 1] == first].copy()
    pred[:, 1] = 7
    scores = evaluate_tracking(
        MotSequence.from_array(gt, classed=True), MotSequence.from_array(pred[:, :7]), FRAMES, mot20=mot20
    )
    assert scores.false_positives == false_positives
    # Three pedestrians flagged for scoring, unseen in every frame.
    assert (scores.gt_ids, scores.misses) == (3, 3 * FRAMES)


@pytest.mark.parametrize(
    ("columns", "classes", "world"),
    [
        # MOT15 ground truth: floor metres after the flag.
        ([1, 1, 10, 20, 30, 40, 1, 2.5, -3.0, 0], [MotClass.PEDESTRIAN], [2.5, -3.0]),
        # MOT16/17/20: class and visibility after the flag, no floor position.
        ([1, 1, 10, 20, 30, 40, 0, 7, 0.4], [MotClass.STATIC_PERSON], [np.nan, np.nan]),
        # Tracker output and short files: a pedestrian.
        ([1, 1, 10, 20, 30, 40], [MotClass.PEDESTRIAN], [np.nan, np.nan]),
        ([1, 1, 10, 20, 30, 40, 0.9, -1, -1, -1], [MotClass.PEDESTRIAN], [-1, -1]),
    ],
)
def test_columns_are_read_by_the_files_layout(
    columns: list[float], classes: list[int], world: list[float], tmp_path: Path
) -> None:
    path = tmp_path / "rows.txt"
    path.write_text(",".join(f"{v:g}" for v in columns) + "\n")
    seq = MotSequence.load(path)
    assert seq.object_class.tolist() == classes
    np.testing.assert_array_equal(seq.world[0], world)


def test_a_nine_column_file_with_an_unknown_class_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "gt.txt"
    path.write_text("1,1,10,20,30,40,1,13,0.5\n")
    with pytest.raises(
        ValueError,
        match=r"gt.txt: column 8 of MOT16/17/20 ground truth is the MOTChallenge class \(1-12\), got \[13.0\]",
    ):
        MotSequence.load(path)


def test_walked_paths_keep_people_and_leave_out_vehicles_and_reflections() -> None:
    gt, _ = _scene(1)
    paths = walked_paths(MotSequence.from_array(gt, classed=True))
    kept = {OBJECTS[i - 1][0] for i in paths.track_ids().tolist()}
    assert kept == {MotClass.PEDESTRIAN, MotClass.STATIC_PERSON, MotClass.PERSON_ON_VEHICLE}


@pytest.mark.parametrize(("flags", "false_positives"), [([], FRAMES), (["--mot20"], 0)])
def test_eval_tracking_reads_classed_ground_truth(flags: list[str], false_positives: int, tmp_path: Path) -> None:
    """A track on a pram (non-motorised vehicle): an error by MOT17's rules, not by MOT20's."""
    gt = np.array([[f, 1, 100, 50, 40, 100, 1, 1, 1.0] for f in range(1, FRAMES + 1)])
    pram = np.array([[f, 2, 300, 50, 40, 60, 0, 6, 1.0] for f in range(1, FRAMES + 1)])
    np.savetxt(tmp_path / "gt.txt", np.vstack([gt, pram]), delimiter=",", fmt="%g")
    pred = np.vstack([gt, pram])[:, :7]
    pred[:, 6] = 1
    np.savetxt(tmp_path / "pred.txt", pred, delimiter=",", fmt="%g")
    out = tmp_path / "scores.json"
    args = ["eval", "tracking", "--gt", str(tmp_path / "gt.txt"), "--pred", str(tmp_path / "pred.txt")]
    assert main([*args, *flags, "--json", str(out)]) == 0
    scores = json.loads(out.read_text())
    assert (scores["false_positives"], scores["misses"], scores["gt_ids"]) == (false_positives, 0, 1)


def _split(tmp: Path, seeds: tuple[int, ...]) -> tuple[Path, Path]:
    """A MOTChallenge split (SEQ/gt/gt.txt, SEQ/seqinfo.ini) and a folder of result files (SEQ.txt)."""
    split, results = tmp / "MOT17-train", tmp / "results"
    results.mkdir()
    for seed in seeds:
        gt, pred = _scene(seed)
        seq = split / f"MOT17-{seed:02d}"
        (seq / "gt").mkdir(parents=True)
        np.savetxt(seq / "gt" / "gt.txt", gt, delimiter=",", fmt="%.4f")
        # The sequence runs past its last annotated frame: those frames count too.
        (seq / "seqinfo.ini").write_text(
            f"[Sequence]\nname={seq.name}\nframeRate=30\nseqLength={FRAMES + 5}\nimWidth=1920\nimHeight=1080\n"
        )
        np.savetxt(results / f"{seq.name}.txt", pred, delimiter=",", fmt="%.4f")
    return split, results


def test_eval_benchmark_scores_a_split_and_combines_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    split, results = _split(tmp_path, (1, 2))
    out = tmp_path / "scores.json"
    assert main(["eval", "benchmark", str(split), str(results), "--json", str(out)]) == 0
    scores = json.loads(out.read_text())
    assert set(scores["sequences"]) == {"MOT17-01", "MOT17-02"}
    expected = evaluate_benchmark(
        {
            name: (
                MotSequence.load(split / name / "gt" / "gt.txt"),
                MotSequence.load(results / f"{name}.txt"),
                FRAMES + 5,
            )
            for name in ("MOT17-01", "MOT17-02")
        }
    )
    assert scores["combined"] == expected.combined.as_dict()
    assert "COMBINED" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("remove", "message"),
    [
        ("results/MOT17-02.txt", "lacks the result files of MOT17-02.txt"),
        ("MOT17-train", "has no SEQ/gt/gt.txt"),
    ],
)
def test_eval_benchmark_names_what_is_missing(
    remove: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    split, results = _split(tmp_path, (1, 2))
    target = tmp_path / remove
    if target.is_dir():
        shutil.rmtree(target)
        target.mkdir()
    else:
        target.unlink()
    assert main(["eval", "benchmark", str(split), str(results)]) == 2
    assert message in capsys.readouterr().err
