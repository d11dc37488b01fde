"""Every analytics query gives PostgreSQL exactly the answer it gives SQLite, on the same data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session
from support.rollup_rows import add_footfall_rows, add_occupancy_rows, add_visitors

from cloud.analytics.buckets import TimeRange
from cloud.analytics.camera_health import camera_health
from cloud.analytics.dwell import dwell
from cloud.analytics.footfall import footfall
from cloud.analytics.heatmap import heatmap
from cloud.analytics.occupancy import live_occupancy, occupancy_history, rebase
from cloud.analytics.retention import apply_retention
from cloud.analytics.transitions import transitions
from cloud.analytics.visitors import unique_visitors
from cloud.ingest.applier import EventApplier
from cloud.ingest.registry import SiteRegistry
from cloud.storage import create_db_engine, session_factory, upgrade
from cloud.storage.models import HeatmapCell, Tracklet, Visitor
from shared.config import SiteConfig
from shared.schema import decode_envelope

pytestmark = pytest.mark.integration

NS = 1_000_000_000
HOUR_NS = 3600 * NS
# The night the clocks went back in London (01:00 BST -> 01:00 GMT).
DST_START_S = 1_729_983_600  # 2024-10-27T00:00:00+01:00
DST = TimeRange(DST_START_S * NS, (DST_START_S + 25 * 3600) * NS)


def load(url: str, clip_events: list[bytes], site: SiteConfig) -> Engine:
    """The real clip through the applier, one stitched visitor, and hand rows around the DST change."""
    upgrade(url)
    engine = create_db_engine(url)
    envelopes = [decode_envelope(b) for b in clip_events]
    with session_factory(engine).begin() as s:
        EventApplier(SiteRegistry([site])).apply(s, envelopes)
    with session_factory(engine).begin() as s:
        tracks = sorted(e.track_closed.track_id for e in envelopes if e.HasField("track_closed"))[:2]
        s.execute(update(Tracklet).where(Tracklet.track_id.in_(tracks)).values(visitor_id="v-clip"))
        first = min(e.event_time_ns for e in envelopes)
        add_visitors(
            s,
            site.site.timezone,
            [
                Visitor(
                    site_id="pets09",
                    visitor_id="v-clip",
                    first_seen_ns=first,
                    last_seen_ns=first + NS,
                    path=["cam-main"],
                    tracklets=2,
                ),
                Visitor(
                    site_id="pets09",
                    visitor_id="v-night",
                    first_seen_ns=(DST_START_S - 600) * NS,
                    last_seen_ns=(DST_START_S + 600) * NS,
                    path=["cam-main"],
                    tracklets=1,
                ),
            ],
        )
        offsets = ((1800, 3), (5400, 4), (9000, 5), (-60, 7))
        rows = [("pets09", "mid-vertical", "in", DST_START_S + offset_s, count) for offset_s, count in offsets]
        add_footfall_rows(s, site.site.timezone, rows)
        add_occupancy_rows(
            s,
            site.site.timezone,
            sorted((("pets09", "site", "pets09", DST_START_S + o, n, n - 1) for o, n in offsets), key=lambda r: r[3]),
        )
        for offset_s, count in offsets:
            s.add(
                HeatmapCell(
                    site_id="pets09",
                    floor_id="ground",
                    bucket_s=DST_START_S + offset_s // 3600 * 3600,
                    cell_x=1,
                    cell_y=2,
                    seconds=count / 2,
                )
            )
    return engine


def answers(session: Session, site: SiteConfig, spans: list[TimeRange], now_ns: int) -> dict[str, Any]:
    out: dict[str, Any] = {"live": live_occupancy(session, site), "health": camera_health(session, site, now_ns)}
    for i, span in enumerate(spans):
        for bucket in ("minute", "hour", "day"):
            out[f"footfall {i} {bucket}"] = footfall(session, site, span, bucket)
            out[f"occupancy {i} {bucket}"] = occupancy_history(session, site, span, bucket)
        out[f"footfall {i} all"] = footfall(session, site, span, "hour", all_lines=True)
        out[f"visitors {i}"] = unique_visitors(session, site, span)
        out[f"dwell {i}"] = dwell(session, site, span)
        out[f"transitions {i}"] = transitions(session, site, span)
        grid = heatmap(session, site, "ground", span)
        out[f"heatmap {i}"] = (grid.origin, grid.cell_m, grid.seconds.tolist())
    return out


def test_postgresql_answers_as_sqlite(
    pg_url: str, tmp_path: Path, clip_events: list[bytes], pets09_site: SiteConfig
) -> None:
    envelopes = [decode_envelope(b) for b in clip_events]
    first, last = min(e.event_time_ns for e in envelopes), max(e.event_time_ns for e in envelopes)
    clip = TimeRange(first // HOUR_NS * HOUR_NS, last // HOUR_NS * HOUR_NS + HOUR_NS)
    spans = [clip, DST, TimeRange(DST.start_ns + 1, DST.start_ns + 1)]
    results = []
    for url in (f"sqlite:///{tmp_path / 'analytics.db'}", pg_url):
        engine = load(url, clip_events, pets09_site)
        with session_factory(engine)() as s:
            before = answers(s, pets09_site, spans, last + 30 * NS)
            rebased = rebase(s, pets09_site, "zone", "centre", 2, now_ns=last + NS)
            s.commit()
            # A year after the clip: the embeddings and the detail go, the aggregates stay.
            kept = apply_retention(s, pets09_site, last + 365 * 24 * HOUR_NS)
            s.commit()
            after = answers(s, pets09_site, spans, last + 30 * NS)
        engine.dispose()
        results.append((before, rebased, kept, after))
    (sqlite_before, *sqlite_rest), (pg_before, *pg_rest) = results
    assert pg_before.keys() == sqlite_before.keys()
    for key, value in sqlite_before.items():
        assert pg_before[key] == value, key
    assert pg_rest == sqlite_rest
    # The data exercised what it should.
    assert sqlite_before["footfall 0 day"].total_in + sqlite_before["footfall 0 day"].total_out > 0
    assert sqlite_before["visitors 0"].days[0].source == "visitors"
    assert len(sqlite_before["footfall 1 hour"].buckets) == 25
    assert sqlite_rest[1].tracklets > 0
