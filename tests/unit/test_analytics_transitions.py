"""Zone transitions: per stitched visitor across cameras, else per camera track."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from analytics_db import NS, make_site, ns, sqlite_session
from sqlalchemy.orm import Session

from cloud.analytics.buckets import TimeRange
from cloud.analytics.transitions import Transition, transitions
from cloud.storage.models import Tracklet, ZoneVisit

T0 = ns("2024-06-01T10:00:00+01:00")
TRACKLETS = [("cam-a", 1, "v1"), ("cam-b", 7, "v1"), ("cam-a", 3, None)]
VISITS = [
    # camera, track, zone, entered (s after T0)
    ("cam-a", 1, "food", 0),  # v1: food, food again (no transition), shops on another camera, food
    ("cam-a", 1, "food", 50),
    ("cam-b", 7, "shops", 100),
    ("cam-a", 1, "food", 200),
    ("cam-b", 2, "shops", 10),  # track still open: no tracklet yet
    ("cam-b", 2, "food", 20),
    ("cam-b", 4, "shops", 60),
    ("cam-b", 4, "food", 70),
    ("cam-a", 3, "empty", -5),  # before the range
    ("cam-a", 3, "food", 30),
    ("cam-a", 3, "removed", 35),  # not a configured zone
    ("cam-a", 3, "shops", 40),
]


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    with sqlite_session(tmp_path) as s:
        s.add_all(
            Tracklet(
                site_id="mall",
                camera_id=c,
                track_id=t,
                first_seen_ns=T0,
                last_seen_ns=T0,
                observations=1,
                mean_confidence=0.9,
                visitor_id=v,
            )
            for c, t, v in TRACKLETS
        )
        s.add_all(
            ZoneVisit(site_id="mall", camera_id=c, track_id=t, zone_id=z, entered_ns=T0 + e * NS)
            for c, t, z, e in VISITS
        )
        s.commit()
        yield s


@pytest.mark.parametrize(
    ("end_s", "expected", "paths"),
    [
        (3600, (Transition("shops", "food", 3), Transition("food", "shops", 2)), (1, 3)),
        (0, (), (0, 0)),
        (65, (Transition("food", "shops", 1), Transition("shops", "food", 1)), (1, 3)),
    ],
)
def test_transitions(session: Session, end_s: int, expected: tuple[Transition, ...], paths: tuple[int, int]) -> None:
    result = transitions(session, make_site(), TimeRange(T0, T0 + end_s * NS))
    assert result.transitions == expected
    assert (result.visitor_paths, result.track_paths) == paths
