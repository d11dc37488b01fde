"""Load shedding of live cameras: an even stride that rises while the agent is behind and is
tried lower again later; the agent stays at real time and says so in camera status."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from prometheus_client import CollectorRegistry

from edge.agent.agent import AgentSettings, EdgeAgent
from edge.agent.camera_reader import CameraReader
from edge.agent.frame_thinning import FrameThinner
from edge.agent.metrics import AgentMetrics
from edge.frames import Frame
from edge.inference.base import Detector
from edge.publish import InProcessSink
from edge.sources.base import FrameSource, SourceSpec
from shared.config import parse_site_config
from shared.config.load_shedding import LoadShedding
from shared.config.loader import ConfigError
from shared.schema import pb

WINDOW_S = 5.0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# One judged window: (frames queued, of them found an earlier frame waiting, frames pushed out).
Window = tuple[int, int, int]
OK: Window = (10, 0, 0)
BUSY: Window = (10, 3, 0)
# With drop_oldest's queue: frames pushed out.
DROPS: Window = (10, 0, 1)


def run_windows(settings: LoadShedding, windows: list[Window], gap_s: float = WINDOW_S) -> list[int]:
    """The stride after each window, each window `gap_s` after the previous."""
    clock = Clock()
    thinner = FrameThinner(settings, clock)
    strides = []
    for puts, waited, drops in windows:
        start = clock.now
        for i in range(puts):
            # Spread over the window; the last one closes it.
            clock.now = start + gap_s * (i + 1) / puts
            thinner.record(waited=i < waited, dropped=1 if i < drops else 0)
        strides.append(thinner.stride)
    return strides


@pytest.mark.parametrize(
    ("settings", "windows", "strides"),
    [
        pytest.param(LoadShedding(), [OK, OK, OK], [1, 1, 1], id="keeping-up"),
        pytest.param(LoadShedding(), [BUSY, BUSY, BUSY], [2, 3, 4], id="frames-wait"),
        pytest.param(LoadShedding(), [(10, 2, 0)], [1], id="now-and-then-is-a-hiccup"),
        pytest.param(LoadShedding(backlog_share=0.5), [BUSY, (10, 6, 0)], [1, 2], id="backlog-share"),
        pytest.param(LoadShedding(max_stride=3), [BUSY] * 5, [2, 3, 3, 3, 3], id="max-stride"),
        pytest.param(LoadShedding(policy="drop_oldest"), [DROPS, BUSY], [1, 1], id="drop-oldest-never-thins"),
        # probe_after 30 s = 6 windows: the 7th OK window tries stride 1, and it holds.
        pytest.param(LoadShedding(), [BUSY] + [OK] * 7, [2, 2, 2, 2, 2, 2, 1, 1], id="probe-holds"),
        # The try falls behind: back to 2, and the next try waits 60 s (12 windows).
        pytest.param(
            LoadShedding(),
            [BUSY] + [OK] * 6 + [BUSY] + [OK] * 12,
            [2] * 6 + [1] + [2] * 12 + [1],
            id="failed-probe-doubles-the-wait",
        ),
        pytest.param(
            LoadShedding(probe_after_s=10, probe_max_s=15),
            [BUSY, OK, OK, BUSY, OK, OK, OK, BUSY, OK, OK, OK],
            [2, 2, 1, 2, 2, 2, 1, 2, 2, 2, 1],
            id="wait-capped",
        ),
        pytest.param(LoadShedding(), [BUSY, BUSY] + [OK] * 12, [2, 3] + [3] * 5 + [2] + [2] * 5 + [1], id="steps-down"),
    ],
)
def test_stride_follows_the_backlog(settings: LoadShedding, windows: list[Window], strides: list[int]) -> None:
    assert run_windows(settings, windows) == strides


def test_nothing_is_judged_before_a_window_has_passed() -> None:
    assert run_windows(LoadShedding(), [BUSY] * 3, gap_s=1.0) == [1, 1, 1]


@pytest.mark.parametrize(
    ("stride", "admitted"),
    [
        (1, [0, 1, 2, 3, 4, 5, 6, 7, 8]),
        (2, [0, 2, 4, 6, 8]),
        (3, [0, 3, 6]),
    ],
)
def test_admits_evenly(stride: int, admitted: list[int]) -> None:
    thinner = FrameThinner(LoadShedding())
    thinner.stride = stride
    assert [i for i in range(9) if thinner.admit()] == admitted
    assert thinner.thinned == 9 - len(admitted)


def test_overloaded_while_thinned_or_behind() -> None:
    clock = Clock()
    thinner = FrameThinner(LoadShedding(policy="drop_oldest"), clock)
    assert not thinner.overloaded
    clock.now = WINDOW_S
    thinner.record(waited=False, dropped=2)
    assert thinner.overloaded and thinner.stride == 1
    clock.now = 2 * WINDOW_S
    thinner.record(waited=False, dropped=0)
    assert not thinner.overloaded


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"policy": "skip"}, "load_shedding.policy"),
        ({"max_stride": 0}, "load_shedding.max_stride"),
        ({"backlog_share": 0}, "load_shedding.backlog_share"),
        ({"probe_after_s": 60, "probe_max_s": 30}, "probe_max_s \\(30.0\\) must be >= probe_after_s"),
        ({"window": 5}, "load_shedding.window"),
    ],
)
def test_bad_settings_are_named(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_site_config(site(load_shedding=section))


def site(**extra: Any) -> dict[str, Any]:
    return {
        "site": {"id": "mall"},
        "floors": [{"id": "f1"}],
        "cameras": [{"id": "cam", "source": "rtsp://127.0.0.1:1/cam", "floor": "f1"}],
        "tracking": {"reid": False, "cmc_method": "none"},
    } | extra


class SlowDetector(Detector):
    """20 batches a second at most: a box with room for a fifth of a 100-fps camera."""

    def __init__(self) -> None:
        super().__init__("slow")

    def _detect(self, images: list[NDArray[np.uint8]]) -> list[NDArray[np.float32]]:
        time.sleep(0.05)
        return [np.array([[100, 60, 140, 180, 0.9, 0]], np.float32) for _ in images]


class FastCamera(FrameSource):
    """A live camera at 100 fps that does not wait for anyone."""

    def __init__(self, spec: SourceSpec, seen: list[int]) -> None:
        super().__init__(spec)
        self.fps = 100.0
        self.n = 0

    def _read(self) -> tuple[NDArray[np.uint8], int | None] | None:
        time.sleep(0.01)
        self.n += 1
        return np.zeros((240, 320, 3), np.uint8), None

    def close(self) -> None:
        pass


@pytest.mark.parametrize(
    ("max_association_fps", "strides"),
    [
        # Every kept frame detected: the stride rises to the cap (capacity ~20 of 100 fps).
        (None, {5}),
        # Only the frames the tracker associates (about 15 a second) are detected: the same
        # box keeps more of the camera's frames.
        (15.0, {2, 3, 4}),
    ],
)
def test_an_agent_behind_a_live_camera_thins_it_evenly_and_says_so(
    tmp_path: Path, max_association_fps: float | None, strides: set[int]
) -> None:
    raw = site(load_shedding={"window_s": 0.3, "probe_after_s": 60})
    raw["tracking"]["max_association_fps"] = max_association_fps
    config = parse_site_config(raw)
    received: list[pb.Envelope] = []
    registry = CollectorRegistry()
    agent = EdgeAgent(
        config,
        ["cam"],
        SlowDetector(),
        None,
        InProcessSink(received.append),
        AgentSettings(edge_id="edge", state_dir=tmp_path / "state", status_interval_s=0.5),
        opener=lambda spec: FastCamera(spec, []),
        metrics=AgentMetrics(registry),
    )
    processed: list[int] = []
    threading.Timer(4.0, agent.stop.set).start()
    agent.run(on_frame=lambda camera_id, frames, fps, lag_ms: processed.append(frames))

    statuses = [e.camera_status for e in received if e.WhichOneof("payload") == "camera_status"]
    online = [s for s in statuses if s.state == pb.CAMERA_STATE_ONLINE and s.frames > 0]
    last = online[-1]
    assert last.overloaded
    assert last.source_fps == 100.0
    # Most skipped frames were skipped evenly.
    assert last.thinned_frames > last.dropped_frames
    assert registry.get_sample_value("mallflow_edge_camera_overloaded", {"camera": "cam"}) == 1.0
    assert registry.get_sample_value("mallflow_edge_thinned_frames_total", {"camera": "cam"}) > 0
    reader = agent._readers["cam"]
    assert reader.thinner.stride in strides


@pytest.mark.parametrize(
    ("uri", "policy", "queued", "dropped"),
    [
        pytest.param("rtsp://127.0.0.1:1/cam", "thin", [9], 9, id="live-thin-newest-only"),
        pytest.param("rtsp://127.0.0.1:1/cam", "drop_oldest", [6, 7, 8, 9], 6, id="live-drop-oldest"),
    ],
)
def test_what_waits_for_a_busy_agent(uri: str, policy: str, queued: list[int], dropped: int) -> None:
    """Ten frames of a live camera while the agent takes none."""
    reader = CameraReader(
        SourceSpec("cam", uri),
        lambda spec: FastCamera(spec, []),
        lambda event: None,
        threading.Event(),
        queue_size=4,
        shedding=LoadShedding(policy=policy),
    )
    for i in range(10):
        reader._put(Frame("cam", i, i + 1, np.zeros((2, 2, 3), np.uint8)))
    assert [reader.frames.get_nowait().index for _ in range(reader.frames.qsize())] == queued
    assert (reader.dropped, reader.thinned) == (dropped, 0)
