"""`mallflow eval`: accuracy anyone can re-run — tracking scores, the devkit cross-check, and a whole camera.

    mallflow eval tracking --gt gt.txt --pred tracks.txt
    mallflow eval benchmark MOT17/train results/     # SEQ/gt/gt.txt vs results/SEQ.txt, and all combined
    mallflow eval devkit ../shared/data/mot15-metric-fixture
    mallflow eval sequence --config deploy/examples/pets09.yaml --gt ../shared/data/PETS09-S2L1/gt/gt.txt \\
        --json pets09.json --plot pets09-counts.png [--random-shapes 200,100]
    mallflow eval sequence --video MOT17-09 --random-shapes 50,20   # a MOTChallenge folder: its gt/gt.txt
    mallflow eval gt-tracklets --config deploy/examples/pets09-split.yaml --gt .../gt.txt --out split.json

Each prints tables; `--json FILE` writes the same numbers for machines (`-`: JSON on stdout,
the tables on stderr).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.cli.errors import UsageError
from shared.cli.numbers import frame_rate
from shared.cli.plugins import add_json_option, write_json
from shared.config import load_site_config

if TYPE_CHECKING:
    from rich.console import Console

    from edge.evaluation.metrics import TrackingScores
    from edge.evaluation.sequence import SequenceReport
    from shared.config.site import SiteConfig

# The devkit's eval_*.txt columns: IDF1 IDP IDR Rcll Prcn FAR GT MT PT ML FP FN IDs FM MOTA MOTP MOTAL.
DEVKIT_COLUMNS = {"mota": 14, "idf1": 0}
DEVKIT_TOLERANCE = 0.1
GT_HELP = "ground truth: MOT15 (gt/gt.txt; floor metres in columns 8-9) or MOT16/17/20 (nine columns, with classes)"
MOT20_HELP = "classed ground truth scored by MOT20's rules (non-motorised vehicles are distractors too)"
TRACKING_COLUMNS = (
    "hota",
    "mota",
    "idf1",
    "motp",
    "recall",
    "precision",
    "id_switches",
    "false_positives",
    "false_positives_on_do_not_care",
    "misses",
)


def register(esub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The edge's `mallflow eval` subcommands (shared/cli/eval_cmd.py holds the group)."""
    t = esub.add_parser("tracking", help="score a MOTChallenge result file against ground truth")
    t.add_argument("--gt", required=True, type=Path, help=GT_HELP)
    t.add_argument("--pred", required=True, type=Path, help="tracker output (MOT format)")
    t.add_argument("--frames", type=int, default=None, help="sequence length (default: last annotated frame)")
    t.add_argument("--mot20", action="store_true", help=MOT20_HELP)
    add_json_option(t)
    t.set_defaults(handler=_tracking)

    b = esub.add_parser("benchmark", help="score a folder of result files against a MOTChallenge split, all combined")
    b.add_argument("gt_folder", type=Path, help="the split: SEQ/gt/gt.txt (and SEQ/seqinfo.ini) per sequence")
    b.add_argument("pred_folder", type=Path, help="tracker output: SEQ.txt per sequence (`mallflow track SEQ --out`)")
    b.add_argument("--mot20", action="store_true", help=MOT20_HELP)
    add_json_option(b)
    b.set_defaults(handler=_benchmark)

    d = esub.add_parser("devkit", help="check our metric code against the official devkit's scores")
    d.add_argument(
        "fixture", type=Path, help="folder with gt/<seq>/gt.txt, tracker/<seq>.txt and tracker/eval_<seq>.txt"
    )
    add_json_option(d)
    d.set_defaults(handler=_devkit)

    s = esub.add_parser("sequence", help="run one camera of a site over a sequence and judge everything it reports")
    s.add_argument(
        "--config",
        default=None,
        type=Path,
        help="site YAML (lines, zones, calibration; default: a one-camera site of --video, the default detector)",
    )
    s.add_argument("--camera", default=None, help="camera id (default: the site's first camera)")
    s.add_argument(
        "--gt", default=None, type=Path, help=GT_HELP + "; default: gt/gt.txt of a MOTChallenge sequence folder"
    )
    s.add_argument("--mot20", action="store_true", help=MOT20_HELP)
    s.add_argument("--video", default=None, help="video file or folder of images (default: the camera's source)")
    s.add_argument(
        "--fps",
        type=frame_rate,
        default=None,
        help="the sequence's frame rate, video and ground truth alike (default: the camera's fps_hint or the file's)",
    )
    s.add_argument("--plot", type=Path, default=None, help="PNG of crossings over time, ground truth vs predicted")
    s.add_argument(
        "--threads", type=int, default=None, help="ONNX Runtime threads per model (default: half the cores each)"
    )
    s.add_argument("--progress", action="store_true", help="progress bar on stderr")
    s.add_argument(
        "--random-shapes",
        default=None,
        metavar="LINES,ZONES[,SEED]",
        help="also judge this many lines and zones thrown at random over the frame (default settings; seed 0)",
    )
    add_json_option(s)
    s.set_defaults(handler=_sequence)

    g = esub.add_parser(
        "gt-tracklets",
        help="cut ground truth into each camera's tracklets with OSNet embeddings (for `eval stitching`)",
    )
    g.add_argument("--config", required=True, type=Path, help="site YAML whose camera crops cut the view")
    g.add_argument("--gt", required=True, type=Path, help="ground truth gt.txt of the full view")
    g.add_argument("--video", default=None, help="the full view's video (default: the first camera's source)")
    g.add_argument(
        "--fps", type=frame_rate, default=None, help="ground-truth frame rate (default: the first camera's fps_hint)"
    )
    g.add_argument("--gap", type=float, default=1.0, help="seconds unseen that end a tracklet")
    g.add_argument("--out", required=True, type=Path, help="labelled tracklets JSON to write")
    g.add_argument("--threads", type=int, default=None, help="ONNX Runtime threads (default: all cores)")
    g.set_defaults(handler=_gt_tracklets)


