"""Camera health: last reported status, last event time and the stale flag."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from analytics_db import NS, make_site, sqlite_session
from sqlalchemy.orm import Session

from cloud.analytics.camera_health import CameraHealthStatus, camera_health
from cloud.storage.models import CameraHealth, CameraOutage, CameraProgress

LAST_EVENT = 1_717_236_000 * NS


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    with sqlite_session(tmp_path) as s:
        s.add(
            CameraHealth(
                site_id="mall",
                camera_id="cam-a",
                edge_id="edge-1",
                state="online",
                # Thinned to every 2nd frame of a 7-fps camera.
                fps=3.5,
                source_fps=7.0,
                frames=700,
                dropped_frames=3,
                thinned_frames=700,
                overloaded=True,
                lag_ms=120.0,
                model_versions={"detector": "yolox"},
                message="",
                status_ns=LAST_EVENT - 5 * NS,
            )
        )
        s.add_all(
            [
                CameraProgress(site_id="mall", camera_id="cam-a", last_seq=10, last_event_ns=LAST_EVENT),
                # Known to the data only (removed from the config since).
                CameraProgress(site_id="mall", camera_id="cam-old", last_seq=4, last_event_ns=LAST_EVENT - 3600 * NS),
                CameraProgress(site_id="other", camera_id="cam-b", last_seq=4, last_event_ns=LAST_EVENT),
            ]
        )
        s.commit()
        yield s


@pytest.mark.parametrize(
    ("after_s", "stale_after_s", "stale_a"),
    [(0.0, 60.0, False), (60.0, 60.0, False), (60.5, 60.0, True), (10.0, 5.0, True)],
)
def test_cameras_with_and_without_status(session: Session, after_s: float, stale_after_s: float, stale_a: bool) -> None:
    a, b, old = camera_health(session, make_site(), round(LAST_EVENT + after_s * NS), stale_after_s)
    assert a == CameraHealthStatus(
        camera_id="cam-a",
        state="online",
        edge_id="edge-1",
        fps=3.5,
        source_fps=7.0,
        lag_ms=120.0,
        frames=700,
        dropped_frames=3,
        thinned_frames=700,
        overloaded=True,
        message="",
        status_ns=LAST_EVENT - 5 * NS,
        last_event_ns=LAST_EVENT,
        stale=stale_a,
    )
    # Configured but never heard from: unknown and stale.
    assert (b.camera_id, b.state, b.fps, b.last_event_ns, b.stale) == ("cam-b", "unknown", None, None, True)
    assert (old.camera_id, old.state, old.stale) == ("cam-old", "unknown", True)


@pytest.mark.parametrize("stale_after_s", [0.0, -1.0, float("nan")])
def test_invalid_threshold(session: Session, stale_after_s: float) -> None:
    with pytest.raises(ValueError, match="stale_after_s must be positive"):
        camera_health(session, make_site(), LAST_EVENT, stale_after_s)


@pytest.mark.parametrize(
    ("window_s", "expected_spans", "downtime_s"),
    [
        # Outages at -7200..-7000 s, -100..-40 s and -10 s..now (still down).
        (86_400.0, [(-7200, -7000, 200.0), (-100, -40, 60.0), (-10, None, 10.0)], 270.0),
        # Only what ended in the window or goes on; downtime clipped to the window.
        (60.0, [(-100, -40, 60.0), (-10, None, 10.0)], 30.0),
        (5.0, [(-10, None, 10.0)], 5.0),
    ],
)
def test_outages_in_the_window_with_their_durations(
    session: Session, window_s: float, expected_spans: list[tuple[int, int | None, float]], downtime_s: float
) -> None:
    for start, end in [(-7200, -7000), (-100, -40), (-10, None)]:
        session.add(
            CameraOutage(
                site_id="mall",
                camera_id="cam-a",
                started_ns=LAST_EVENT + start * NS,
                ended_ns=None if end is None else LAST_EVENT + end * NS,
                state="reconnecting",
                message="no frame within 5 s",
            )
        )
    session.add(
        CameraOutage(
            site_id="other", camera_id="cam-a", started_ns=LAST_EVENT, ended_ns=None, state="offline", message=""
        )
    )
    session.commit()
    a, b, _ = camera_health(session, make_site(), LAST_EVENT, outage_window_s=window_s)
    spans = [
        (
            (o.started_ns - LAST_EVENT) // NS,
            None if o.ended_ns is None else (o.ended_ns - LAST_EVENT) // NS,
            o.duration_s,
        )
        for o in a.outages
    ]
    assert spans == expected_spans
    assert a.downtime_s == pytest.approx(downtime_s)
    assert b.outages == () and b.downtime_s == 0.0
