"""`mallflow track` and `mallflow analyze` on a real clip, and their argument errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edge.cli.video_cmds import parse_lines, parse_zones
from edge.evaluation.mot import MotSequence

MALLFLOW = [sys.executable, "-m", "shared.cli.main"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MALLFLOW, *args], capture_output=True, text=True, timeout=300)


def test_track_writes_mot_rows(vtest_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "pred.txt"
    result = run("track", str(vtest_clip), "--fps", "7", "--out", str(out))
    assert result.returncode == 0, result.stderr
    rows = np.loadtxt(out, delimiter=",", ndmin=2)
    assert rows.shape[1] == 10
    assert (rows[:, 7:] == -1).all()
    mot = MotSequence.load(out)
    assert mot.frame.min() >= 1 and mot.frame.max() <= 60
    # PETS09's opening frames show 4-7 people; every frame past the first few has tracks.
    assert len(np.unique(mot.frame)) >= 55
    assert 3 <= len(np.unique(mot.track_id)) <= 15


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
    assert set(report) == {"frames", "fps", "tracks", "lines", "zones"}
    assert report["frames"] == 60 and report["fps"] == 7.0
    assert set(report["lines"]["mid"]) == {"in", "out"}
    zone = report["zones"]["centre"]
    assert zone["visits"] == len(zone["dwell_seconds"]) >= 1
    assert all(0 <= d <= 60 / 7 for d in zone["dwell_seconds"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["analyze", "/nonexistent/video.avi", "--json"], "/nonexistent/video.avi"),
        (["analyze", "VIDEO", "--line", "a=1,2,3"], "needs 4 numbers"),
        (["analyze", "VIDEO", "--line", "1,2,3,4"], "NAME=x1,y1"),
        (["analyze", "VIDEO", "--zone", "z=1,2,3,4"], "even number"),
        (["analyze", "VIDEO", "--line", "a=1,2,x,4"], "comma-separated numbers"),
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


def test_parse_zones() -> None:
    assert parse_zones(["z=0,0,1,0,1,1"])[0]["polygon"] == [[0, 0], [1, 0], [1, 1]]
