"""Each camera's frame size without opening it, and its detector input fitted to it (live sources as declared)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.blank_video import blank_video

from edge.agent.detector_profile import detector_plan
from shared.config import parse_site_config
from shared.video_files import camera_frame_size


def _site(source: str, detector: object, crop: list[int] | None = None) -> dict[str, object]:
    camera: dict[str, object] = {"id": "cam", "source": source, "floor": "f1", "detector": detector}
    if crop is not None:
        camera["crop"] = crop
    return {"site": {"id": "mall"}, "floors": [{"id": "f1"}], "cameras": [camera]}


@pytest.mark.parametrize(
    ("video_hw", "source", "crop", "expected", "why"),
    [
        pytest.param((576, 768), "{video}", None, (768, 576), "", id="file"),
        pytest.param((576, 768), "file://{video}", None, (768, 576), "", id="file-uri"),
        pytest.param((1080, 1920), "{video}", [100, 50, 740, 530], (640, 480), "", id="crop-not-the-file"),
        pytest.param(None, "rtsp://cam.local/stream", None, None, "a live source", id="live-not-opened"),
        pytest.param(None, "rtsp://cam.local/stream", [0, 0, 960, 540], (960, 540), "", id="live-crop"),
        pytest.param(None, "0", None, None, "a live source", id="device-index"),
        pytest.param(None, "{missing}", None, None, "not found", id="missing-file"),
        pytest.param(None, "{not_video}", None, None, "cannot read the frame size", id="not-a-video"),
    ],
)
def test_camera_frame_size(
    tmp_path: Path,
    video_hw: tuple[int, int] | None,
    source: str,
    crop: list[int] | None,
    expected: tuple[int, int] | None,
    why: str,
) -> None:
    video = blank_video(tmp_path / "clip.avi", *video_hw) if video_hw else tmp_path / "clip.avi"
    not_video = tmp_path / "notes.avi"
    not_video.write_text("not a video")
    uri = source.format(video=video, missing=tmp_path / "missing.avi", not_video=not_video)
    site = parse_site_config(_site(uri, "pedestrian", crop), tmp_path / "mall.yaml")
    size, reason = camera_frame_size(site.camera("cam"))
    assert size == expected
    assert why in reason and (reason == "") == (expected is not None)


@pytest.mark.parametrize(
    ("video_hw", "source", "detector", "crop", "expected"),
    [
        pytest.param((576, 768), "{video}", "pedestrian", None, (416, 544), id="preset-camera-size"),
        pytest.param((1080, 1920), "{video}", "pedestrian", None, (640, 1088), id="1080p-file-fitted"),
        pytest.param((720, 1280), "{video}", "coco", None, (512, 896), id="coco-fitted-too"),
        pytest.param((1080, 1920), "{video}", "pedestrian", [0, 0, 768, 576], (416, 544), id="crop-of-1080p"),
        pytest.param(
            (1080, 1920),
            "{video}",
            {"preset": "pedestrian", "input_size": [416, 544]},
            None,
            (416, 544),
            id="site-size-runs",
        ),
        pytest.param(None, "rtsp://cam.local/stream", "pedestrian", None, (416, 544), id="live-keeps-the-preset"),
    ],
)
def test_camera_detector(
    tmp_path: Path,
    video_hw: tuple[int, int] | None,
    source: str,
    detector: object,
    crop: list[int] | None,
    expected: tuple[int, int],
) -> None:
    video = blank_video(tmp_path / "clip.avi", *video_hw) if video_hw else tmp_path / "clip.avi"
    site = parse_site_config(_site(source.format(video=video), detector, crop), tmp_path / "mall.yaml")
    assert detector_plan(site, "cam").profile.input_size == expected


def test_camera_detector_fits_to_a_recording_given_for_the_camera(tmp_path: Path) -> None:
    """`mallflow eval sequence` runs a camera's recording in place of its live source."""
    site = parse_site_config(_site("rtsp://cam.local/stream", "pedestrian"), tmp_path / "mall.yaml")
    recording = blank_video(tmp_path / "recording.avi", 1080, 1920)
    assert detector_plan(site, "cam").profile.input_size == (416, 544)
    assert detector_plan(site, "cam", source=str(recording)).profile.input_size == (640, 1088)


@pytest.mark.parametrize(
    ("source", "detector", "crop", "engine", "expected"),
    [
        pytest.param("rtsp://cam.local/stream", "pedestrian", None, "onnxruntime", True, id="live"),
        pytest.param("rtsp://cam.local/stream", "pedestrian", None, "tensorrt", False, id="live-tensorrt"),
        pytest.param("rtsp://cam.local/stream", "pedestrian", [0, 0, 768, 576], "onnxruntime", False, id="live-crop"),
        pytest.param(
            "rtsp://cam.local/stream",
            {"preset": "pedestrian", "input_size": [480, 640]},
            None,
            "onnxruntime",
            False,
            id="live-size-set",
        ),
        pytest.param("{video}", "pedestrian", None, "onnxruntime", False, id="file-fitted-at-start"),
    ],
)
def test_fitted_at_first_frame(
    tmp_path: Path, source: str, detector: object, crop: list[int] | None, engine: str, expected: bool
) -> None:
    video = blank_video(tmp_path / "clip.avi", 1080, 1920)
    site = parse_site_config(_site(source.format(video=video), detector, crop), tmp_path / "mall.yaml")
    assert detector_plan(site, "cam", engine).per_frame is expected
