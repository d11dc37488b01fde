"""`mallflow eval`: the devkit cross-check, scoring a result file, and a camera run end to end on a clip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from support.pets09_clip import cut_sequence

from shared.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "examples"


def test_devkit_agrees_on_the_fixture(metric_fixture: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "devkit.json"
    assert main(["eval", "devkit", str(metric_fixture), "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert len(result["sequences"]) == 11 and result["agree"] is True
    assert result["largest_difference"] <= 0.1
    for scores in result["sequences"].values():
        assert abs(scores["mota"] - scores["devkit_mota"]) <= 0.1
        assert abs(scores["idf1"] - scores["devkit_idf1"]) <= 0.1
    assert "agree" in capsys.readouterr().out


def test_devkit_reports_a_disagreement(metric_fixture: Path, tmp_path: Path) -> None:
    fixture = tmp_path / "fixture"
    (fixture / "gt" / "TUD-Campus").mkdir(parents=True)
    (fixture / "tracker").mkdir()
    for src, dst in (
        ("gt/TUD-Campus/gt.txt", "gt/TUD-Campus/gt.txt"),
        ("tracker/TUD-Campus.txt", "tracker/TUD-Campus.txt"),
    ):
        (fixture / dst).write_bytes((metric_fixture / src).read_bytes())
    devkit = np.loadtxt(metric_fixture / "tracker" / "eval_TUD-Campus.txt", delimiter=",")
    devkit[14] += 1.0  # a devkit MOTA one point off
    np.savetxt(fixture / "tracker" / "eval_TUD-Campus.txt", devkit[None], delimiter=",")
    assert main(["eval", "devkit", str(fixture)]) == 1


def test_tracking_scores_a_result_file(metric_fixture: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gt = metric_fixture / "gt" / "PETS09-S2L1" / "gt.txt"
    pred = metric_fixture / "tracker" / "PETS09-S2L1.txt"
    assert main(["eval", "tracking", "--gt", str(gt), "--pred", str(pred), "--json", "-"]) == 0
    captured = capsys.readouterr()
    scores = json.loads(captured.out)
    devkit = np.loadtxt(metric_fixture / "tracker" / "eval_PETS09-S2L1.txt", delimiter=",")
    assert scores["mota"] == pytest.approx(devkit[14], abs=0.1)
    assert scores["idf1"] == pytest.approx(devkit[0], abs=0.1)
    # With --json -, the table goes to stderr so stdout stays machine-readable.
    assert "mota" in captured.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["tracking", "--gt", "/nope/gt.txt", "--pred", "/nope/p.txt"], "ground truth /nope/gt.txt does not exist"),
        (["devkit", "/nope"], "/nope has no gt/<sequence>/gt.txt"),
        (["sequence", "--config", "{site}", "--gt", "{gt}", "--camera", "cam-x"], "has no camera 'cam-x'"),
        (["sequence", "--config", "{site}", "--gt", "{gt}", "--video", "/nope.avi"], "/nope.avi"),
        (
            ["sequence", "--config", "{site}", "--gt", "{gt}", "--random-shapes", "20,10"],
            "--random-shapes needs camera 'cam-main''s frame size: a live source",
        ),
        (["sequence", "--config", "{site}", "--gt", "{gt}", "--random-shapes", "20"], "expected LINES,ZONES[,SEED]"),
        (["sequence", "--config", "{site}", "--gt", "{gt}", "--random-shapes", "20,-1"], "expected LINES,ZONES"),
        (["sequence", "--config", "{site}", "--gt", "{gt}", "--random-shapes", "a,b"], "as whole numbers >= 0"),
    ],
)
def test_errors_name_the_problem(
    pets09_gt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    site = _site_file(tmp_path, "/dev/null")
    filled = [a.format(site=site, gt=pets09_gt) for a in args]
    assert main(["eval", *filled]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("command", ["sequence", "gt-tracklets"])
def test_a_bad_frame_rate_is_refused_before_anything_runs(
    pets09_gt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    site = _site_file(tmp_path, "/dev/null")
    extra = ["--out", str(tmp_path / "t.json")] if command == "gt-tracklets" else []
    with pytest.raises(SystemExit) as exited:
        main(["eval", command, "--config", str(site), "--gt", str(pets09_gt), "--fps", "-7", *extra])
    assert exited.value.code == 2
    assert "argument --fps: must be > 0, got '-7'" in capsys.readouterr().err


def _site_file(tmp_path: Path, video: str, fps_hint: float | None = 7.0) -> Path:
    raw = yaml.safe_load((EXAMPLES / "pets09.yaml").read_text())
    raw["cameras"][0]["source"] = video
    raw["cameras"][0]["fps_hint"] = fps_hint
    path = tmp_path / "pets09.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_sequence_on_a_clip(vtest_clip: Path, pets09_gt: Path, tmp_path: Path) -> None:
    """60 frames: the report covers that part of the ground truth, with a plot and JSON."""
    out, plot = tmp_path / "report.json", tmp_path / "counts.png"
    site = _site_file(tmp_path, str(vtest_clip))
    assert (
        main(
            [
                "eval",
                "sequence",
                "--config",
                str(site),
                "--gt",
                str(pets09_gt),
                "--json",
                str(out),
                "--plot",
                str(plot),
                "--random-shapes",
                "30,15,2",
            ]
        )
        == 0
    )
    report = json.loads(out.read_text())
    assert report["frames"] == 60 and report["camera_id"] == "cam-main"
    # Measured on this clip 2026-12-02: MOTA 73.1, IDF1 77.4, 236 matched boxes, median floor error 0.15 m.
    assert report["tracking"]["mota"] > 60 and report["tracking"]["idf1"] > 60
    assert {line["line_id"] for line in report["lines"]} == {"mid-vertical", "lower-horizontal"}
    assert all(set(line["error"]) == {"in", "out"} for line in report["lines"])
    (zone,) = report["zones"]
    assert zone["zone_id"] == "centre" and zone["reference_visits"] > 0
    # One zone: the signed and the absolute totals are that zone's error.
    assert report["zones_visits_abs_error_pct"] == pytest.approx(abs(zone["visits_error_pct"]))
    assert {"count_accuracy", "geometric_count_accuracy", "zones_person_seconds_abs_error_pct"} <= set(report)
    assert report["floor"]["matched"] > 180 and report["floor"]["median_m"] < 0.5
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The random shapes ran in the same pass and are judged apart from the site's own.
    shapes = report["random_shapes"]
    assert shapes["seed"] == 2 and shapes["lines"] == 30 and shapes["zones"] == 15
    assert shapes["reference_crossings"] > 0 and shapes["reference_visits"] > 0
    assert 0.5 <= shapes["geometric_count_accuracy"] <= 1 and shapes["visits_abs_pct"] >= 0


@pytest.mark.parametrize(
    ("fps_hint", "flag", "rate"),
    [
        (None, [], 7.0),  # the clip's header
        (7.0, ["--fps", "14"], 14.0),  # another recording of the camera's view: the flag wins
    ],
)
def test_sequence_judges_both_sides_at_the_sequences_rate(
    vtest_clip: Path, pets09_gt: Path, tmp_path: Path, fps_hint: float | None, flag: list[str], rate: float
) -> None:
    """Dwell and settle times of the pipeline and of the ground truth are counted on one clock."""
    out = tmp_path / "report.json"
    site = _site_file(tmp_path, str(vtest_clip), fps_hint)
    assert main(["eval", "sequence", "--config", str(site), "--gt", str(pets09_gt), *flag, "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["fps"] == rate
    (zone,) = report["zones"]
    # Two clocks would put the predicted person-seconds at twice or half the reference's.
    assert abs(zone["person_seconds_error_pct"]) < 25, zone


def test_stitching_from_ground_truth_tracklets(
    vtest_video: Path, pets09_gt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = yaml.safe_load((EXAMPLES / "pets09-split.yaml").read_text())
    for camera in raw["cameras"]:
        camera["source"] = str(vtest_video)
    site = tmp_path / "split.yaml"
    site.write_text(yaml.safe_dump(raw))
    tracklets, out = tmp_path / "tracklets.json", tmp_path / "stitching.json"
    assert main(["eval", "gt-tracklets", "--config", str(site), "--gt", str(pets09_gt), "--out", str(tracklets)]) == 0
    assert "tracklets of 19 people in 2 cameras" in capsys.readouterr().out
    assert main(["eval", "stitching", "--config", str(site), "--tracklets", str(tracklets), "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    # Measured 2026-12-02: 51 tracklets, 14 visitors, global IDF1 74.5 vs 55.6 unstitched.
    assert report["identities"] == 19 and report["tracklets"] > 40
    assert report["global_idf1"] > report["unstitched_idf1"] + 10
    assert "global IDF1" in capsys.readouterr().out
    # The same tracklets against another site's config: a clear error.
    assert main(["eval", "stitching", "--config", str(EXAMPLES / "pets09.yaml"), "--tracklets", str(tracklets)]) == 2
    assert "the tracklets are of site 'pets09-split', the config is of 'pets09'" in capsys.readouterr().err
    assert main(["eval", "stitching", "--config", str(site), "--tracklets", str(tmp_path / "nope.json")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.fixture(scope="module")
def mot17_sequence(vtest_clip: Path, pets09_gt: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20 frames of PETS09 laid out as a MOT17 sequence: SEQ/img1, SEQ/seqinfo.ini, SEQ/gt/gt.txt of nine columns."""
    seq = cut_sequence(vtest_clip, tmp_path_factory.mktemp("mot17") / "PETS09-20", 20)
    (seq / "gt").mkdir()
    gt = np.loadtxt(pets09_gt, delimiter=",")
    gt = gt[gt[:, 0] <= 20]
    # Flag, pedestrian class, full visibility.
    classed = np.column_stack([gt[:, :7], np.ones(len(gt)), np.ones(len(gt))])
    np.savetxt(seq / "gt" / "gt.txt", classed, delimiter=",", fmt="%g")
    return seq


