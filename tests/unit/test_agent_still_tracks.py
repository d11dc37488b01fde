"""The agent names tracks that stay on one spot (a mannequin taken for a person) in its log and metrics."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from prometheus_client import CollectorRegistry

from edge.agent.agent import AgentSettings, EdgeAgent
from edge.agent.metrics import AgentMetrics
from edge.inference.base import Detector
from edge.publish import InProcessSink
from edge.sources.base import FrameSource, SourceSpec
from shared.config import parse_site_config

FRAMES = 60
FPS = 10.0


class StillAndWalking(Detector):
    """Each frame: a figure that never moves at (100, 60)-(140, 180), and a walker 6 px further right each frame."""

    def __init__(self) -> None:
        super().__init__("still-and-walking")

    def _detect(self, images: list[NDArray[np.uint8]]) -> list[NDArray[np.float32]]:
        out = []
        for image in images:
            x = 160 + 6 * int(image[0, 0, 0])
            out.append(np.array([[100, 60, 140, 180, 0.9, 0], [x, 60, x + 40, 180, 0.9, 0]], np.float32))
        return out


class Recording(FrameSource):
    """A 10 fps file whose frame k carries k in its first pixel, for the detector above."""

    def __init__(self, spec: SourceSpec) -> None:
        super().__init__(spec)
        self.fps = FPS
        self.n = 0

    def _read(self) -> tuple[NDArray[np.uint8], int | None] | None:
        if self.n == FRAMES:
            return None
        image = np.zeros((240, 480, 3), np.uint8)
        image[0, 0, 0] = self.n
        self.n += 1
        return image, None

    def close(self) -> None:
        pass


@pytest.mark.parametrize(("still_warning_s", "named"), [(3.0, True), (10.0, False)])
def test_a_figure_that_never_moves_is_named_once_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, still_warning_s: float, named: bool
) -> None:
    config = parse_site_config(
        {
            "site": {"id": "mall"},
            "floors": [{"id": "f1"}],
            "cameras": [{"id": "cam", "source": "/videos/cam.mp4", "floor": "f1"}],
            "tracking": {"reid": False, "cmc_method": "none"},
        }
    )
    registry = CollectorRegistry()
    agent = EdgeAgent(
        config,
        ["cam"],
        StillAndWalking(),
        None,
        InProcessSink(lambda envelope: None),
        AgentSettings(edge_id="edge", state_dir=tmp_path / "state", still_warning_s=still_warning_s),
        opener=Recording,
        metrics=AgentMetrics(registry),
    )
    with caplog.at_level(logging.WARNING, logger="edge.agent.agent"):
        agent.run()
    warnings = [r.getMessage() for r in caplog.records if "has stayed at" in r.getMessage()]
    # 6 s of footage: the still figure for all of it, the walker nowhere for long.
    if named:
        [warning] = warnings
        assert re.fullmatch(
            r"camera cam: track \d+ has stayed at \(120, 120\) for 3 s: a person waiting, or an object taken for one "
            r"\(if so, leave it out of the camera's coverage\)",
            warning,
        ), warning
    else:
        assert warnings == []
    # The gauge holds the count at the camera's last frame: the still figure, not the walker.
    assert registry.get_sample_value("mallflow_edge_still_tracks", {"camera": "cam"}) == (1.0 if named else 0.0)


def test_the_setting_is_checked() -> None:
    with pytest.raises(ValueError, match=re.escape("still_warning_s must be a positive number of seconds, got 0.0")):
        AgentSettings(edge_id="edge", state_dir=Path("/tmp/x"), still_warning_s=0.0)
