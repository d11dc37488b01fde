"""A live camera's detector input fitted at its first frame, and which cameras the agent runs that way."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray
from support.blank_video import blank_video

from edge.agent.agent import AgentSettings, EdgeAgent
from edge.agent.assemble import AgentOptions, assemble_agent
from edge.inference.base import Detector
from edge.inference.factory import create_detector
from edge.inference.frame_fitted import FrameFittedDetector
from edge.inference.onnx_detector import OnnxDetector
from edge.publish import InProcessSink
from edge.sources.factory import open_source
from edge.sources.reconnect import Backoff
from shared.config import parse_site_config
from shared.config.detector import PRESETS, DetectorProfile


class SizeStamp(Detector):
    """One box per image whose score is the image's height, so callers can see who ran which image."""

    concurrent_calls = True

    def __init__(self, profile: DetectorProfile) -> None:
        super().__init__("stub@00000000")
        self.input_size = profile.input_size
        self.calls: list[int] = []

    def _detect(self, images: list[NDArray[np.uint8]]) -> list[NDArray[np.float32]]:
        self.calls.append(len(images))
        return [np.array([[0, 0, 1, 1, image.shape[0], 0]], dtype=np.float32) for image in images]


class SerialStamp(SizeStamp):
    concurrent_calls = False


def _frame(h: int, w: int) -> NDArray[np.uint8]:
    return np.zeros((h, w, 3), np.uint8)


def recording(loads: list[SizeStamp]) -> Callable[[DetectorProfile], SizeStamp]:
    """A loader that keeps every detector it makes in `loads`."""

    def load(profile: DetectorProfile) -> SizeStamp:
        loads.append(SizeStamp(profile))
        return loads[-1]

    return load


def test_each_frame_size_gets_its_input_once() -> None:
    loads: list[SizeStamp] = []
    detector = FrameFittedDetector(PRESETS["pedestrian"], recording(loads))
    assert [d.input_size for d in loads] == [(416, 544)]  # the profile's own, at once

    found = detector.detect([_frame(1080, 1920), _frame(576, 768), _frame(1080, 1920), _frame(720, 1280)])
    assert [float(f[0, 4]) for f in found] == [1080, 576, 1080, 720]  # in the order given
    assert [d.input_size for d in loads] == [(416, 544), (640, 1088), (512, 896)]
    assert [d.calls for d in loads] == [[1], [2], [1]]  # frames of one size in one call

    detector.detect([_frame(1080, 1920)])
    assert len(loads) == 3 and loads[1].calls == [2, 1]
    assert detector.input_sizes == [(416, 544), (640, 1088), (512, 896)]
    assert detector.model_id == "stub@00000000"


def test_a_profile_that_sets_its_size_is_never_refitted() -> None:
    loads: list[SizeStamp] = []
    profile = PRESETS["pedestrian"].model_copy(update={"fit_to_frame": False})
    detector = FrameFittedDetector(profile, recording(loads))
    detector.detect([_frame(1080, 1920)])
    assert [d.input_size for d in loads] == [(416, 544)]


def test_concurrent_first_frames_load_one_detector() -> None:
    loads: list[SizeStamp] = []
    detector = FrameFittedDetector(PRESETS["pedestrian"], recording(loads))
    threads = [threading.Thread(target=detector.detect, args=([_frame(1080, 1920)],)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [d.input_size for d in loads] == [(416, 544), (640, 1088)]


def test_a_detector_that_cannot_run_concurrently_is_refused() -> None:
    with pytest.raises(ValueError, match="SerialStamp does not allow concurrent calls"):
        FrameFittedDetector(PRESETS["pedestrian"], SerialStamp)


@pytest.mark.parametrize(
    ("source", "crop", "detector", "expected"),
    [
        pytest.param("rtsp://cam.local/live", None, "pedestrian", "fitted per frame", id="live-fitted-at-first-frame"),
        pytest.param("rtsp://cam.local/live", [0, 0, 768, 576], "pedestrian", (416, 544), id="live-crop-known"),
        pytest.param("{big}", None, "pedestrian", (640, 1088), id="file-fitted-at-start"),
        pytest.param(
            "rtsp://cam.local/live",
            None,
            {"preset": "pedestrian", "input_size": [480, 640]},
            (480, 640),
            id="live-size-set-in-site",
        ),
    ],
)
def test_agent_fits_each_camera_where_its_size_is_known(
    tmp_path: Path, source: str, crop: list[int] | None, detector: object, expected: object
) -> None:
    big = blank_video(tmp_path / "hall.avi", 1080, 1920)
    camera: dict[str, object] = {"id": "cam", "source": source.format(big=big), "floor": "f1", "detector": detector}
    if crop is not None:
        camera["crop"] = crop
    raw = {"site": {"id": "mall"}, "floors": [{"id": "f1"}], "cameras": [camera]}
    site = parse_site_config(raw, tmp_path / "site.yaml")
    options = AgentOptions(edge_id="edge-1", state_dir=tmp_path / "state")
    agent = assemble_agent(site, ["cam"], InProcessSink([].append), options)
    assert isinstance(agent, EdgeAgent)
    loaded = agent.detectors["cam"]
    if expected == "fitted per frame":
        assert isinstance(loaded, FrameFittedDetector)
        assert loaded.input_sizes == [(416, 544)]
    else:
        assert isinstance(loaded, OnnxDetector)
        assert loaded.input_size == expected


def _upscaled(video: Path, out: Path, frames: int, size: tuple[int, int]) -> Path:
    """The first `frames` of `video` resized to `size` (width, height): the same people, a larger camera."""
    capture = cv2.VideoCapture(str(video))
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"MJPG"), 7.0, size)
    try:
        for _ in range(frames):
            ok, image = capture.read()
            assert ok, f"{video} has fewer than {frames} frames"
            writer.write(cv2.resize(image, size, interpolation=cv2.INTER_LINEAR))
    finally:
        capture.release()
        writer.release()
    return out


def test_agent_tracks_people_on_a_large_camera_fitted_at_its_first_frame(vtest_video: Path, tmp_path: Path) -> None:
    clip = _upscaled(vtest_video, tmp_path / "hall.avi", 20, (1920, 1080))
    raw = {
        "site": {"id": "mall"},
        "floors": [{"id": "f1"}],
        "cameras": [{"id": "hall", "source": str(clip), "floor": "f1", "fps_hint": 7.0}],
        "tracking": {"reid": False},
    }
    site = parse_site_config(raw, tmp_path / "site.yaml")
    detector = FrameFittedDetector(site.detector_of("hall"), lambda p: create_detector(profile=p))
    received: list[object] = []
    agent = EdgeAgent(
        site,
        ["hall"],
        detector,
        None,
        InProcessSink(received.append),
        AgentSettings(edge_id="edge-test", state_dir=tmp_path / "state", backoff=Backoff(initial_s=0.01)),
        opener=lambda spec: open_source(spec, "opencv"),
    )
    [report] = agent.run()
    assert report.frames == 20
    assert detector.input_sizes == [(416, 544), (640, 1088)]
    tracked = {e.track_update.track_id for e in received if e.WhichOneof("payload") == "track_update"}
    assert len(tracked) >= 3  # PETS09's first frames show several walkers
