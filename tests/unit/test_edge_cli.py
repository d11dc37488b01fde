"""`mallflow track` and `mallflow analyze` on a real clip, and their argument errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from support.blank_video import blank_video
from support.pets09_clip import cut_sequence

from edge.agent.detector_profile import detector_plan
from edge.cli.video_cmds import parse_coverage, parse_lines, parse_zones, video_site
from edge.evaluation.mot import MotSequence
from edge.sources.gstreamer import gstreamer_available

MALLFLOW = [sys.executable, "-m", "shared.cli.main"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MALLFLOW, *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def tracked_clip(vtest_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`mallflow track` rows of the 60-frame clip at 7 fps."""
    out = tmp_path_factory.mktemp("tracked") / "pred.txt"
    result = run("track", str(vtest_clip), "--fps", "7", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


def test_track_writes_mot_rows(tracked_clip: Path) -> None:
    out = tracked_clip
    rows = np.loadtxt(out, delimiter=",", ndmin=2)
    assert rows.shape[1] == 10
    assert (rows[:, 7:] == -1).all()
    mot = MotSequence.load(out)
    assert mot.frame.min() >= 1 and mot.frame.max() <= 60
    # PETS09's opening frames show 4-7 people; every frame past the first few has tracks.
    assert len(np.unique(mot.frame)) >= 55
    assert 3 <= len(np.unique(mot.track_id)) <= 15


def test_fill_gaps_adds_rows_only_inside_short_gaps_of_one_track(
    vtest_clip: Path, tracked_clip: Path, tmp_path: Path
) -> None:
    filled = tmp_path / "filled.txt"
    result = run("track", str(vtest_clip), "--fps", "7", "--out", str(filled), "--fill-gaps", "1")
    assert result.returncode == 0, result.stderr
    plain, more = MotSequence.load(tracked_clip), MotSequence.load(filled)
    seen = {(f, t) for f, t in zip(plain.frame.tolist(), plain.track_id.tolist(), strict=True)}
    added = [(f, t) for f, t in zip(more.frame.tolist(), more.track_id.tolist(), strict=True) if (f, t) not in seen]
    # PETS09's first 60 frames have one track unseen for a frame (measured 2026-12-07).
    assert added and len(more) == len(plain) + len(added)
    for frame, track_id in added:
        # Inside a gap of at most 7 frames (1 s at 7 fps) between two rows of the same track.
        own = plain.track(track_id).frame
        before, after = own[own < frame], own[own > frame]
        assert len(before) and len(after) and after.min() - before.max() <= 8, (frame, track_id)


@pytest.fixture(scope="module")
def short_clip(vtest_video: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight frames of vtest.avi in a container that states 7 fps."""
    import cv2

    out = tmp_path_factory.mktemp("short") / "vtest-8.avi"
    cap = cv2.VideoCapture(str(vtest_video))
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"MJPG"), 7.0, (768, 576))
    try:
        for _ in range(8):
            ok, frame = cap.read()
            assert ok, f"{vtest_video} has fewer than 8 frames"
            writer.write(frame)
    finally:
        writer.release()
        cap.release()
    return out


@pytest.fixture(scope="module")
def short_sequence(short_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same eight frames as a MOTChallenge sequence: SEQ/img1/000001.jpg..., SEQ/seqinfo.ini at 7 fps."""
    return cut_sequence(short_clip, tmp_path_factory.mktemp("mot") / "PETS09-8", 8)


@pytest.mark.parametrize("command", ["track", "analyze"])
@pytest.mark.parametrize("video", ["short_clip", "short_sequence"])
def test_default_backend_takes_the_rate_from_the_container(
    request: pytest.FixtureRequest, tmp_path: Path, command: str, video: str
) -> None:
    """No --fps: the rate the AVI header or the sequence's seqinfo.ini states; frame numbers are the file's own."""
    out = tmp_path / "pred.txt"
    extra = ["--out", str(out)] if command == "track" else ["--json"]
    result = run(command, str(request.getfixturevalue(video)), "--no-reid", *extra)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr
    if command == "track":
        mot = MotSequence.load(out)
        assert mot.frame.min() >= 1 and mot.frame.max() <= 8
        assert len(np.unique(mot.frame)) >= 5
    else:
        report = json.loads(result.stdout)
        assert report["frames"] == 8 and report["fps"] == 7.0


@pytest.mark.parametrize("command", ["track", "analyze"])
def test_a_file_cut_short_gives_what_it_holds_and_a_warning(short_clip: Path, tmp_path: Path, command: str) -> None:
    cut = tmp_path / "cut.avi"
    data = short_clip.read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # the header still states 8 frames
    out = tmp_path / "pred.txt"
    extra = ["--out", str(out)] if command == "track" else ["--json"]
    result = run(command, str(cut), "--no-reid", *extra)
    assert result.returncode == 0, result.stderr
    warning = re.search(
        r"warning: (\S+) ended after (\d) frames, its header states 8: the file may be truncated", result.stderr
    )
    assert warning and warning[1] == str(cut), result.stderr
    read = int(warning[2])
    if command == "track":
        assert 1 <= MotSequence.load(out).frame.max() <= read
    else:
        assert json.loads(result.stdout)["frames"] == read


@pytest.mark.skipif(not gstreamer_available(), reason="python gi with GStreamer 1.0 not importable")
def test_track_on_a_stream_stating_no_rate_asks_for_fps(tmp_path: Path) -> None:
    import cv2

    # JPEG after JPEG with no container: GStreamer finds no rate (FFmpeg would guess 25).
    clip = tmp_path / "clip.mjpeg"
    clip.write_bytes(
        b"".join(cv2.imencode(".jpg", np.full((48, 64, 3), 60 * i, np.uint8))[1].tobytes() for i in range(3))
    )
    result = run("track", str(clip), "--out", str(tmp_path / "pred.txt"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("mallflow track: error: camera video:") and "pass --fps" in line


def test_analyze_prints_the_documented_json(vtest_clip: Path) -> None:
    result = run(
        "analyze",
        str(vtest_clip),
        "--fps",
        "7",
        "--json",
        "--line",
        "mid=400,576,400,150",
        "--zone",
        "centre=250,250,550,250,600,450,200,450",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) == {"frames", "fps", "tracks", "lines", "zones", "still"}
    # Nobody in the clip's 8.6 s stands still for the default 60 s.
    assert report["still"] == []
    assert report["frames"] == 60 and report["fps"] == 7.0
    assert set(report["lines"]["mid"]) == {"in", "out"}
    zone = report["zones"]["centre"]
    assert zone["visits"] == len(zone["dwell_seconds"]) >= 1
    assert all(0 <= d <= 60 / 7 for d in zone["dwell_seconds"])


def test_analyze_names_tracks_that_stay_on_one_spot(short_clip: Path, tmp_path: Path) -> None:
    """A frozen picture at 1 fps: everyone PETS09's first frame shows stays put for the 35 s."""
    import cv2

    frozen = tmp_path / "frozen.avi"
    cap = cv2.VideoCapture(str(short_clip))
    ok, frame = cap.read()
    cap.release()
    assert ok
    writer = cv2.VideoWriter(str(frozen), cv2.VideoWriter.fourcc(*"MJPG"), 1.0, (768, 576))
    for _ in range(35):
        writer.write(frame)
    writer.release()
    result = run("analyze", str(frozen), "--no-reid", "--still", "30")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("still: ")]
    # PETS09's first frame shows 4-7 people; each is named once, with where and for how long.
    assert 3 <= len(lines) <= 8, result.stdout
    for line in lines:
        assert re.fullmatch(
            r"still: track \d+ stayed at \(\d+, \d+\) for 3[0-4]\.\d s from [0-4]\.\d s: a person waiting, "
            r"or an object taken for one \(leave it out with --coverage\)",
            line,
        ), line
    assert "still" not in run("analyze", str(frozen), "--no-reid", "--still", "0").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["analyze", "/nonexistent/video.avi", "--json"], "/nonexistent/video.avi"),
        (["analyze", "VIDEO", "--line", "a=1,2,3"], "needs 4 numbers"),
        (["analyze", "VIDEO", "--line", "1,2,3,4"], "NAME=x1,y1"),
        (["analyze", "VIDEO", "--zone", "z=1,2,3,4"], "even number"),
        (["analyze", "VIDEO", "--line", "a=1,2,x,4"], "comma-separated numbers"),
        (["track", "VIDEO", "--fps", "0", "--out", "x.txt"], "argument --fps: must be > 0"),
        (["track", "VIDEO", "--fps", "seven", "--out", "x.txt"], "argument --fps: must be frames per second"),
        (["track", "VIDEO", "--coverage", "0,0,1,1", "--out", "x.txt"], "--coverage needs an even number (>= 6)"),
        (["analyze", "VIDEO", "--coverage", "0,0,1,0,2,0"], "the coverage polygon has zero area"),
        (["analyze", "VIDEO", "--coverage", "0,0,a,0,1,1"], "--coverage: coordinates must be comma-separated"),
        (["track", "VIDEO", "--input-size", "416", "--out", "x.txt"], "argument --input-size: must be HEIGHT,WIDTH"),
        (["track", "VIDEO", "--input-size", "400,544", "--out", "x.txt"], "positive multiples of 32, got '400,544'"),
        (["analyze", "VIDEO", "--input-size", "a,b"], "argument --input-size: must be HEIGHT,WIDTH"),
        (["track", "VIDEO", "--fill-gaps", "-1", "--out", "x.txt"], "argument --fill-gaps: must be >= 0 seconds"),
        (["track", "VIDEO", "--fill-gaps", "one", "--out", "x.txt"], "--fill-gaps: must be seconds, got 'one'"),
        (["analyze", "VIDEO", "--still", "-5"], "argument --still: must be >= 0 seconds, got '-5'"),
        (["edge", "run", "--config", "VIDEO", "--still-warning", "0"], "--still-warning: must be > 0 seconds, got '0'"),
    ],
)
def test_bad_arguments_give_one_clear_error(vtest_clip: Path, args: list[str], message: str) -> None:
    result = run(*[str(vtest_clip) if a == "VIDEO" else a for a in args])
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("specs", "expected"),
    [
        (["in=0,1,2,3"], [{"id": "in", "camera": "video", "points": [[0, 1], [2, 3]]}]),
        ([], []),
    ],
)
def test_parse_lines(specs: list[str], expected: list[dict[str, object]]) -> None:
    assert parse_lines(specs) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (None, None),
        ("0,0,10,0,10,5", {"polygon": [[0, 0], [10, 0], [10, 5]]}),
    ],
)
def test_parse_coverage(spec: str | None, expected: dict[str, object] | None) -> None:
    assert parse_coverage(spec) == expected