def _console(args: argparse.Namespace) -> Console:
    from rich.console import Console

    stream = sys.stderr if args.json == "-" else sys.stdout
    # Piped into a file or CI log, a table wider than 80 columns is still wanted whole.
    return Console(file=stream, width=None if stream.isatty() else 160)


def _file(path: Path, what: str) -> Path:
    if not path.is_file():
        raise UsageError(f"{what} {path} does not exist")
    return path


def _scores_table(console: Console, title: str, rows: dict[str, TrackingScores]) -> None:
    from rich.table import Table

    table = Table(title=title)
    table.add_column("sequence")
    for column in TRACKING_COLUMNS:
        table.add_column(column, justify="right")
    for name, s in rows.items():
        values = [getattr(s, c) for c in TRACKING_COLUMNS]
        table.add_row(name, *(f"{v:.1f}" if isinstance(v, float) else str(v) for v in values))
    console.print(table)


def _tracking(args: argparse.Namespace) -> int:
    from edge.evaluation.metrics import evaluate_tracking
    from edge.evaluation.mot import MotSequence

    gt = MotSequence.load(_file(args.gt, "ground truth"))
    pred = MotSequence.load(_file(args.pred, "prediction"))
    scores = evaluate_tracking(gt, pred, num_frames=args.frames, mot20=args.mot20)
    _scores_table(_console(args), f"{args.pred.name} vs {args.gt}", {args.pred.stem: scores})
    write_json(args.json, scores.as_dict())
    return 0


def _benchmark(args: argparse.Namespace) -> int:
    from edge.evaluation.metrics import evaluate_benchmark
    from edge.evaluation.mot import MotSequence
    from shared.image_sequences import SequenceInfo

    names = sorted(p.name for p in args.gt_folder.glob("*") if (p / "gt" / "gt.txt").is_file())
    if not names:
        raise UsageError(f"{args.gt_folder} has no SEQ/gt/gt.txt")
    missing = [n for n in names if not (args.pred_folder / f"{n}.txt").is_file()]
    if missing:
        raise UsageError(f"{args.pred_folder} lacks the result files of {', '.join(f'{n}.txt' for n in missing)}")
    sequences = {}
    for name in names:
        info = args.gt_folder / name / "seqinfo.ini"
        length = SequenceInfo.load(info).length if info.is_file() else None
        gt = MotSequence.load(args.gt_folder / name / "gt" / "gt.txt")
        sequences[name] = (gt, MotSequence.load(args.pred_folder / f"{name}.txt"), length)
    scores = evaluate_benchmark(sequences, mot20=args.mot20)
    _scores_table(
        _console(args), f"{args.pred_folder} vs {args.gt_folder}", scores.sequences | {"COMBINED": scores.combined}
    )
    write_json(
        args.json,
        {"sequences": {n: s.as_dict() for n, s in scores.sequences.items()}, "combined": scores.combined.as_dict()},
    )
    return 0


