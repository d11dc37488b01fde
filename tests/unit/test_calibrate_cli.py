"""`mallflow calibrate` on the PETS09 example site, `mallflow config check`, and their errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import yaml
from support.blank_video import blank_video

from shared.config import load_site_config
from shared.geometry import FloorMapper
from shared.geometry.calibration import floor_window, grid_segments, reprojection_errors

EXAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "examples"
PETS09 = EXAMPLES / "pets09.yaml"
MALLFLOW = [sys.executable, "-m", "shared.cli.main"]
# A table row: index, image px, floor given, floor fitted, error.
ROW = re.compile(r"^\s*(\d+)\s+\(.*\)\s+(\d+\.\d{3}|inf)$")


def run(*args: str, data_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if data_dir is not None:
        env["MALLFLOW_DATA_DIR"] = str(data_dir)
    return subprocess.run([*MALLFLOW, *args], capture_output=True, text=True, timeout=300, env=env)


def site_file(tmp_path: Path, change: Any) -> Path:
    """deploy/examples/pets09.yaml with `change(raw)` applied, written next to the test."""
    raw = yaml.safe_load(PETS09.read_text())
    change(raw)
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_calibrate_draws_the_overlay_and_prints_the_errors(vtest_video: Path, tmp_path: Path) -> None:
    out = tmp_path / "overlay.png"
    result = run(
        "calibrate", "--config", str(PETS09), "--camera", "cam-main", "--out", str(out),
        "--source-backend", "opencv", data_dir=vtest_video.parent,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    overlay = cv2.imread(str(out))
    cap = cv2.VideoCapture(str(vtest_video))
    ok, raw = cap.read()
    cap.release()
    assert ok and overlay is not None and overlay.shape == raw.shape

    camera = load_site_config(PETS09).camera("cam-main")
    assert camera.homography is not None
    mapper = FloorMapper.for_camera(camera)
    assert mapper is not None
    # Along the projected 5 m grid lines the picture is drawn over...
    grid = [s for s in grid_segments(mapper, (768, 576), floor_window(camera.homography)) if s.major]
    mids = np.array([np.add(s.start, s.end) / 2 for s in grid if np.hypot(*np.subtract(s.end, s.start)) > 10])
    assert len(mids) > 20
    x, y = np.clip(np.rint(mids[:, 0]).astype(int), 0, 767), np.clip(np.rint(mids[:, 1]).astype(int), 0, 575)
    changed = np.abs(overlay[y, x].astype(int) - raw[y, x].astype(int)).max(axis=1) > 30
    assert changed.mean() > 0.9
    # ...while most of it is the camera's frame as it was.
    assert (overlay == raw).all(axis=2).mean() > 0.5

    rows = [m.groups() for m in map(ROW.match, result.stdout.splitlines()) if m]
    expected = reprojection_errors(camera.homography)
    assert [int(i) for i, _ in rows] == [p.index for p in expected]
    assert [float(e) for _, e in rows] == [round(p.error_m, 3) for p in expected]
    assert "no warnings" in result.stdout
    assert "the 768x576 frame covers" in result.stdout
    people = re.search(r"wrote .*overlay\.png: (\d+) people found, faces and head regions blurred", result.stdout)
    assert people is not None and int(people.group(1)) >= 3, result.stdout


def _as_is(raw: dict[str, Any]) -> None:
    """The example unchanged."""


def _no_homography(raw: dict[str, Any]) -> None:
    # The coverage is drawn on the floor: without a homography there is no floor to draw it on.
    del raw["cameras"][0]["homography"], raw["cameras"][0]["coverage"]


def _missing_video(raw: dict[str, Any]) -> None:
    raw["cameras"][0]["source"] = "/nonexistent/cam-main.avi"


def _dead_stream(raw: dict[str, Any]) -> None:
    # Nothing listens on port 1: the connection is refused at once.
    raw["cameras"][0]["source"] = "rtsp://127.0.0.1:1/cam-main"
    raw["cameras"][0]["stream"] = {"stall_timeout_s": 2}


@pytest.mark.parametrize(
    ("change", "camera", "out", "message"),
    [
        pytest.param(_as_is, "cam-x", "o.png", "no camera 'cam-x' (cameras: cam-main)", id="unknown-camera"),
        pytest.param(
            _no_homography,
            "cam-main",
            "o.png",
            "camera 'cam-main' has no homography, so there is no calibration to check",
            id="no-homography",
        ),
        pytest.param(
            _missing_video,
            "cam-main",
            "o.png",
            "camera cam-main: video file /nonexistent/cam-main.avi does not exist (is the camera up",
            id="dead-file",
        ),
        pytest.param(
            _dead_stream,
            "cam-main",
            "o.png",
            "camera cam-main: cannot open rtsp://127.0.0.1:1/cam-main",
            id="dead-stream",
        ),
        pytest.param(_as_is, "cam-main", "o.jpg", "must end in .png", id="not-png"),
        pytest.param(_as_is, "cam-main", "missing/o.png", "missing does not exist", id="no-such-directory"),
        pytest.param(_as_is, "cam-main", "folder.png", "folder.png is a directory", id="out-is-a-directory"),
    ],
)
def test_calibrate_bad_input_gives_one_clear_error(
    vtest_video: Path, tmp_path: Path, change: Any, camera: str, out: str, message: str
) -> None:
    (tmp_path / "folder.png").mkdir()
    site = site_file(tmp_path, change)
    result = run(
        "calibrate", "--config", str(site), "--camera", camera, "--out", str(tmp_path / out),
        "--source-backend", "opencv", data_dir=vtest_video.parent,
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    # The last line: FFmpeg prints its own complaints about a refused stream before it.
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("mallflow calibrate: error: ")
    assert message in error, result.stderr
    assert not (tmp_path / "o.png").exists()


def test_config_check_passes_the_examples(vtest_video: Path) -> None:
    result = run("config", "check", str(PETS09), str(EXAMPLES / "pets09-split.yaml"), data_dir=vtest_video.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning" not in result.stdout
    for camera, frame in (("cam-main", "768x576"), ("cam-left", "360x576"), ("cam-right", "348x576")):
        assert f"  {camera} detector: bytetrack_nano_mix at 416x544\n" in result.stdout
        assert (
            f"  {camera} feet: 0.03 of each box's height above its bottom edge (detector.foot_margin)\n"
            in result.stdout
        )
        line = next(ln for ln in result.stdout.splitlines() if ln.strip().startswith(f"{camera}:"))
        assert re.search(
            rf"8 calibration points, error mean 0\.000 m, max 0\.001 m; the {frame} frame covers \d+ m² of floor", line
        ), line


def _mistyped_point(raw: dict[str, Any]) -> None:
    # Point 3 typed 3 m off; a second, live camera has no frame to measure here.
    raw["cameras"][0]["homography"]["floor_points"][3][0] += 3.0
    raw["cameras"].append({**raw["cameras"][0], "id": "cam-live", "source": "rtsp://10.0.0.9/live"})


def test_config_check_warns_about_a_bad_calibration(vtest_video: Path, tmp_path: Path) -> None:
    result = run("config", "check", str(site_file(tmp_path, _mistyped_point)), data_dir=vtest_video.parent)
    assert result.returncode == 1
    assert re.search(
        r"warning: camera cam-main: calibration point 3 is \d\.\d\d m off the fit \(limit 0\.5 m\)", result.stdout
    ), result.stdout
    assert "warning: camera cam-live: calibration point 3 is" in result.stdout
    assert (
        "cam-live: floor coverage not checked: a live source; `mallflow calibrate --camera cam-live`" in result.stdout
    )
    assert (
        "cam-live detector: bytetrack_nano_mix at 416x544 until its first frame (a live source; `mallflow calibrate "
        "--camera cam-live` checks it on a frame): onnxruntime fits it then (1920x1080: 640x1088); TensorRT and "
        "DeepStream keep it unless detector.input_size says otherwise" in result.stdout
    )


def test_config_check_shows_each_cameras_detector_input(tmp_path: Path) -> None:
    big = blank_video(tmp_path / "hall.avi", 720, 1280)

    def cameras(raw: dict[str, Any]) -> None:
        main = raw["cameras"][0]
        raw["cameras"] = [
            {**main, "id": "hall", "source": str(big)},
            {**main, "id": "hall-set", "source": str(big), "detector": {"preset": "coco", "input_size": [416, 416]}},
        ]
        raw["lines"], raw["zones"], raw["exits"] = [], [], []

    result = run("config", "check", str(site_file(tmp_path, cameras)))
    assert "  hall detector: bytetrack_nano_mix at 512x896, fitted to its 1280x720 frame\n" in result.stdout
    assert "  hall-set detector: yolox_nano at 416x416 (the profile's input_size)\n" in result.stdout
    assert (
        "  hall feet: 0.03" in result.stdout and "hall-set feet" not in result.stdout
    )  # COCO's boxes end at the soles


def test_config_check_reports_an_invalid_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("site: {id: x}\n")
    result = run("config", "check", str(path))
    assert result.returncode == 1
    assert f"invalid site config {path}" in result.stderr
    assert "Traceback" not in result.stderr


def _short_grace(raw: dict[str, Any]) -> None:
    raw["zones"][0]["exit_grace_s"] = 1.0


def test_config_check_warns_about_a_zone_grace_shorter_than_the_track_buffer(vtest_video: Path, tmp_path: Path) -> None:
    result = run("config", "check", str(site_file(tmp_path, _short_grace)), data_dir=vtest_video.parent)
    assert result.returncode == 1
    assert (
        "warning: zone centre: exit_grace_s 1 s is shorter than tracking.track_buffer_s 3 s: a person the tracker "
        "finds again after an occlusion of that length is counted as two visits" in result.stdout
    ), result.stdout
