"""Footfall across overlapping cameras: line groups count a person crossing in two views once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from analytics_db import make_site
from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.analytics.buckets import TimeRange
from cloud.analytics.footfall import footfall
from cloud.ingest.applier import EventApplier
from cloud.ingest.registry import SiteRegistry
from cloud.storage import create_db_engine, session_factory, upgrade
from cloud.storage.models import LineCrossing, Occupancy
from shared.config import SiteConfig
from shared.schema import pb

NS = 1_000_000_000
T = 1_780_000_000 * NS
LINE = [[0, 50], [100, 50]]


def grouped_site(**dedup: Any) -> SiteConfig:
    return make_site(
        lines=[
            {"id": "door-a", "camera": "cam-a", "points": LINE, "group": "north-door"},
            {"id": "door-b", "camera": "cam-b", "points": LINE, "group": "north-door"},
        ],
        topology=[{"a": "cam-a", "b": "cam-b", "max_transit_s": 5, "overlapping": True}],
        footfall_dedup=dedup,
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"topology": []}, "which no overlapping topology link joins"),
        (
            {"lines": [{"id": "x", "camera": "cam-a", "points": LINE, "group": "x"}]},
            "has the id of a line",
        ),
        (
            {
                "lines": [
                    {"id": "a1", "camera": "cam-a", "points": LINE, "group": "g"},
                    {"id": "a2", "camera": "cam-a", "points": LINE, "group": "g"},
                ]
            },
            "two lines on one camera",
        ),
        (
            {
                "lines": [
                    {"id": "a1", "camera": "cam-a", "points": LINE, "group": "g"},
                    {"id": "b1", "camera": "cam-b", "points": LINE, "group": "g", "entrance": False},
                ]
            },
            "mixes entrance and non-entrance",
        ),
    ],
)
def test_bad_line_groups_are_named(overrides: dict[str, Any], message: str) -> None:
    raw = grouped_site().model_dump(mode="json")
    with pytest.raises(ValueError, match=message):
        SiteConfig.model_validate({**raw, **overrides})


def crossing(
    camera: str, seq: int, at_s: float, direction: pb.Direction = pb.DIRECTION_IN, x: float | None = None
) -> pb.Envelope:
    env = pb.Envelope(
        schema_version=1, site_id="mall", camera_id=camera, edge_id="e", seq=seq, event_time_ns=T + int(at_s * NS)
    )
    env.line_crossing.line_id = "door-a" if camera == "cam-a" else "door-b"
    env.line_crossing.direction = direction
    env.line_crossing.track_id = seq
    if x is not None:
        env.line_crossing.floor_point.x, env.line_crossing.floor_point.y = x, 0.0
    return env


IN, OUT = pb.DIRECTION_IN, pb.DIRECTION_OUT


@pytest.mark.parametrize(
    ("events", "counted_in", "counted_out"),
    [
        # One person seen by both cameras half a second apart: once.
        ([crossing("cam-a", 1, 0.0), crossing("cam-b", 1, 0.5)], 1, 0),
        # The slower camera's report arriving first changes nothing.
        ([crossing("cam-b", 1, 0.5), crossing("cam-a", 1, 0.0)], 1, 0),
        # Too far apart in time: two people.
        ([crossing("cam-a", 1, 0.0), crossing("cam-b", 1, 3.0)], 2, 0),
        # Opposite directions: two people.
        ([crossing("cam-a", 1, 0.0), crossing("cam-b", 1, 0.2, OUT)], 1, 1),
        # Two people side by side, seen by both cameras: two, not one or four.
        (
            [
                crossing("cam-a", 1, 0.0),
                crossing("cam-a", 2, 0.1),
                crossing("cam-b", 1, 0.3),
                crossing("cam-b", 2, 0.4),
            ],
            2,
            0,
        ),
        # Calibrated views whose floor points disagree: different people.
        ([crossing("cam-a", 1, 0.0, x=0.0), crossing("cam-b", 1, 0.2, x=4.0)], 2, 0),
        ([crossing("cam-a", 1, 0.0, x=0.0), crossing("cam-b", 1, 0.2, x=0.8)], 1, 0),
        # Three crossings on one camera never dedupe each other.
        ([crossing("cam-a", i, 0.1 * i) for i in range(1, 4)], 3, 0),
    ],
)
@pytest.mark.parametrize("batch", [1, 100])
def test_a_crossing_seen_by_both_cameras_counts_once(
    tmp_path: Path, events: list[pb.Envelope], counted_in: int, counted_out: int, batch: int
) -> None:
    site = grouped_site()
    url = f"sqlite:///{tmp_path / 'd.db'}"
    upgrade(url)
    session: Session = session_factory(create_db_engine(url))()
    applier = EventApplier(SiteRegistry([site]))
    for i in range(0, len(events), batch):
        applier.apply(session, events[i : i + batch])
        session.commit()
    report = footfall(session, site, TimeRange(T - 3600 * NS, T + 3600 * NS), "hour")
    assert [(s.line_id, s.direction) for s in report.series] == [("north-door", "in"), ("north-door", "out")]
    assert (report.total_in, report.total_out) == (counted_in, counted_out)
    # Every crossing is kept, duplicates naming what they repeat.
    rows = session.scalars(select(LineCrossing)).all()
    assert len(rows) == len(events)
    assert sum(r.duplicate_of_camera is None for r in rows) == counted_in + counted_out
    site_count = session.get(Occupancy, ("mall", "site", "mall"))
    assert site_count is not None and site_count.count == max(0, counted_in - counted_out)
    # A redelivery is recognised by seq and changes nothing.
    applier.apply(session, events)
    session.commit()
    again = footfall(session, site, TimeRange(T - 3600 * NS, T + 3600 * NS), "hour")
    assert (again.total_in, again.total_out) == (counted_in, counted_out)


def test_the_window_and_distance_are_settings(tmp_path: Path) -> None:
    site = grouped_site(window_s=5.0)
    url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade(url)
    session: Session = session_factory(create_db_engine(url))()
    EventApplier(SiteRegistry([site])).apply(session, [crossing("cam-a", 1, 0.0), crossing("cam-b", 1, 3.0)])
    session.commit()
    assert footfall(session, site, TimeRange(T - 3600 * NS, T + 3600 * NS), "hour").total_in == 1
