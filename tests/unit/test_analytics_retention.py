"""Retention deletes exactly what is older than each horizon (a row at the cutoff stays), and its CLI."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from analytics_db import NS, make_site, sqlite_session
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from support.rollup_rows import add_footfall_rows, add_occupancy_rows, add_visitors

from cloud.analytics.retention import RetentionResult, apply_retention
from cloud.storage import create_db_engine, session_factory
from cloud.storage.models import (
    CameraOutage,
    FootfallMinute,
    HeatmapCell,
    LineCrossing,
    OccupancyAlertRow,
    OccupancyMinute,
    Tracklet,
    Visitor,
    ZoneVisit,
)
from shared.cli.main import main

DAY = 86_400 * NS
NOW = 1_717_236_000 * NS  # a whole hour, so the rollup cutoffs fall on bucket starts


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    with sqlite_session(tmp_path) as s:
        yield s


def tracklet(track_id: int, last_seen_ns: int, embedding: bytes | None, site_id: str = "mall") -> Tracklet:
    return Tracklet(
        site_id=site_id,
        camera_id="cam-a",
        track_id=track_id,
        first_seen_ns=last_seen_ns - NS,
        last_seen_ns=last_seen_ns,
        observations=3,
        mean_confidence=0.8,
        embedding=embedding,
        embedding_model=None if embedding is None else "osnet",
        embedding_quality=None if embedding is None else 0.9,
    )


def fill(session: Session, embeddings: int, detail: int, aggregates: int, site_id: str = "mall") -> None:
    """Per table, one row just older than its cutoff and one exactly at it."""
    agg_s = aggregates // NS
    offset = 100 if site_id != "mall" else 0
    session.add_all(
        [
            tracklet(offset + 1, detail - 1, b"old", site_id),
            tracklet(offset + 2, detail, b"x", site_id),
            tracklet(offset + 3, embeddings - 1, b"x", site_id),
            tracklet(offset + 4, embeddings, b"x", site_id),
            tracklet(offset + 5, embeddings - 1, None, site_id),
        ]
    )
    for i, at in enumerate((detail - 1, detail)):
        session.add(
            LineCrossing(
                site_id=site_id, camera_id="cam-a", seq=i, line_id="door", direction="in", track_id=1, event_ns=at
            )
        )
        session.add(ZoneVisit(site_id=site_id, camera_id="cam-a", zone_id="food", track_id=1, entered_ns=at))
        session.add(
            CameraOutage(
                site_id=site_id, camera_id="cam-a", started_ns=at - NS, ended_ns=at, state="reconnecting", message=""
            )
        )
        add_visitors(
            session,
            "UTC",
            [
                Visitor(
                    site_id=site_id,
                    visitor_id=f"v{i}",
                    first_seen_ns=aggregates - 10 * NS,
                    last_seen_ns=aggregates - 1 + i,
                    path=["cam-a"],
                    tracklets=1,
                )
            ],
        )
    for i, (cleared, published) in enumerate(
        # Cleared before and at the cutoff; cleared before it, yet the clear still in the
        # outbox; still raised since before every horizon: only the first goes.
        ((aggregates - 1, True), (aggregates, True), (aggregates - 1, False), (None, False))
    ):
        session.add(
            OccupancyAlertRow(
                site_id=site_id,
                scope="zone",
                scope_id="food",
                raised_ns=aggregates - (10 + i) * NS,
                capacity=10,
                clear_at=9,
                raised_count=11,
                peak_count=12,
                cleared_ns=cleared,
                cleared_count=None if cleared is None else 8,
                raise_published=True,
                clear_published=published,
            )
        )
    # Down since before every horizon and still down: kept, whatever its age.
    session.add(
        CameraOutage(site_id=site_id, camera_id="cam-b", started_ns=0, ended_ns=None, state="offline", message="")
    )
    for start in (agg_s - 60, agg_s):
        add_footfall_rows(session, "UTC", [(site_id, "door", "in", start, 1)])
        add_occupancy_rows(session, "UTC", [(site_id, "site", site_id, start, 1, 1)])
    for start in (agg_s - 3600, agg_s):
        session.add(HeatmapCell(site_id=site_id, floor_id="ground", bucket_s=start, cell_x=0, cell_y=0, seconds=1.0))
    session.commit()


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize(
    "retention",
    [
        {"embeddings_days": 1, "tracklet_detail_days": 30, "aggregates_days": 365},
        {"embeddings_days": 0.5, "tracklet_detail_days": 2, "aggregates_days": 10},
    ],
)
def test_deletes_exactly_what_is_older(session: Session, retention: dict[str, float]) -> None:
    site = make_site(retention=retention)

    def cutoff(days: float) -> int:
        return NOW - round(days * DAY)

    cutoffs = [cutoff(retention[k]) for k in ("embeddings_days", "tracklet_detail_days", "aggregates_days")]
    fill(session, *cutoffs)
    fill(session, *cutoffs, site_id="other")
    before = {
        m: count(session, m)
        for m in (
            LineCrossing,
            ZoneVisit,
            FootfallMinute,
            OccupancyMinute,
            HeatmapCell,
            Visitor,
            CameraOutage,
            OccupancyAlertRow,
        )
    }
    result = apply_retention(session, site, NOW)
    session.commit()
    # Tracklet 1 is deleted (not also counted as cleared); 2 and 3 lose their embeddings.
    assert result == RetentionResult(
        embeddings_cleared=2,
        tracklets=1,
        line_crossings=1,
        zone_visits=1,
        # One row at each of the minute, quarter and day levels.
        footfall_rollups=3,
        occupancy_rollups=3,
        visitors_day=1,
        heatmap_cells=1,
        visitors=1,
        gallery_entries=0,
        gallery_matches=0,
        gallery_alerts=0,
        camera_outages=1,
        occupancy_alerts=1,
    )
    mall = session.execute(
        select(Tracklet.track_id, Tracklet.embedding, Tracklet.embedding_model, Tracklet.embedding_quality)
        .where(Tracklet.site_id == "mall")
        .order_by(Tracklet.track_id)
    ).all()
    assert [tuple(r) for r in mall] == [
        (2, None, None, None),
        (3, None, None, None),
        (4, b"x", "osnet", 0.9),
        (5, None, None, None),
    ]
    # The other site is left alone: one row fewer per table, from this site only.
    assert {m: count(session, m) for m in before} == {m: n - 1 for m, n in before.items()}
    assert count(session, Tracklet) == 9
    assert apply_retention(session, site, NOW) == RetentionResult(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)


@pytest.mark.parametrize("now_ns", [-1, 1.5, True])
def test_invalid_now(session: Session, now_ns: int) -> None:
    with pytest.raises(ValueError, match="now_ns must be non-negative epoch nanoseconds"):
        apply_retention(session, make_site(), now_ns)


@pytest.fixture
def site_file(tmp_path: Path) -> Path:
    path = tmp_path / "mall.yaml"
    path.write_text(yaml.safe_dump(make_site().model_dump(mode="json")))
    return path


@pytest.mark.parametrize("db_first", [True, False])
def test_cli(
    tmp_path: Path,
    session: Session,
    site_file: Path,
    capsys: pytest.CaptureFixture[str],
    db_first: bool,
) -> None:
    path = site_file
    # A day beyond each horizon: every row but the tracklets' summaries goes, whenever the CLI runs.
    # A whole hour other than midnight (UTC), so the rows fall in two quarters of one day.
    hour_ns = 3600 * NS
    now = time.time_ns() // hour_ns * hour_ns
    now -= hour_ns if now % DAY == 0 else 0
    fill(session, now - 2 * DAY, now - 31 * DAY, now - 366 * DAY)
    url = str(session.get_bind().url)
    session.close()
    args = (
        ["db", "--db", url, "retention", "--config", str(path)]
        if db_first
        else ["db", "retention", "--config", str(path), "--db", url]
    )
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.strip() == (
        "mall: embeddings_cleared 2, tracklets 2, line_crossings 2, zone_visits 2, footfall_rollups 5, "
        "occupancy_rollups 5, visitors_day 1, heatmap_cells 2, visitors 2, gallery_entries 0, gallery_matches 0, "
        "gallery_alerts 0, camera_outages 2, occupancy_alerts 2"
    )
    engine = create_db_engine(url)
    with session_factory(engine)() as after:
        assert count(after, Tracklet) == 3
        assert after.scalar(select(func.count()).where(Tracklet.embedding.is_not(None))) == 0
    engine.dispose()


def test_cli_rejects_a_bad_site_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("site: {id: mall}\n")
    assert main(["db", "--db", f"sqlite:///{tmp_path / 'x.db'}", "retention", "--config", str(bad)]) == 2
    assert "invalid site config" in capsys.readouterr().err
