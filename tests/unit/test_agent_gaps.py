"""Footage after a gap is new footage: a person standing where someone stood before an outage
is a new track, whether the agent heard of the outage before or after the frames around it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from edge.agent.agent import AgentSettings, EdgeAgent
from edge.inference.base import Detector
from edge.publish import InProcessSink
from edge.sources.base import FrameSource, SourceSpec
from shared.config import parse_site_config
from shared.schema import pb

S = 1_000_000_000
FPS = 4.0


class StandingPerson(Detector):
    """One person, always in the same place."""

    def __init__(self) -> None:
        super().__init__("standing-person")

    def _detect(self, images: list[NDArray[np.uint8]]) -> list[NDArray[np.float32]]:
        return [np.array([[100, 60, 140, 180, 0.9, 0]], np.float32) for _ in images]


class Footage(FrameSource):
    """Frames at FPS with one jump in their timestamps after frame `gap_after`."""

    def __init__(self, spec: SourceSpec, frames: int, gap_after: int, gap_s: float) -> None:
        super().__init__(spec)
        self.fps = FPS
        self.frames, self.gap_after, self.gap_ns = frames, gap_after, round(gap_s * S)
        self.n = 0

    def _read(self) -> tuple[NDArray[np.uint8], int | None] | None:
        if self.n == self.frames:
            return None
        pts = round(self.n * S / FPS) + (self.gap_ns if self.n > self.gap_after else 0)
        self.n += 1
        return np.zeros((240, 320, 3), np.uint8), pts

    def close(self) -> None:
        pass


def run(tmp_path: Path, gap_s: float) -> list[pb.Envelope]:
    site = parse_site_config(
        {
            "site": {"id": "mall", "timezone": "UTC"},
            "floors": [{"id": "f1"}],
            "cameras": [{"id": "cam", "source": str(tmp_path / "footage.mkv"), "floor": "f1", "fps_hint": FPS}],
            "tracking": {"reid": False, "cmc_method": "none"},
        }
    )
    received: list[pb.Envelope] = []
    agent = EdgeAgent(
        site,
        ["cam"],
        StandingPerson(),
        None,
        InProcessSink(received.append),
        AgentSettings(edge_id="edge", state_dir=tmp_path / "state"),
        opener=lambda spec: Footage(spec, frames=24, gap_after=11, gap_s=gap_s),
    )
    agent.run()
    return received


@pytest.mark.parametrize(
    ("gap_s", "tracks"),
    [
        # Shorter than a track may stay unseen (track_buffer_s 3 s + 0.5): the same person.
        (1.0, 1),
        # An outage: whoever stands there afterwards is a new track; the old one closed first.
        (20.0, 2),
    ],
)
def test_a_gap_longer_than_a_track_may_stay_unseen_closes_every_track(
    tmp_path: Path, gap_s: float, tracks: int
) -> None:
    received = run(tmp_path, gap_s)
    updates = [env for env in received if env.HasField("track_update")]
    ids = list(dict.fromkeys(env.track_update.track_id for env in updates))
    assert len(ids) == tracks
    closed_at = {env.track_closed.track_id: i for i, env in enumerate(received) if env.HasField("track_closed")}
    assert set(closed_at) == set(ids)
    if tracks == 2:
        first_of_second = next(
            i for i, env in enumerate(received) if env.HasField("track_update") and env.track_update.track_id == ids[1]
        )
        assert closed_at[ids[0]] < first_of_second