def _devkit(args: argparse.Namespace) -> int:
    import numpy as np
    from rich.table import Table

    from edge.evaluation.metrics import evaluate_tracking
    from edge.evaluation.mot import MotSequence

    sequences = sorted(p.name for p in (args.fixture / "gt").glob("*") if (p / "gt.txt").is_file())
    if not sequences:
        raise UsageError(f"{args.fixture} has no gt/<sequence>/gt.txt")
    table = Table(title=f"our metrics vs the MOTChallenge devkit ({args.fixture})")
    for heading in ("sequence", "MOTA", "devkit", "Δ", "IDF1", "devkit", "Δ"):
        table.add_column(heading, justify="left" if heading == "sequence" else "right")
    results: dict[str, dict[str, float]] = {}
    worst = 0.0
    for name in sequences:
        devkit = [
            float(v)
            for v in np.loadtxt(_file(args.fixture / "tracker" / f"eval_{name}.txt", "devkit scores"), delimiter=",")
        ]
        scores = evaluate_tracking(
            MotSequence.load(args.fixture / "gt" / name / "gt.txt"),
            MotSequence.load(_file(args.fixture / "tracker" / f"{name}.txt", "tracker output")),
        )
        row: dict[str, float] = {}
        cells = [name]
        for metric, column in DEVKIT_COLUMNS.items():
            ours, theirs = getattr(scores, metric), devkit[column]
            row |= {metric: ours, f"devkit_{metric}": theirs}
            worst = max(worst, abs(ours - theirs))
            cells += [f"{ours:.2f}", f"{theirs:.2f}", f"{ours - theirs:+.2f}"]
        results[name] = row
        table.add_row(*cells)
    console = _console(args)
    console.print(table)
    agree = worst <= DEVKIT_TOLERANCE
    console.print(f"largest difference {worst:.3f} (tolerance {DEVKIT_TOLERANCE}): {'agree' if agree else 'DISAGREE'}")
    write_json(args.json, {"sequences": results, "largest_difference": worst, "agree": agree})
    return 0 if agree else 1


def _random_shapes(text: str) -> tuple[int, int, int]:
    try:
        parts = [int(v) for v in text.split(",")]
    except ValueError:
        parts = []
    if len(parts) not in (2, 3) or min(parts) < 0:
        raise UsageError(f"--random-shapes: expected LINES,ZONES[,SEED] as whole numbers >= 0, got {text!r}")
    return parts[0], parts[1], parts[2] if len(parts) == 3 else 0


def _sequence_site(args: argparse.Namespace) -> SiteConfig:
    if args.config is not None:
        return load_site_config(args.config)
    if args.video is None:
        raise UsageError("eval sequence needs --config (a site YAML) or --video (a video or a folder of images)")
    if args.camera is not None:
        raise UsageError("--camera picks a camera of --config's site; without --config there is one")
    from edge.cli.video_cmds import video_site

    return video_site(args.video, args.fps, [], [], reid=True)


def _ground_truth(args: argparse.Namespace) -> Path:
    if args.gt is not None:
        return Path(args.gt)
    from shared.image_sequences import sequence_ground_truth

    found = None if args.video is None else sequence_ground_truth(args.video)
    if found is None:
        raise UsageError("--gt is needed: the video is not a MOTChallenge sequence folder with gt/gt.txt")
    return found


