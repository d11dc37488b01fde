"""The installer's tools on a live RTSP camera larger than its detector profile suits:
`mallflow calibrate` says the input size it runs at (and which to give it where engines are
built ahead for one size), `mallflow track` fits it at the first frame and reports the
stream's end as an error, not a traceback."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from support.blank_video import blank_video
from support.rtsp_server import RtspServer, encode_h264, require_rtsp_server
from support.split_site import REPO, free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


@pytest.fixture
def hall_camera(tmp_path: Path) -> Iterator[str]:
    require_rtsp_server()
    clip = encode_h264(blank_video(tmp_path / "hall.avi", 720, 1280, frames=20), tmp_path / "hall.mkv", fps=10.0)
    server = RtspServer(free_port(), {"hall": clip}, tmp_path / "rtsp-server.log")
    server.start()
    yield server.url("hall")
    server.stop()


@pytest.mark.parametrize(
    ("detector", "advice"),
    [
        pytest.param(
            "pedestrian",
            "detector input: 1280x720 frames run at 512x896 on onnxruntime (fitted at the first frame); "
            "for TensorRT or DeepStream give this camera detector.input_size: [512, 896]",
            id="preset-advised",
        ),
        pytest.param({"preset": "pedestrian", "input_size": [512, 896]}, None, id="size-set-nothing-to-say"),
    ],
)
def test_calibrate_advises_an_input_size_for_a_large_live_camera(
    hall_camera: str, tmp_path: Path, detector: object, advice: str | None
) -> None:
    raw = yaml.safe_load((REPO / "deploy" / "examples" / "pets09.yaml").read_text())
    raw["cameras"][0] |= {"source": hall_camera, "detector": detector}
    site = tmp_path / "site.yaml"
    site.write_text(yaml.safe_dump(raw))
    result = subprocess.run(
        [sys.executable, "-m", "shared.cli.main", "calibrate", "--config", str(site), "--camera", "cam-main",
         "--out", str(tmp_path / "overlay.png")],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("detector input:")]
    assert lines == ([advice] if advice else []), result.stdout


def test_track_fits_a_live_camera_at_its_first_frame_and_names_the_streams_end(
    hall_camera: str, tmp_path: Path
) -> None:
    out = tmp_path / "rows.txt"
    result = subprocess.run(
        [sys.executable, "-m", "shared.cli.main", "-v", "track", hall_camera, "--out", str(out)],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert "detector input 512x896 for 1280x720 frames" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.returncode == 2
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("mallflow track: error: camera video: the stream ended (rtsp://127.0.0.1:"), last
    assert re.search(r"after [1-9][0-9]* frames$", last), last  # a live reader may drop frames it was late for
    assert out.is_file()  # rows up to the end stay written


def test_analyze_reports_what_it_saw_before_a_live_stream_ended(hall_camera: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "shared.cli.main", "analyze", hall_camera, "--line", "door=640,0,640,720",
         "--zone", "hall=0,0,1280,0,1280,720,0,720", "--json"],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "the stream ended (rtsp://127.0.0.1:" in result.stderr.strip().splitlines()[-1]
    report = json.loads(result.stdout)
    assert report["frames"] >= 1
    assert report["lines"] == {"door": {"in": 0, "out": 0}}  # an empty hall: nobody crossed
    assert report["zones"] == {"hall": {"visits": 0, "dwell_seconds": []}}
