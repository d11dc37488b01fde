"""Applying the real edge stream to SQLite: totals match the events, replays change nothing."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.db import totals

from cloud.ingest.applier import EventApplier, _gate, _rising
from cloud.ingest.registry import HeatmapGrid, SiteRegistry
from cloud.storage import create_db_engine, session_factory, upgrade
from cloud.storage.models import (
    CameraHealth,
    CameraOutage,
    CameraProgress,
    HeatmapCell,
    Occupancy,
    ZoneVisit,
)
from shared.config import SiteConfig
from shared.config.site import Floor
from shared.schema import decode_envelope, pb


@pytest.fixture
def session(tmp_path: Path) -> Session:
    url = f"sqlite:///{tmp_path / 'ingest.db'}"
    upgrade(url)
    return session_factory(create_db_engine(url))()


@pytest.fixture
def envelopes(clip_events: list[bytes]) -> list[pb.Envelope]:
    return [decode_envelope(b) for b in clip_events]


def test_stream_totals_match_the_events(
    session: Session, envelopes: list[pb.Envelope], pets09_site: SiteConfig
) -> None:
    applier = EventApplier(SiteRegistry([pets09_site]))
    result = applier.apply(session, envelopes)
    session.commit()
    kinds = Counter(e.WhichOneof("payload") for e in envelopes)
    assert result.applied == len(envelopes) and result.duplicates == 0
    t = totals(session)
    assert t["crossings"] == t["footfall"] == kinds["line_crossing"]
    assert t["tracklets"] == kinds["track_closed"] == len(result.closed)
    enters = sum(
        1 for e in envelopes if e.HasField("zone_transition") and e.zone_transition.event == pb.ZONE_EVENT_ENTER
    )
    assert t["zone_visits"] == enters
    # Every visit closed (the agent closes zones at the end of the file) with a dwell.
    assert all(v.dwell_s is not None and v.dwell_s >= 0 for v in session.scalars(select(ZoneVisit)))
    # Everybody left the zone by the end; counts never went negative.
    assert ("zone", "centre", 0) in t["occupancy"]  # type: ignore[operator]
    with_floor = sum(1 for e in envelopes if e.HasField("track_update") and e.track_update.HasField("floor_point"))
    assert 0 < t["heat_s"] <= with_floor * 0.5  # type: ignore[operator]
    assert session.get(CameraHealth, ("pets09", "cam-main")).state == "ended"  # type: ignore[union-attr]


@pytest.mark.parametrize("split", [1, 7, 100])
def test_redelivery_in_any_batching_changes_nothing(
    session: Session, envelopes: list[pb.Envelope], pets09_site: SiteConfig, split: int
) -> None:
    applier = EventApplier(SiteRegistry([pets09_site]))
    applier.apply(session, envelopes)
    session.commit()
    before = totals(session)
    duplicates = 0
    for i in range(0, len(envelopes), split):
        duplicates += applier.apply(session, envelopes[i : i + split]).duplicates
        session.commit()
    assert duplicates == len(envelopes)
    assert totals(session) == before


def test_batches_applied_in_pieces_equal_one_batch(
    tmp_path: Path, session: Session, envelopes: list[pb.Envelope], pets09_site: SiteConfig
) -> None:
    applier = EventApplier(SiteRegistry([pets09_site]))
    applier.apply(session, envelopes)
    session.commit()
    whole = totals(session)
    url = f"sqlite:///{tmp_path / 'pieces.db'}"
    upgrade(url)
    other = session_factory(create_db_engine(url))()
    for i in range(0, len(envelopes), 13):
        applier.apply(other, envelopes[i : i + 13])
        other.commit()
    assert totals(other) == whole


@pytest.mark.parametrize(
    ("extent", "cell", "point", "expected"),
    [
        (None, 1.0, (2.5, -0.5), (2, -1)),
        ((-10.0, -10.0, 10.0, 10.0), 2.0, (-9.0, 9.9), (0, 9)),
        ((-10.0, -10.0, 10.0, 10.0), 2.0, (10.5, 0.0), None),
    ],
)
def test_heatmap_cells(
    extent: tuple[float, float, float, float] | None,
    cell: float,
    point: tuple[float, float],
    expected: tuple[int, int] | None,
) -> None:
    grid = HeatmapGrid.of(Floor(id="f", extent=extent, heatmap_cell_m=cell))
    cells, inside = grid.cells(np.array([point]))
    assert (tuple(cells[0].tolist()) if inside[0] else None) == expected


def test_exit_before_any_enter_never_makes_occupancy_negative(session: Session, pets09_site: SiteConfig) -> None:
    env = pb.Envelope(
        schema_version=1, site_id="pets09", camera_id="cam-main", edge_id="e", seq=1, event_time_ns=10**18
    )
    env.zone_transition.zone_id = "centre"
    env.zone_transition.event = pb.ZONE_EVENT_EXIT
    env.zone_transition.track_id = 5
    env.zone_transition.entered_time_ns = 10**18 - 3 * 10**9
    EventApplier(SiteRegistry([pets09_site])).apply(session, [env])
    session.commit()
    assert session.get(Occupancy, ("pets09", "zone", "centre")).count == 0  # type: ignore[union-attr]
    visit = session.scalars(select(ZoneVisit)).one()
    assert visit.dwell_s == pytest.approx(3.0)


def _status(seq: int, state: int, at_s: float, message: str = "") -> pb.Envelope:
    env = pb.Envelope(
        schema_version=1, site_id="pets09", camera_id="cam-main", edge_id="e", seq=seq, event_time_ns=round(at_s * 1e9)
    )
    env.camera_status.state = state
    env.camera_status.message = message
    return env


ON, RECON, OFF, END = (
    pb.CAMERA_STATE_ONLINE,
    pb.CAMERA_STATE_RECONNECTING,
    pb.CAMERA_STATE_OFFLINE,
    pb.CAMERA_STATE_ENDED,
)


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        # (state, at s) in order -> outages as (started s, ended s or None, state)
        ([(ON, 0), (ON, 10)], []),
        ([(ON, 0), (RECON, 5), (RECON, 6), (RECON, 8), (ON, 15)], [(5, 15, "reconnecting")]),
        ([(RECON, 5), (OFF, 20)], [(5, None, "offline")]),
        ([(ON, 0), (RECON, 5), (ON, 7), (RECON, 30), (ON, 31)], [(5, 7, "reconnecting"), (30, 31, "reconnecting")]),
        # The agent stopped while the camera was down: the outage stays open until it is back.
        ([(RECON, 5), (RECON, 9)], [(5, None, "reconnecting")]),
        ([(RECON, 5), (END, 9)], [(5, 9, "reconnecting")]),
        ([(ON, 0), (END, 9)], []),
    ],
)
@pytest.mark.parametrize("batch", [1, 2, 100])
def test_camera_outages_open_on_the_first_down_status_and_close_when_back(
    session: Session,
    pets09_site: SiteConfig,
    states: list[tuple[int, float]],
    expected: list[tuple[float, float | None, str]],
    batch: int,
) -> None:
    envelopes = [_status(i + 1, state, at, "no frame within 5 s") for i, (state, at) in enumerate(states)]
    applier = EventApplier(SiteRegistry([pets09_site]))
    for i in range(0, len(envelopes), batch):
        applier.apply(session, envelopes[i : i + batch])
        session.commit()
    # Redelivered: nothing changes.
    applier.apply(session, envelopes)
    session.commit()
    rows = session.scalars(select(CameraOutage).order_by(CameraOutage.started_ns)).all()
    assert [(r.started_ns / 1e9, None if r.ended_ns is None else r.ended_ns / 1e9, r.state) for r in rows] == expected
    assert all(r.message == "no frame within 5 s" for r in rows)


def _update(
    seq: int, point: tuple[float, float] | None = (0.5, 0.5), floor: str = "ground", at_s: float = 0.0
) -> pb.Envelope:
    env = pb.Envelope(
        schema_version=1,
        site_id="pets09",
        camera_id="cam-main",
        edge_id="e",
        seq=seq,
        event_time_ns=10**18 + round(at_s * 1e9),
    )
    env.track_update.track_id = seq
    env.track_update.floor_id = floor
    if point is not None:
        env.track_update.floor_point.x, env.track_update.floor_point.y = point
    return env


@pytest.mark.parametrize(
    ("stored", "batch", "applied", "duplicates"),
    [
        (0, [1, 2, 3], 3, 0),
        (0, [3, 2, 1], 3, 0),  # out of order: gated in seq order, nothing lost
        (2, [1, 2, 3, 4], 2, 2),
        (2, [4, 3, 3, 1], 2, 2),
        (0, [1, 1, 2, 2], 2, 2),  # a record delivered twice in one batch
        (5, [6, 2, 7, 4, 6], 2, 3),
        (5, [9, 7, 8], 3, 0),  # a replay behind the live stream, above the stored seq
    ],
)
def test_the_seq_gate_applies_each_new_seq_once_in_any_order(
    session: Session, pets09_site: SiteConfig, stored: int, batch: list[int], applied: int, duplicates: int
) -> None:
    applier = EventApplier(SiteRegistry([pets09_site]))
    if stored:
        applier.apply(session, [_update(stored)])
        session.commit()
    result = applier.apply(session, [_update(seq) for seq in batch])
    session.commit()
    assert (result.applied, result.duplicates) == (applied, duplicates)
    progress = session.get(CameraProgress, ("pets09", "cam-main"))
    assert progress is not None and progress.last_seq == max(stored, *batch)
    interval = 1 / pets09_site.tracking.update_hz
    assert sum(session.scalars(select(HeatmapCell.seconds))) == pytest.approx((applied + (stored > 0)) * interval)


@pytest.mark.parametrize(
    ("stored", "batch", "usual"),
    [
        ({}, [("a", 1), ("b", 1), ("a", 2), ("b", 2)], True),
        ({"a": 1}, [("a", 2), ("b", 5), ("a", 3), ("c", 9)], True),
        ({"a": 1, "b": 7}, [("b", 8), ("a", 5)], True),  # gaps are fine: rising is what counts
        ({"a": 2}, [("a", 2), ("b", 1)], False),  # a replayed seq
        ({}, [("a", 2), ("b", 1), ("a", 1)], False),  # out of order within a camera
        ({}, [("a", 1), ("a", 1)], False),  # delivered twice in one batch
        ({"b": 3}, [("a", 1), ("b", 4), ("b", 2)], False),
        ({}, [("a", 2**63)], False),  # past int64: left to the Python gate
    ],
)
def test_the_numpy_gate_answers_the_usual_batch_as_the_python_one_and_steps_aside_otherwise(
    stored: dict[str, int], batch: list[tuple[str, int]], usual: bool
) -> None:
    heads = [("s", camera, seq, 1000 + i, pb.Envelope(), "track_update", None) for i, (camera, seq) in enumerate(batch)]
    last = {("s", camera): seq for camera, seq in stored.items()}
    fast = _rising(heads, last)
    assert (fast is not None) == usual
    if fast is not None:
        assert fast == _gate(heads, last)


def test_heat_of_a_batch_is_each_update_counted_in_its_cell_and_hour(session: Session, pets09_site: SiteConfig) -> None:
    """The batch's cells computed at once equal the updates taken one by one: points off the
    floor's extent, not finite, missing, or on an unknown floor count nowhere."""
    rng = np.random.default_rng(7)
    points: list[tuple[float, float] | None] = [
        (float(x), float(y)) for x, y in rng.uniform([-25.0, -20.0], [12.0, 12.0], size=(300, 2))
    ]
    points += [None, (float("nan"), 1.0), (1.0, float("inf")), (-22.0, -18.0), (8.999, 8.999), (9.0, 0.0)]
    envs = [_update(i + 1, p, at_s=i * 20.0) for i, p in enumerate(points)]
    envs.append(_update(len(envs) + 1, (0.0, 0.0), floor="mezzanine"))
    EventApplier(SiteRegistry([pets09_site])).apply(session, envs)
    session.commit()
    interval = 1 / pets09_site.tracking.update_hz
    expected: Counter[tuple[int, int, int]] = Counter()
    for env in envs:
        tu = env.track_update
        x, y = tu.floor_point.x, tu.floor_point.y
        if tu.floor_id != "ground" or not tu.HasField("floor_point") or not (math.isfinite(x) and math.isfinite(y)):
            continue
        cx, cy = math.floor(x + 22.0), math.floor(y + 18.0)
        if 0 <= cx < 31 and 0 <= cy < 27:
            expected[(env.event_time_ns // 10**9 // 3600 * 3600, cx, cy)] += 1
    stored = {
        (c.bucket_s, c.cell_x, c.cell_y): c.seconds
        for c in session.scalars(select(HeatmapCell).where(HeatmapCell.floor_id == "ground"))
    }
    assert len(expected) > 100 and len({k[0] for k in expected}) == 3
    assert stored == pytest.approx({k: n * interval for k, n in expected.items()})
    assert session.scalars(select(HeatmapCell).where(HeatmapCell.floor_id == "mezzanine")).first() is None
