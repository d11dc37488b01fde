"""The stitching hook across batches: a rebalance (or restart) rebuilds each site's stitcher
from the database, and the decisions after it must be those of a consumer that kept its state
in memory; where a batch ends does not change them either."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.consumer.service import _ResetOnRebalance
from cloud.ingest.applier import EventApplier
from cloud.ingest.registry import SiteRegistry
from cloud.stitching.hook import StitchingHook
from cloud.storage import create_db_engine, session_factory, upgrade
from cloud.storage.models import Tracklet
from shared.config import SiteConfig
from shared.schema import pb
from shared.schema.envelope import pack_embedding

NS = 1_000_000_000
DECIMETRES = {
    "image_points": [[0, 0], [100, 0], [100, 100], [0, 100]],
    "floor_points": [[0, 0], [10, 0], [10, 10], [0, 10]],
}
ME = np.array([1.0, 0.1, 0.0], dtype=np.float32)
SOMEONE_ELSE = np.array([0.0, 0.1, 1.0], dtype=np.float32)


def site(link: dict[str, object]) -> SiteConfig:
    return SiteConfig.model_validate(
        {
            "site": {"id": "s"},
            "floors": [{"id": "f1"}],
            "cameras": [
                {"id": c, "source": "/dev/null", "floor": "f1", "homography": DECIMETRES} for c in ("a", "b", "c")
            ],
            "topology": [link],
        }
    )


class Stream:
    """Closed tracklets as the edge sends them, one seq counter per camera."""

    def __init__(self) -> None:
        self.seq: dict[str, int] = {}

    def closed(
        self,
        camera: str,
        track: int,
        first_s: float,
        last_s: float,
        vector: np.ndarray,
        confidence: float = 0.8,
        at: tuple[float, float] = (5.0, 5.0),
    ) -> pb.Envelope:
        self.seq[camera] = self.seq.get(camera, 0) + 1
        env = pb.Envelope(
            schema_version=1, site_id="s", camera_id=camera, seq=self.seq[camera], event_time_ns=int(last_s * NS)
        )
        tc = env.track_closed
        tc.track_id = track
        tc.first_seen_ns, tc.last_seen_ns = int(first_s * NS), int(last_s * NS)
        tc.observations, tc.mean_confidence, tc.floor_id = 10, confidence, "f1"
        tc.first_floor_point.x, tc.first_floor_point.y = at
        tc.last_floor_point.x, tc.last_floor_point.y = at
        tc.embedding.CopyFrom(pack_embedding(vector, "m", 0.9))
        return env

    def clock(self, time_s: float) -> pb.Envelope:
        """Time passing on a far camera (a low-confidence track: stored, never a visitor)."""
        return self.closed("c", 1000 + self.seq.get("c", 0), time_s - 1, time_s, SOMEONE_ELSE, confidence=0.1)


def visitors(
    tmp_path: Path, name: str, s: SiteConfig, batches: list[list[pb.Envelope]], rebalance_at: int
) -> dict[tuple[str, int], str | None]:
    url = f"sqlite:///{tmp_path / name}.db"
    upgrade(url)
    registry = SiteRegistry([s])
    applier, hook = EventApplier(registry), StitchingHook(registry)
    listener = _ResetOnRebalance([hook])
    with session_factory(create_db_engine(url))() as session:
        for i, batch in enumerate(batches):
            if i == rebalance_at:
                # What kafka-python calls around a rebalance, in the polling thread.
                listener.on_partitions_revoked(set())
                listener.on_partitions_assigned(set())
            apply(session, applier, hook, batch)
        return {
            (t.camera_id, t.track_id): t.visitor_id for t in session.scalars(select(Tracklet)) if t.camera_id != "c"
        }


def apply(session: Session, applier: EventApplier, hook: StitchingHook, batch: list[pb.Envelope]) -> None:
    hook(session, applier.apply(session, batch))
    session.commit()


def overlapping_views() -> tuple[SiteConfig, list[list[pb.Envelope]]]:
    # Camera b sees the person first and longest; a sees them in between, at the same spot.
    # P (a) closes first and starts the visitor, S (b) continues it although it began
    # before P: S is the visitor's open end. T comes back into b 10 s after S left, too
    # late to continue P over the link, in time to re-enter after S.
    s = site({"a": "a", "b": "b", "min_transit_s": 0, "max_transit_s": 10, "overlapping": True})
    stream = Stream()
    return s, [
        [stream.closed("a", 1, 2, 10, ME), stream.closed("b", 2, 0, 15, ME), stream.clock(21)],
        [stream.closed("b", 3, 25, 30, ME), stream.clock(40)],
    ]


def long_stay() -> tuple[SiteConfig, list[list[pb.Envelope]]]:
    # S starts 2 s after P left camera a but stands in view of b for over three minutes; in
    # between someone else is seen for long enough that P falls out of the horizon behind the
    # newest stored tracklet. A running stitcher keeps P open for S (max_track_s).
    s = site({"a": "a", "b": "b", "min_transit_s": 0, "max_transit_s": 10})
    stream = Stream()
    return s, [
        [stream.closed("a", 1, 0, 10, ME), stream.clock(16)],
        [stream.closed("a", 2, 100, 150, SOMEONE_ELSE), stream.clock(160)],
        [stream.closed("b", 3, 12, 200, ME), stream.clock(210)],
    ]


def clock_jump() -> tuple[SiteConfig, list[list[pb.Envelope]]]:
    # P is still undecided when the next batch moves the site's clock past the horizon (a
    # quiet spell, a camera catching up): that batch decides it, rebuilt or not. S, seen
    # from 2 s after P left until long after, continues it.
    s = site({"a": "a", "b": "b", "min_transit_s": 0, "max_transit_s": 10})
    stream = Stream()
    return s, [
        [stream.closed("a", 1, 0, 10, ME), stream.clock(12)],
        [stream.clock(100)],
        [stream.closed("b", 3, 12, 105, ME), stream.clock(115)],
    ]


Scene = Callable[[], tuple[SiteConfig, list[list[pb.Envelope]]]]


@pytest.mark.parametrize("scene", [overlapping_views, long_stay, clock_jump])
def test_a_rebalance_rebuilds_what_the_running_stitcher_had(tmp_path: Path, scene: Scene) -> None:
    s, batches = scene()
    kept = visitors(tmp_path, "kept", s, batches, rebalance_at=-1)
    # The scene links its last tracklet to the first visitor: otherwise it tests nothing.
    assert kept[("b", 3)] == kept[("a", 1)]
    for at in range(1, len(batches)):
        assert visitors(tmp_path, f"rebalanced-{at}", s, batches, rebalance_at=at) == kept, at


def test_a_camera_end_alone_in_its_batch_decides_the_cameras_pending_tracklets(tmp_path: Path) -> None:
    s = site({"a": "a", "b": "b", "min_transit_s": 0, "max_transit_s": 10})
    stream = Stream()
    closed = [stream.closed("a", 1, 0, 10, ME), stream.closed("a", 2, 30, 40, SOMEONE_ELSE)]
    end = pb.Envelope(schema_version=1, site_id="s", camera_id="a", seq=3, event_time_ns=41 * NS)
    end.camera_status.state = pb.CAMERA_STATE_ENDED
    # A consumer's poll ends wherever its partition's records do: here between the last
    # tracklet and the camera's end, which arrives with no other event of the site.
    together = visitors(tmp_path, "together", s, [[*closed, end]], rebalance_at=-1)
    apart = visitors(tmp_path, "apart", s, [closed, [end]], rebalance_at=-1)
    assert together == apart == {("a", 1): "s:a:1", ("a", 2): "s:a:2"}


def test_the_rebalance_listener_resets_every_hook_that_can() -> None:
    calls: list[str] = []

    class Stateful:
        def __call__(self, session: Session, result: object) -> None:
            pass

        def reset(self) -> None:
            calls.append("reset")

    def stateless(session: Session, result: object) -> None:
        pass

    listener = _ResetOnRebalance([Stateful(), stateless])
    listener.on_partitions_revoked(set())
    listener.on_partitions_assigned(set())
    assert calls == ["reset", "reset"]
