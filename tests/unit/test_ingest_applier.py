"""Applying the real edge stream to SQLite: totals match the events, replays change nothing."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.db import totals

from cloud.ingest.applier import EventApplier
from cloud.ingest.registry import HeatmapGrid, SiteRegistry
from cloud.storage import create_db_engine, session_factory, upgrade
from cloud.storage.models import (
    CameraHealth,
    CameraOutage,
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
    assert grid.cell(*point) == expected


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