def test_parse_zones() -> None:
    assert parse_zones(["z=0,0,1,0,1,1"])[0]["polygon"] == [[0, 0], [1, 0], [1, 1]]


@pytest.mark.parametrize(
    ("frame_hw", "requested", "expected"),
    [
        pytest.param((576, 768), None, (416, 544), id="pets09-size-keeps-the-preset"),
        pytest.param((720, 1280), None, (512, 896), id="720p-fitted"),
        pytest.param((1152, 1536), None, (832, 1088), id="large-frame-fitted"),
        pytest.param((1152, 1536), (416, 544), (416, 544), id="asked-for-size-wins"),
        pytest.param(None, None, (416, 544), id="unreadable-file-keeps-the-preset"),
    ],
)
def test_detector_input_is_fitted_to_the_video(
    tmp_path: Path, frame_hw: tuple[int, int] | None, requested: tuple[int, int] | None, expected: tuple[int, int]
) -> None:
    video = tmp_path / "none.avi" if frame_hw is None else blank_video(tmp_path / "clip.avi", *frame_hw)
    site = video_site(str(video), 7.0, [], [], True, "pedestrian", None, requested)
    profile = detector_plan(site, "video").profile
    assert profile.input_size == expected
    assert profile.model == "bytetrack_nano_mix"