def _sequence(args: argparse.Namespace) -> int:
    from rich.table import Table

    from edge.evaluation.mot import MotSequence
    from edge.evaluation.plot import plot_counts
    from edge.evaluation.sequence import counts_over_time, evaluate_sequence, run_sequence
    from edge.sources.base import SourceError

    site = _sequence_site(args)
    camera_id = args.camera or site.cameras[0].id
    if camera_id not in {c.id for c in site.cameras}:
        raise UsageError(f"site {site.site.id!r} has no camera {camera_id!r}")
    gt = MotSequence.load(_file(_ground_truth(args), "ground truth"))
    run_site, placed = site, None
    shapes = None if args.random_shapes is None else _random_shapes(args.random_shapes)
    if shapes is not None:
        run_site, placed = _with_random_shapes(site, camera_id, args.video, shapes)
    try:
        run = run_sequence(run_site, camera_id, args.video, fps=args.fps, threads=args.threads, progress=args.progress)
    except SourceError as exc:
        raise UsageError(str(exc)) from None
    # The ground truth is matched to the video frame by frame: both run at the source's rate.
    fps = run.fps
    report = evaluate_sequence(run, gt, site, camera_id, fps, mot20=args.mot20)

    console = _console(args)
    console.print(
        f"{camera_id}: {report.frames} frames in {report.wall_s:.1f} s ({report.frames / report.wall_s:.1f} fps)"
    )
    _scores_table(console, "tracking", {camera_id: report.tracking})
    lines = Table(title="line counts (reference: ground-truth tracks through the line's debounce)")
    for column in ("line", "in ref", "in pred", "out ref", "out pred", "geometric in/out"):
        lines.add_column(column, justify="left" if column == "line" else "right")
    for line in report.lines:
        lines.add_row(
            line.line_id,
            *(str(v) for d in ("in", "out") for v in (line.reference[d], line.predicted[d])),
            f"{line.geometric['in']}/{line.geometric['out']}",
        )
    console.print(lines)
    console.print(
        f"line count accuracy (1 - sum |error| / sum reference): {_num(report.count_accuracy)}; "
        f"against the geometric crossings: {_num(report.geometric_count_accuracy)}"
    )
    zones = Table(title="zone visits and dwell")
    for column in (
        "zone",
        "visits ref",
        "visits pred",
        "mean dwell ref s",
        "mean dwell pred s",
        "total ref s",
        "total pred s",
        "visits error %",
        "person-s error %",
    ):
        zones.add_column(column, justify="left" if column == "zone" else "right")
    for z in report.zones:
        zones.add_row(
            z.zone_id,
            str(z.reference_visits),
            str(z.predicted_visits),
            _num(z.reference_mean_dwell_s),
            _num(z.predicted_mean_dwell_s),
            f"{z.reference_total_s:.1f}",
            f"{z.predicted_total_s:.1f}",
            _num(z.visits_error_pct),
            _num(z.person_seconds_error_pct),
        )
    console.print(zones)
    console.print(
        f"zones together: person-seconds {_num(report.zones_person_seconds_error_pct)} % "
        f"(sum of each zone's |error|: {_num(report.zones_person_seconds_abs_error_pct)} %), "
        f"visits {_num(report.zones_visits_error_pct)} % ({_num(report.zones_visits_abs_error_pct)} %)"
    )
    f = report.floor
    console.print(
        f"floor position error over {f.matched} matched boxes: mean {_num(f.mean_m)} m, "
        f"median {_num(f.median_m)} m, p90 {_num(f.p90_m)} m"
    )
    for item in report.skipped:
        console.print(f"skipped: {item}")
    if args.plot is not None:
        plot_counts(counts_over_time(run, gt, site, camera_id, fps), fps, f"{site.site.id} / {camera_id}", args.plot)
        console.print(f"plot: {args.plot}")
    out = report.as_dict()
    if placed is not None and shapes is not None:
        summary = _random_shapes_summary(evaluate_sequence(run, gt, placed, camera_id, fps, scored=report))
        out["random_shapes"] = {"seed": shapes[2]} | summary
        console.print(
            f"random shapes (seed {shapes[2]}): {summary['lines']} lines, {summary['reference_crossings']} reference "
            f"crossings, count accuracy {_num(summary['count_accuracy'])} (against the geometric crossings: "
            f"{_num(summary['geometric_count_accuracy'])}); {summary['zones']} zones, {summary['reference_visits']} "
            f"reference visits: person-seconds {_num(summary['person_seconds_pct'])} % (each zone's |error|: "
            f"{_num(summary['person_seconds_abs_pct'])} %), visits {_num(summary['visits_pct'])} % "
            f"({_num(summary['visits_abs_pct'])} %)"
        )
    write_json(args.json, out)
    return 0


def _with_random_shapes(
    site: SiteConfig, camera_id: str, video: str | None, shapes: tuple[int, int, int]
) -> tuple[SiteConfig, SiteConfig]:
    from edge.evaluation.placements import with_random_shapes
    from shared.video_files import camera_frame_size

    size, why = camera_frame_size(site.camera(camera_id), video)
    if size is None:
        raise UsageError(f"--random-shapes needs camera {camera_id!r}'s frame size: {why}")
    lines, zones, seed = shapes
    try:
        return with_random_shapes(site, camera_id, size, lines, zones, seed)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _random_shapes_summary(report: SequenceReport) -> dict[str, Any]:
    """What the random shapes say, in totals: one line per shape would bury the answer."""
    return {
        "lines": len(report.lines),
        "reference_crossings": sum(sum(line.reference.values()) for line in report.lines),
        "count_accuracy": report.count_accuracy,
        "geometric_count_accuracy": report.geometric_count_accuracy,
        "zones": len(report.zones),
        "reference_visits": sum(z.reference_visits for z in report.zones),
        "person_seconds_pct": report.zones_person_seconds_error_pct,
        "person_seconds_abs_pct": report.zones_person_seconds_abs_error_pct,
        "visits_pct": report.zones_visits_error_pct,
        "visits_abs_pct": report.zones_visits_abs_error_pct,
    }


def _gt_tracklets(args: argparse.Namespace) -> int:
    from edge.evaluation.gt_tracklets import label_tracklets
    from edge.evaluation.mot import MotSequence
    from edge.inference.factory import create_embedder

    site = load_site_config(args.config)
    first = site.cameras[0]
    fps = args.fps or first.fps_hint
    if not fps:
        raise UsageError(f"camera {first.id!r} has no fps_hint: give the ground truth's frame rate with --fps")
    gt = MotSequence.load(_file(args.gt, "ground truth"))
    labelled = label_tracklets(
        site, gt, args.video or first.source, create_embedder(threads=args.threads), fps, gap_s=args.gap
    )
    labelled.save(args.out)
    people, cameras = labelled.identities, len(site.cameras)
    print(f"{len(labelled.tracklets)} tracklets of {people} people in {cameras} cameras: {args.out}")
    return 0


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
