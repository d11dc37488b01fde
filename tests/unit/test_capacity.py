"""Occupancy limits: the config and its errors, the hysteresis, alerts from the ingest (replays
raise nothing twice), rebases, and the outbox to the alerts topic."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from analytics_db import NS, TRIANGLE
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.occupancy_events import CountWalker

from cloud.analytics.occupancy import live_occupancy, rebase
from cloud.capacity.alerts import alert_id, raised_alerts
from cloud.capacity.dispatch import OccupancyAlertDispatcher
from cloud.capacity.monitor import CapacityMonitor, Transition, step
from cloud.ingest.applier import EventApplier
from cloud.ingest.registry import SiteRegistry
from cloud.storage import create_db_engine, session_factory, upgrade
from cloud.storage.models import Occupancy, OccupancyAlertRow
from cloud.storage.sites import sync_sites
from shared.config import ConfigError, SiteConfig, parse_site_config
from shared.config.capacity import Capacity, Limit
from shared.schema import pb

T0 = 1_780_000_000 * NS
RAW: dict[str, Any] = {
    "site": {"id": "mall", "timezone": "Europe/London"},
    "floors": [{"id": "ground"}],
    "cameras": [{"id": "cam-a", "source": "/dev/null", "floor": "ground"}],
    "lines": [{"id": "door", "camera": "cam-a", "points": [[0, 50], [100, 50]]}],
    "zones": [
        {"id": "food", "camera": "cam-a", "polygon": TRIANGLE},
        {"id": "shops", "camera": "cam-a", "polygon": TRIANGLE},
    ],
    "capacity": {"site": 3, "zones": {"food": 10}, "clear_margin": 0.2},
}


def site_with(**capacity: Any) -> SiteConfig:
    raw = copy.deepcopy(RAW)
    raw["capacity"] = capacity
    return parse_site_config(raw, "mall.yaml")


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'capacity.db'}"
    upgrade(url)
    with session_factory(create_db_engine(url)).begin() as session:
        sync_sites(session, [site_with(**RAW["capacity"])])
    return url


@pytest.fixture
def session(url: str) -> Iterator[Session]:
    with session_factory(create_db_engine(url))() as s:
        yield s


def episodes(session: Session) -> list[tuple[str, str, int, int, int | None]]:
    """(scope, scope id, count at raise, peak, count at clear or None), oldest first."""
    rows = session.scalars(select(OccupancyAlertRow).order_by(OccupancyAlertRow.raised_ns)).all()
    return [(r.scope, r.scope_id, r.raised_count, r.peak_count, r.cleared_count) for r in rows]


# --- configuration -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("capacity", "margin", "clear_at"),
    [
        (150, 0.1, 135),
        (10, 0.2, 8),
        # Rounded down: the alert clears once the count is at or under the level.
        (5, 0.1, 4),
        (1, 0.1, 0),
        # The margin as written: 100 x 0.71 is 70.99999999999999 in floating point.
        (100, 0.29, 71),
        (100, 0.0, 100),
    ],
)
def test_clear_level_is_the_capacity_less_the_margin_rounded_down(capacity: int, margin: float, clear_at: int) -> None:
    limits = Capacity(zones={"z": capacity}, clear_margin=margin)
    assert limits.limit("zone", "z") == Limit(capacity, clear_at)
    assert limits.limit("zone", "other") is None and limits.limit("site", "mall") is None


@pytest.mark.parametrize(
    ("capacity", "lines", "expected"),
    [
        ({"site": 0}, None, "capacity.site: the site's capacity must be at least 1 person, got 0"),
        ({"zones": {"food": -3}}, None, "capacity.zones: zone 'food': capacity must be at least 1 person, got -3"),
        ({"zones": {"food": 0, "shops": 4}}, None, "zone 'food': capacity must be at least 1 person, got 0"),
        ({"site": 2_000_000}, None, "capacity.site: the site's capacity must be at most 1,000,000 people"),
        ({"zones": {"kitchen": 5}}, None, "capacity.zones: no zone 'kitchen' in this site (zones: ['food', 'shops'])"),
        ({"zones": {"food": 1.5}}, None, "capacity.zones.food: Input should be a valid integer"),
        ({"zones": {"food": True}}, None, "capacity.zones.food: Input should be a valid integer"),
        ({"site": "many"}, None, "capacity.site: Input should be a valid integer"),
        ({"clear_margin": 1}, None, "capacity.clear_margin: Input should be less than 1"),
        ({"clear_margin": -0.1}, None, "capacity.clear_margin: Input should be greater than or equal to 0"),
        ({"zone": {"food": 5}}, None, "capacity.zone: Extra inputs are not permitted"),
        (
            {"site": 100},
            [{"id": "door", "camera": "cam-a", "points": [[0, 50], [100, 50]], "entrance": False}],
            "capacity.site is set but no line is an entrance",
        ),
        ({"site": 100, "zones": {"food": 1}, "clear_margin": 0}, None, None),
        ({"zones": {"food": 1}}, [], None),
    ],
)
def test_bad_limits_are_named(capacity: dict[str, Any], lines: list[Any] | None, expected: str | None) -> None:
    raw = copy.deepcopy(RAW)
    raw["capacity"] = capacity
    if lines is not None:
        raw["lines"] = lines
    if expected is None:
        parse_site_config(raw, "mall.yaml")
        return
    with pytest.raises(ConfigError) as err:
        parse_site_config(raw, "mall.yaml")
    assert "mall.yaml" in str(err.value) and expected in str(err.value), str(err.value)


def test_a_site_without_limits_has_none() -> None:
    raw = copy.deepcopy(RAW)
    del raw["capacity"]
    site = parse_site_config(raw)
    assert not site.capacity.has_limits and site.capacity.limit("site", "mall") is None


# --- hysteresis ----------------------------------------------------------------------

LIMIT = Limit(capacity=10, clear_at=8)
RAISED, CLEARED = Transition.RAISED, Transition.CLEARED


@pytest.mark.parametrize(
    ("raised", "count", "limit", "expected"),
    [
        (False, 10, LIMIT, None),  # at the capacity is not over it
        (False, 11, LIMIT, RAISED),
        (True, 11, LIMIT, None),
        (True, 9, LIMIT, None),  # under the capacity, above the clear level: still raised
        (True, 8, LIMIT, CLEARED),
        (True, 0, LIMIT, CLEARED),
        (False, 0, LIMIT, None),
        (False, 500, None, None),  # no limit, no alert
        (True, 500, None, CLEARED),  # the limit was taken out of the config
    ],
)
def test_step(raised: bool, count: int, limit: Limit | None, expected: Transition | None) -> None:
    assert step(raised, count, limit) == expected


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        # Zone food: capacity 10, clear margin 0.2 -> clears at 8.
        ([5, 10, 11, 10, 9, 8, 11, 12, 7], [(RAISED, 11), (CLEARED, 8), (RAISED, 11), (CLEARED, 7)]),
        # Hovering at the limit raises once.
        ([11, 10, 11, 10, 11, 9, 11], [(RAISED, 11)]),
        ([10, 10, 10], []),
        ([50, 3], [(RAISED, 50), (CLEARED, 3)]),
        ([0, 11, 0, 11], [(RAISED, 11), (CLEARED, 0), (RAISED, 11)]),
    ],
)
@pytest.mark.parametrize("per_transaction", [False, True])
def test_hysteresis_sequences(
    session: Session, counts: list[int], expected: list[tuple[Transition, int]], per_transaction: bool
) -> None:
    site = site_with(**RAW["capacity"])
    changes = []
    monitor = CapacityMonitor(session)
    for i, count in enumerate(counts):
        monitor.observe(site, "zone", "food", count, T0 + i * NS)
        if per_transaction:
            monitor.write()
            session.commit()
            changes += monitor.changes
            monitor = CapacityMonitor(session)
    monitor.write()
    session.commit()
    changes += monitor.changes
    assert [(c.transition, c.count) for c in changes] == expected
    rows = session.scalars(select(OccupancyAlertRow).order_by(OccupancyAlertRow.raised_ns)).all()
    assert [r.raised_count for r in rows] == [n for t, n in expected if t is RAISED]
    assert [r.cleared_count for r in rows if r.cleared_ns is not None] == [n for t, n in expected if t is CLEARED]


def test_a_raise_clear_and_raise_in_one_nanosecond_are_two_episodes(session: Session) -> None:
    site = site_with(zones={"food": 1}, clear_margin=0)
    monitor = CapacityMonitor(session)
    for count in (2, 1, 2):
        monitor.observe(site, "zone", "food", count, T0)
    monitor.write()
    session.commit()
    rows = session.scalars(select(OccupancyAlertRow).order_by(OccupancyAlertRow.raised_ns)).all()
    assert [(r.raised_ns - T0, r.cleared_ns and r.cleared_ns - T0) for r in rows] == [(0, 0), (1, None)]


def test_a_changed_limit_judges_the_raised_alert(session: Session) -> None:
    monitor = CapacityMonitor(session)
    monitor.observe(site_with(zones={"food": 10}), "zone", "food", 12, T0)
    # The operator raised the capacity: 19 is judged against 20, which clears at 18.
    monitor.observe(site_with(zones={"food": 20}), "zone", "food", 19, T0 + NS)
    # And took the limit away: the alert ends, whatever the count.
    monitor.observe(site_with(), "zone", "food", 25, T0 + 2 * NS)
    monitor.write()
    session.commit()
    (row,) = session.scalars(select(OccupancyAlertRow)).all()
    assert (row.capacity, row.clear_at, row.raised_count, row.peak_count, row.cleared_count) == (20, 18, 12, 25, 25)
    assert [c.transition for c in monitor.changes] == [RAISED, CLEARED]
    # Under the raised capacity's clear level, an alert clears at once.
    monitor = CapacityMonitor(session)
    monitor.observe(site_with(zones={"food": 10}), "zone", "food", 12, T0 + 3 * NS)
    monitor.observe(site_with(zones={"food": 20}), "zone", "food", 13, T0 + 4 * NS)
    assert [(c.transition, c.count) for c in monitor.changes] == [(RAISED, 12), (CLEARED, 13)]


# --- from the ingest ------------------------------------------------------------------


def _apply(url: str, site: SiteConfig, batches: Sequence[Sequence[pb.Envelope]]) -> int:
    applier = EventApplier(SiteRegistry([site]))
    duplicates = 0
    with session_factory(create_db_engine(url))() as session:
        for batch in batches:
            duplicates += applier.apply(session, batch).duplicates
            session.commit()
    return duplicates


def test_the_ingest_raises_and_clears_and_a_replayed_batch_changes_nothing(url: str, session: Session) -> None:
    site = site_with(site=3, zones={"food": 2}, clear_margin=0.1)
    walker = CountWalker(T0)
    # food: over 2 at 3, back to 1 (2 less 10 % is 1.8: clears at 1); the site: over 3 at 4.
    food = walker.walk("zone", "food", [3, 2, 1, 3])
    doors = walker.walk("site", "mall", [4])
    _apply(url, site, [food, doors])
    assert episodes(session) == [("zone", "food", 3, 3, 1), ("zone", "food", 3, 3, None), ("site", "mall", 4, 4, None)]
    in_order = select(OccupancyAlertRow).order_by(OccupancyAlertRow.raised_ns)
    before = [(r.raised_ns, r.cleared_ns) for r in session.scalars(in_order)]

    # Redelivered whole, in pieces, and the site's batch again: every envelope is a duplicate.
    everything = food + doors
    assert _apply(url, site, [everything, everything[:5], everything[5:], doors]) == 2 * len(everything) + len(doors)
    session.rollback()  # a fresh snapshot of the database
    assert [(r.raised_ns, r.cleared_ns) for r in session.scalars(in_order)] == before


@pytest.mark.parametrize("size", [1, 3, 100])
def test_alerts_do_not_depend_on_how_events_are_batched(tmp_path: Path, url: str, session: Session, size: int) -> None:
    site = site_with(site=3, zones={"food": 2}, clear_margin=0.1)
    walker = CountWalker(T0)
    envelopes = walker.walk("zone", "food", [3, 1, 4]) + walker.walk("site", "mall", [5, 0])
    _apply(url, site, [envelopes])
    other = f"sqlite:///{tmp_path / 'batched.db'}"
    upgrade(other)
    _apply(other, site, [envelopes[i : i + size] for i in range(0, len(envelopes), size)])
    in_order = select(OccupancyAlertRow).order_by(OccupancyAlertRow.raised_ns)
    keys = [(r.scope, r.scope_id, r.raised_ns, r.peak_count, r.cleared_ns) for r in session.scalars(in_order)]
    with session_factory(create_db_engine(other))() as s:
        assert [(r.scope, r.scope_id, r.raised_ns, r.peak_count, r.cleared_ns) for r in s.scalars(in_order)] == keys
    assert len(keys) == 3


def test_live_occupancy_and_rebase(url: str, session: Session) -> None:
    site = site_with(site=3, zones={"food": 2}, clear_margin=0.5)
    _apply(url, site, [CountWalker(T0).walk("zone", "food", [3])])
    live = live_occupancy(session, site)
    assert (live.site.capacity, live.site.alert) == (3, None)
    food, shops = live.zones
    assert (food.count, food.capacity, shops.capacity, shops.alert) == (3, 2, None, None)
    assert food.alert is not None and food.alert.alert_id == alert_id("zone", "food", T0 + 3 * NS)
    assert (food.alert.raised_count, food.alert.clear_at, food.alert.cleared_ns) == (3, 1, None)

    # An operator counts the zone: 1 is the clear level.
    now = T0 + 3600 * NS
    corrected = rebase(session, site, "zone", "food", 1, now_ns=now)
    session.commit()
    assert (corrected.count, corrected.capacity, corrected.alert) == (1, 2, None)
    assert raised_alerts(session, "mall") == []
    # And the site, which no crossing had counted yet: over its capacity of 3.
    corrected = rebase(session, site, "site", "mall", 7, now_ns=now + NS)
    session.commit()
    assert corrected.alert is not None and corrected.alert.raised_ns == now + NS
    assert episodes(session) == [("zone", "food", 3, 3, 1), ("site", "mall", 7, 7, None)]
    assert session.get(Occupancy, ("mall", "site", "mall")).count == 7  # type: ignore[union-attr]


# --- the outbox -------------------------------------------------------------------------


class _Publisher:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.sent: list[pb.OccupancyAlert] = []

    def publish(self, messages: Sequence[Any]) -> None:
        if self.fail:
            raise TimeoutError("broker away")
        self.sent += messages


def test_the_dispatcher_publishes_each_raise_and_clear_once(url: str) -> None:
    site = site_with(site=3, zones={"food": 2}, clear_margin=0.1)
    walker = CountWalker(T0)
    engine = create_db_engine(url)
    _apply(url, site, [walker.walk("zone", "food", [3, 1, 3])])
    with pytest.raises(TimeoutError):
        OccupancyAlertDispatcher(engine, _Publisher(fail=True)).deliver_once()
    publisher = _Publisher()
    dispatcher = OccupancyAlertDispatcher(engine, publisher, clock=lambda: T0 + 3600 * NS)
    assert dispatcher.deliver_once() == 3
    assert dispatcher.deliver_once() == 0
    # The second episode clears later: only its clear goes out.
    _apply(url, site, [walker.walk("zone", "food", [0])])
    assert dispatcher.deliver_once() == 1
    first, second = T0 + 3 * NS, T0 + 7 * NS
    assert [(m.alert_id, m.state, m.count, m.event_time_ns) for m in publisher.sent] == [
        (alert_id("zone", "food", first), pb.ALERT_STATE_RAISED, 3, first),
        (alert_id("zone", "food", first), pb.ALERT_STATE_CLEARED, 1, T0 + 5 * NS),
        (alert_id("zone", "food", second), pb.ALERT_STATE_RAISED, 3, second),
        (alert_id("zone", "food", second), pb.ALERT_STATE_CLEARED, 1, T0 + 9 * NS),
    ]
    message = publisher.sent[-1]
    assert (message.site_id, message.scope, message.scope_id, message.capacity, message.clear_at) == (
        "mall",
        pb.OCCUPANCY_SCOPE_ZONE,
        "food",
        2,
        1,
    )
    assert (message.peak_count, message.raised_time_ns, message.publish_time_ns) == (3, second, T0 + 3600 * NS)
    with session_factory(engine)() as session:
        assert all(r.raise_published and r.clear_published for r in session.scalars(select(OccupancyAlertRow)))


def test_an_occupancy_alert_read_as_a_gallery_alert_has_empty_gallery_fields() -> None:
    """A reader of the alerts topic older than OccupancyAlert (proto/mallflow/v1/events.proto)."""
    alert = pb.OccupancyAlert(
        schema_version=1, alert_id="occupancy:site:mall:5", site_id="mall", event_time_ns=5, publish_time_ns=6
    )
    alert.state, alert.scope, alert.scope_id, alert.count = pb.ALERT_STATE_RAISED, pb.OCCUPANCY_SCOPE_SITE, "mall", 9
    old = pb.GalleryAlert.FromString(alert.SerializeToString())
    assert (old.alert_id, old.site_id, old.event_time_ns, old.publish_time_ns) == (
        "occupancy:site:mall:5",
        "mall",
        5,
        6,
    )
    assert (old.gallery, old.visitor_id, old.label, old.similarity) == ("", "", "", 0.0)
