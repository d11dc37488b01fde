"""Analytics over the real edge stream (60 PETS09 frames): every number is derived from the envelopes."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from analytics_db import NS
from sqlalchemy.orm import Session

from cloud.analytics.buckets import TimeRange
from cloud.analytics.camera_health import camera_health
from cloud.analytics.dwell import dwell
from cloud.analytics.footfall import footfall
from cloud.analytics.heatmap import heatmap
from cloud.analytics.occupancy import live_occupancy, occupancy_history
from cloud.analytics.transitions import transitions
from cloud.analytics.visitors import unique_visitors
from cloud.ingest.applier import EventApplier
from cloud.ingest.registry import HeatmapGrid, SiteRegistry
from cloud.storage import create_db_engine, session_factory, upgrade
from shared.config import SiteConfig
from shared.schema import decode_envelope, pb

HOUR_NS = 3600 * NS


@pytest.fixture(scope="module")
def envelopes(clip_events: list[bytes]) -> list[pb.Envelope]:
    return [decode_envelope(b) for b in clip_events]


@pytest.fixture(scope="module")
def session(
    tmp_path_factory: pytest.TempPathFactory, envelopes: list[pb.Envelope], pets09_site: SiteConfig
) -> Iterator[Session]:
    url = f"sqlite:///{tmp_path_factory.mktemp('analytics') / 'clip.db'}"
    upgrade(url)
    engine = create_db_engine(url)
    with session_factory(engine)() as s:
        EventApplier(SiteRegistry([pets09_site])).apply(s, envelopes)
        s.commit()
        yield s
    engine.dispose()


@pytest.fixture(scope="module")
def span(envelopes: list[pb.Envelope]) -> TimeRange:
    """Whole UTC hours around the clip, so every rollup row starts inside."""
    first = min(e.event_time_ns for e in envelopes)
    return TimeRange(first // HOUR_NS * HOUR_NS, max(e.event_time_ns for e in envelopes) // HOUR_NS * HOUR_NS + HOUR_NS)


def of_kind(envelopes: list[pb.Envelope], kind: str) -> list[pb.Envelope]:
    return [e for e in envelopes if e.WhichOneof("payload") == kind]


def in_event_order(envelopes: list[pb.Envelope]) -> list[pb.Envelope]:
    return sorted(envelopes, key=lambda e: (e.event_time_ns, e.camera_id, e.seq))


@pytest.mark.parametrize("bucket", ["minute", "hour", "day"])
@pytest.mark.parametrize(
    ("non_entrance", "all_lines"), [((), False), (("lower-horizontal",), False), (("lower-horizontal",), True)]
)
def test_footfall_totals_are_the_crossings_on_entrance_lines(
    session: Session,
    envelopes: list[pb.Envelope],
    pets09_site: SiteConfig,
    span: TimeRange,
    bucket: str,
    non_entrance: tuple[str, ...],
    all_lines: bool,
) -> None:
    lines = [ln.model_copy(update={"entrance": ln.id not in non_entrance}) for ln in pets09_site.lines]
    site = pets09_site.model_copy(update={"lines": lines})
    counted = [
        e.line_crossing
        for e in of_kind(envelopes, "line_crossing")
        if all_lines or e.line_crossing.line_id not in non_entrance
    ]
    result = footfall(session, site, span, bucket, all_lines=all_lines)
    assert result.total_in == sum(1 for lc in counted if lc.direction == pb.DIRECTION_IN)
    assert result.total_out == sum(1 for lc in counted if lc.direction == pb.DIRECTION_OUT)
    assert result.total_in + result.total_out == len(counted) > 0
    assert all(len(s.counts) == len(result.buckets) and sum(s.counts) == s.total for s in result.series)
    assert {s.line_id for s in result.series} == {ln.id for ln in site.lines if all_lines or ln.entrance}


def test_dwell_is_numpy_over_the_exit_envelopes(
    session: Session, envelopes: list[pb.Envelope], pets09_site: SiteConfig, span: TimeRange
) -> None:
    exits = [
        e
        for e in of_kind(envelopes, "zone_transition")
        if e.zone_transition.event == pb.ZONE_EVENT_EXIT and e.zone_transition.zone_id == "centre"
    ]
    values = np.array([(e.event_time_ns - e.zone_transition.entered_time_ns) / NS for e in exits])
    (zone,) = dwell(session, pets09_site, span).zones
    assert zone.zone_id == "centre" and zone.visits == len(values) > 0
    assert zone.mean_s == pytest.approx(values.mean())
    assert zone.median_s == pytest.approx(np.median(values))
    assert zone.p90_s == pytest.approx(np.percentile(values, 90))
    assert zone.max_s == pytest.approx(values.max())
    assert sum(zone.histogram) == len(values)


def test_heatmap_is_the_track_updates_inside_the_floor_extent(
    session: Session, envelopes: list[pb.Envelope], pets09_site: SiteConfig, span: TimeRange
) -> None:
    grid = HeatmapGrid.of(pets09_site.floor("ground"))
    expected = np.zeros((27, 31))
    for e in of_kind(envelopes, "track_update"):
        p = e.track_update.floor_point
        cells, inside = grid.cells(np.array([[p.x, p.y]]))
        if e.track_update.HasField("floor_point") and inside[0]:
            expected[cells[0, 1], cells[0, 0]] += 1 / pets09_site.tracking.update_hz
    result = heatmap(session, pets09_site, "ground", span)
    assert (result.origin, result.cell_m) == ((-22.0, -18.0), 1.0)
    assert result.seconds.shape == (27, 31)  # extent 31 x 27 m in 1 m cells
    np.testing.assert_allclose(result.seconds, expected)
    assert result.seconds.sum() > 0


def test_visitors_fall_back_to_tracklets_before_stitching(
    session: Session, envelopes: list[pb.Envelope], pets09_site: SiteConfig, span: TimeRange
) -> None:
    result = unique_visitors(session, pets09_site, span)
    (day,) = result.days
    closed = of_kind(envelopes, "track_closed")
    assert (day.visitors, day.source, result.total) == (len(closed), "tracklets", len(closed))


def test_transitions_follow_each_track(
    session: Session, envelopes: list[pb.Envelope], pets09_site: SiteConfig, span: TimeRange
) -> None:
    enters = [
        e.zone_transition
        for e in of_kind(envelopes, "zone_transition")
        if e.zone_transition.event == pb.ZONE_EVENT_ENTER
    ]
    result = transitions(session, pets09_site, span)
    # One zone: re-entries only, which are no transitions.
    assert result.transitions == ()
    assert (result.visitor_paths, result.track_paths) == (0, len({zt.track_id for zt in enters}))


def test_occupancy_replays_the_events(
    session: Session, envelopes: list[pb.Envelope], pets09_site: SiteConfig, span: TimeRange
) -> None:
    site_count = zone_count = site_peak = zone_peak = 0
    for e in in_event_order(envelopes):
        if e.HasField("line_crossing"):
            site_count = max(0, site_count + (1 if e.line_crossing.direction == pb.DIRECTION_IN else -1))
        elif e.HasField("zone_transition"):
            zone_count = max(0, zone_count + (1 if e.zone_transition.event == pb.ZONE_EVENT_ENTER else -1))
        site_peak, zone_peak = max(site_peak, site_count), max(zone_peak, zone_count)
    live = live_occupancy(session, pets09_site)
    assert (live.site.count, [(z.scope_id, z.count) for z in live.zones]) == (site_count, [("centre", zone_count)])
    history = occupancy_history(session, pets09_site, span, "day")
    assert (history.site.peaks, history.zones[0].peaks) == ((site_peak,), (zone_peak,))
    assert zone_peak > 0


@pytest.mark.parametrize(("after_s", "stale"), [(1.0, False), (60.0, False), (61.0, True)])
def test_camera_health_reports_the_last_status(
    session: Session, envelopes: list[pb.Envelope], pets09_site: SiteConfig, after_s: float, stale: bool
) -> None:
    last = max(envelopes, key=lambda e: e.seq)
    status = of_kind(envelopes, "camera_status")[-1]
    (cam,) = camera_health(session, pets09_site, now_ns=last.event_time_ns + int(after_s * NS), stale_after_s=60.0)
    assert (cam.camera_id, cam.state, cam.edge_id) == ("cam-main", "ended", status.edge_id)
    assert (cam.fps, cam.dropped_frames, cam.status_ns) == (
        pytest.approx(status.camera_status.fps),
        status.camera_status.dropped_frames,
        status.event_time_ns,
    )
    # A file is read losslessly: never thinned, never overloaded, at the rate it states.
    assert (cam.source_fps, cam.thinned_frames, cam.overloaded) == (pytest.approx(7.0), 0, False)
    assert (cam.last_event_ns, cam.stale) == (last.event_time_ns, stale)


def test_bucket_series_are_dense_and_sum_to_the_total(
    session: Session, pets09_site: SiteConfig, span: TimeRange
) -> None:
    by_minute = footfall(session, pets09_site, span, "minute")
    assert len(by_minute.buckets) == (span.end_ns - span.start_ns) // (60 * NS)
    assert sum(sum(s.counts) for s in by_minute.series) == by_minute.total_in + by_minute.total_out