@pytest.mark.parametrize("folder", ["", "img1"])
def test_sequence_of_a_motchallenge_folder_needs_no_site_or_ground_truth_path(
    mot17_sequence: Path, folder: str, tmp_path: Path
) -> None:
    out = tmp_path / "report.json"
    video = mot17_sequence / folder
    assert main(["eval", "sequence", "--video", str(video), "--random-shapes", "10,5", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["frames"] == 20 and report["fps"] == 7.0
    # Measured 2026-12-08: MOTA 89.1, IDF1 94.7 on these 20 frames.
    assert report["tracking"]["mota"] > 60 and report["tracking"]["gt_ids"] >= 4
    assert report["lines"] == [] and report["random_shapes"]["lines"] == 10


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "needs --config (a site YAML) or --video"),
        (["--video", "VIDEO"], "--gt is needed: the video is not a MOTChallenge sequence folder"),
        (["--video", "VIDEO", "--camera", "cam-2", "--gt", "GT"], "--camera picks a camera of --config's site"),
    ],
)
def test_sequence_without_a_site_says_what_it_needs(
    args: list[str], message: str, vtest_clip: Path, pets09_gt: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [{"VIDEO": str(vtest_clip), "GT": str(pets09_gt)}.get(a, a) for a in args]
    assert main(["eval", "sequence", *args]) == 2
    assert message in capsys.readouterr().err
