"""Galleries: config, enrolment and its audit, matching rules, staff flags, VIP alert outbox and webhooks."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
from analytics_db import make_site
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cloud.galleries.alerts import SIGNATURE_HEADER, AlertDispatcher, sign, webhook_body
from cloud.galleries.entries import (
    EntryNotFound,
    Source,
    enroll,
    list_entries,
    purge_expired,
    remove,
    renew,
)
from cloud.galleries.matcher import GalleryMatcher
from cloud.galleries.vectors import EntryIndex, encode, similarity
from cloud.ingest.registry import SiteRegistry
from cloud.stitching.stitcher import Assignment, StitchSettings
from cloud.storage import create_db_engine, session_factory, upgrade
from cloud.storage.models import (
    GalleryAlertRow,
    GalleryAudit,
    GalleryEmbedding,
    GalleryMatch,
    LineCrossing,
    Tracklet,
    Visitor,
    ZoneVisit,
)
from cloud.storage.sites import sync_sites
from shared.config import SiteConfig

NS = 1_000_000_000
DAY_NS = 86_400 * NS
T = 1_780_000_000 * NS
MODEL = "osnet@test"
DIM = 8


def unit(seed: int, near: np.ndarray | None = None, noise: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = near + noise * rng.normal(size=DIM) if near is not None else rng.normal(size=DIM)
    return (v / np.linalg.norm(v)).astype(np.float32)


ALICE = unit(1)
BOB = unit(2)


def gallery_site(**gallery: Any) -> SiteConfig:
    return make_site(
        galleries=[
            {"name": "staff", "purpose": "staff", **gallery},
            {"name": "vip", "purpose": "vip", "min_similarity": 0.9, **gallery},
        ]
    )


@pytest.fixture
def site() -> SiteConfig:
    return gallery_site()


@pytest.fixture
def session(tmp_path: Path, site: SiteConfig) -> Iterator[Session]:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    upgrade(url)
    with session_factory(create_db_engine(url))() as s:
        sync_sites(s, [site])
        s.commit()
        yield s


def sighting(
    session: Session, visitor: str, camera: str, track: int, at_s: float, vector: np.ndarray | None, model: str = MODEL
) -> Assignment:
    """A stored, stitched tracklet (with a crossing and a zone visit), as stitching leaves it."""
    start = T + int(at_s * NS)
    session.add(
        Tracklet(
            site_id="mall",
            camera_id=camera,
            track_id=track,
            first_seen_ns=start,
            last_seen_ns=start + 5 * NS,
            observations=10,
            mean_confidence=0.9,
            embedding=encode(vector) if vector is not None else None,
            embedding_model=model if vector is not None else None,
            visitor_id=visitor,
        )
    )
    session.add(
        LineCrossing(
            site_id="mall", camera_id=camera, seq=track, line_id="door", direction="in", track_id=track, event_ns=start
        )
    )
    session.add(
        ZoneVisit(
            site_id="mall",
            camera_id=camera,
            zone_id="food",
            track_id=track,
            entered_ns=start,
            exited_ns=start + NS,
            dwell_s=1.0,
        )
    )
    visitor_row = session.get(Visitor, ("mall", visitor))
    if visitor_row is None:
        session.add(
            Visitor(
                site_id="mall",
                visitor_id=visitor,
                first_seen_ns=start,
                last_seen_ns=start + 5 * NS,
                path=[camera],
                tracklets=1,
            )
        )
    else:
        visitor_row.last_seen_ns = start + 5 * NS
        visitor_row.tracklets += 1
    session.flush()
    return Assignment("mall", camera, track, visitor, None, None)


# --- config ---


@pytest.mark.parametrize(
    ("gallery", "message"),
    [
        ({"name": "g", "purpose": "staff", "webhook": {"url": "https://x.example/h"}}, "only vip galleries"),
        ({"name": "g", "purpose": "vip", "webhook": {"url": "ftp://x"}}, "String should match pattern"),
        ({"name": "g", "purpose": "vip", "min_similarity": 1.5}, "less than or equal to 1"),
        ({"name": "g", "purpose": "friends"}, "'staff', 'vip' or 'custom'"),
        ({"name": "g", "purpose": "staff", "min_sightings": 0}, "greater than or equal to 1"),
        ({"name": "g", "purpose": "staff", "expiry_days": 0}, "greater than 0"),
    ],
)
def test_bad_gallery_config_is_named(gallery: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_site(galleries=[gallery])


def test_gallery_defaults_and_duplicates() -> None:
    site = gallery_site()
    assert (site.gallery("staff").expiry, site.gallery("vip").expiry) == (30.0, 90.0)
    assert site.gallery("staff").min_similarity > StitchSettings().min_similarity
    with pytest.raises(ValueError, match="duplicate gallery name"):
        make_site(galleries=[{"name": "g", "purpose": "staff"}, {"name": "g", "purpose": "vip"}])


# --- enrolment ---


@pytest.mark.parametrize(
    ("source", "ok"),
    [
        ({"visitor_id": "v"}, True),
        ({"camera_id": "cam-a", "track_id": 1}, True),
        ({}, False),
        ({"visitor_id": "v", "camera_id": "cam-a", "track_id": 1}, False),
        ({"camera_id": "cam-a"}, False),
        ({"visitor_id": "v", "track_id": 1}, False),
    ],
)
def test_a_source_is_a_visitor_or_a_tracklet(source: dict[str, Any], ok: bool) -> None:
    if ok:
        Source(**source)
    else:
        with pytest.raises(ValueError, match="either visitor_id, or camera_id together with track_id"):
            Source(**source)


def test_enrol_renew_delete_are_audited(session: Session, site: SiteConfig) -> None:
    sighting(session, "alice", "cam-a", 1, 0, ALICE)
    sighting(session, "alice", "cam-b", 2, 10, unit(3, ALICE, 0.1))
    entry = enroll(session, site, "staff", Source(visitor_id="alice"), "badge 7", "ops", T + DAY_NS)
    assert entry.expires_ns == T + 31 * DAY_NS and entry.source == "visitor:alice"
    assert len(session.scalars(select(GalleryEmbedding)).all()) == 2
    # The visitor enrolled from is that person: decided, and (staff) flagged at once.
    match = session.get(GalleryMatch, ("mall", "alice", "staff"))
    assert match is not None and match.matched and match.decided_by == "enrolled"
    assert all(c.staff for c in session.scalars(select(LineCrossing)))

    sighting(session, "alice-2", "cam-a", 3, 3600, unit(4, ALICE, 0.1))
    renewed = renew(
        session, site, "staff", entry.entry_id, "ops", T + 2 * DAY_NS, Source(camera_id="cam-a", track_id=3)
    )
    assert renewed.expires_ns == T + 32 * DAY_NS and renewed.source == "tracklet:cam-a/3"
    assert len(session.scalars(select(GalleryEmbedding)).all()) == 1
    # Without a source: from the latest visitor matched to the entry.
    assert renew(session, site, "staff", entry.entry_id, "ops", T + 3 * DAY_NS).source == "visitor:alice-2"

    remove(session, site, "staff", entry.entry_id, "ops", T + 4 * DAY_NS)
    assert list_entries(session, site, "staff") == []
    assert session.scalars(select(GalleryEmbedding)).all() == []
    assert [a.action for a in session.scalars(select(GalleryAudit).order_by(GalleryAudit.id))] == [
        "enroll",
        "renew",
        "renew",
        "delete",
    ]


@pytest.mark.parametrize(
    ("gallery", "source", "label", "error", "message"),
    [
        ("friends", Source(visitor_id="alice"), "x", EntryNotFound, "no gallery 'friends'"),
        ("staff", Source(visitor_id="nobody"), "x", ValueError, "no embedding to enrol"),
        ("staff", Source(visitor_id="blank"), "x", ValueError, "no embedding to enrol"),
        ("staff", Source(visitor_id="alice"), " ", ValueError, "label must be"),
    ],
)
def test_enrolment_errors_name_the_problem(
    session: Session, site: SiteConfig, gallery: str, source: Source, label: str, error: type, message: str
) -> None:
    sighting(session, "alice", "cam-a", 1, 0, ALICE)
    sighting(session, "blank", "cam-a", 2, 0, None)
    with pytest.raises(error, match=message):
        enroll(session, site, gallery, source, label, "ops", T)


def test_expired_entries_are_purged_with_their_embeddings(session: Session, site: SiteConfig) -> None:
    sighting(session, "alice", "cam-a", 1, 0, ALICE)
    enroll(session, site, "vip", Source(visitor_id="alice"), "VIP 1", "ops", T, expiry_days=1)
    assert purge_expired(session, site, T + DAY_NS - 1) == 0
    assert purge_expired(session, site, T + DAY_NS) == 1
    assert session.scalars(select(GalleryEmbedding)).all() == []
    assert session.scalars(select(GalleryAudit.action).order_by(GalleryAudit.id)).all() == ["enroll", "expire"]


# --- matching ---


def _enrolled(session: Session, site: SiteConfig, gallery: str, vector: np.ndarray, expiry_days: float = 30) -> str:
    sighting(session, "enrolled-from", "cam-a", 100, -7200, vector)
    return enroll(session, site, gallery, Source(visitor_id="enrolled-from"), "tag", "ops", T, expiry_days).entry_id


@pytest.mark.parametrize(
    ("vectors", "model", "decided", "matched"),
    [
        # One sighting is not enough to decide on (min_sightings 2).
        ([unit(5, ALICE, 0.05)], MODEL, False, False),
        ([unit(5, ALICE, 0.05), unit(6, ALICE, 0.05)], MODEL, True, True),
        # Another person: decided, recorded with its similarity, not matched.
        ([unit(5, BOB, 0.05), unit(6, BOB, 0.05)], MODEL, True, False),
        # Vectors of another model are never compared.
        ([unit(5, ALICE, 0.05), unit(6, ALICE, 0.05)], "other@model", False, False),
        # Tracklets without an embedding are no sightings.
        ([unit(5, ALICE, 0.05), None], MODEL, False, False),
    ],
)
def test_matching_rules(
    session: Session,
    site: SiteConfig,
    vectors: list[np.ndarray | None],
    model: str,
    decided: bool,
    matched: bool,
) -> None:
    _enrolled(session, site, "staff", ALICE)
    done = [sighting(session, "v", "cam-a", i, 60 * i, v, model) for i, v in enumerate(vectors)]
    decisions = GalleryMatcher(SiteRegistry([site]))(session, "mall", done)
    row = session.get(GalleryMatch, ("mall", "v", "staff"))
    assert (row is not None) is decided
    if row is not None:
        assert row.matched is matched and row.similarity is not None and row.sightings == len(vectors)
        assert [d.matched for d in decisions if d.gallery == "staff"] == [matched]
    flagged = session.scalars(select(LineCrossing.track_id).where(LineCrossing.staff, LineCrossing.track_id < 100))
    assert sorted(flagged) == (list(range(len(vectors))) if matched else [])


def test_expired_entry_stops_matching_at_its_expiry(session: Session, site: SiteConfig) -> None:
    # Expires a day after T; the visitor is seen two days after.
    _enrolled(session, site, "staff", ALICE, expiry_days=1)
    done = [sighting(session, "v", "cam-a", i, 2 * 86_400 + i, unit(5 + i, ALICE, 0.05)) for i in range(2)]
    assert GalleryMatcher(SiteRegistry([site]))(session, "mall", done) == []
    assert not any(c.staff for c in session.scalars(select(LineCrossing).where(LineCrossing.track_id < 100)))


def test_a_staff_visitor_flags_tracklets_stitched_on_later(session: Session, site: SiteConfig) -> None:
    _enrolled(session, site, "staff", ALICE)
    matcher = GalleryMatcher(SiteRegistry([site]))
    first = [sighting(session, "v", "cam-a", i, 60 * i, unit(5 + i, ALICE, 0.05)) for i in range(2)]
    matcher(session, "mall", first)
    # Its third tracklet was counted as a shopper, then stitched onto the staff visitor.
    later = sighting(session, "v", "cam-b", 2, 300, unit(9, ALICE, 0.3))
    matcher(session, "mall", [later])
    assert all(c.staff for c in session.scalars(select(LineCrossing).where(LineCrossing.track_id < 100)))
    assert all(z.staff for z in session.scalars(select(ZoneVisit).where(ZoneVisit.track_id < 100)))
    assert session.get(Visitor, ("mall", "v")).staff  # type: ignore[union-attr]


def test_one_vip_alert_per_visit_however_often_evaluated(session: Session, site: SiteConfig) -> None:
    entry = _enrolled(session, site, "vip", ALICE)
    matcher = GalleryMatcher(SiteRegistry([site]))
    done = [sighting(session, "v", "cam-a", i, 60 * i, unit(5 + i, ALICE, 0.05)) for i in range(3)]
    for _ in range(3):
        matcher(session, "mall", done)
    matcher.reset()
    matcher(session, "mall", done)
    alerts = session.scalars(select(GalleryAlertRow)).all()
    assert [(a.visitor_id, a.entry_id, a.published, a.webhook_state) for a in alerts] == [("v", entry, False, "none")]
    # A VIP is no staff member: nothing is excluded.
    assert not any(c.staff for c in session.scalars(select(LineCrossing)))


def test_the_matcher_sees_entries_enrolled_after_it_started(session: Session, site: SiteConfig) -> None:
    matcher = GalleryMatcher(SiteRegistry([site]))
    done = [sighting(session, "v", "cam-a", i, 60 * i, unit(5 + i, ALICE, 0.05)) for i in range(2)]
    assert matcher(session, "mall", done) == []
    _enrolled(session, site, "staff", ALICE)
    assert [d.matched for d in matcher(session, "mall", done)] == [True]


# --- alert delivery ---


class _Hook(http.server.BaseHTTPRequestHandler):
    # What the next requests answer, and what arrived: one webhook receiver per test.
    statuses: ClassVar[list[int]] = []
    received: ClassVar[list[tuple[bytes, dict[str, str]]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((body, dict(self.headers)))
        self.send_response(type(self).statuses.pop(0) if type(self).statuses else 200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook_url() -> Iterator[str]:
    _Hook.statuses, _Hook.received = [], []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/alerts"
    server.shutdown()


class _Publisher:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.sent: list[str] = []

    def publish(self, messages: list[Any]) -> None:
        if self.fail:
            raise TimeoutError("broker away")
        self.sent += [m.alert_id for m in messages]


def _alert_site(url: str, max_attempts: int = 3) -> SiteConfig:
    return make_site(
        galleries=[
            {
                "name": "vip",
                "purpose": "vip",
                "webhook": {"url": url, "secret_env": "MALLFLOW_TEST_HOOK_KEY", "max_attempts": max_attempts},
            }
        ]
    )


def _alert_outbox(tmp_path: Path, site: SiteConfig) -> Engine:
    """A database where visitor `v` matched a VIP entry: one alert in the outbox."""
    url = f"sqlite:///{tmp_path / 'alerts.db'}"
    upgrade(url)
    engine = create_db_engine(url)
    with session_factory(engine).begin() as s:
        sync_sites(s, [site])
        sighting(s, "enrolled-from", "cam-a", 100, -7200, ALICE)
        enroll(s, site, "vip", Source(visitor_id="enrolled-from"), "VIP 3", "ops", T)
        done = [sighting(s, "v", "cam-a", i, 60 * i, unit(5 + i, ALICE, 0.05)) for i in range(2)]
        GalleryMatcher(SiteRegistry([site]))(s, "mall", done)
    return engine


@pytest.mark.parametrize(
    ("statuses", "state", "attempts"), [([500, 503], "delivered", 3), ([500, 500, 500], "failed", 3)]
)
def test_webhook_retries_with_backoff_then_settles(
    tmp_path: Path,
    webhook_url: str,
    monkeypatch: pytest.MonkeyPatch,
    statuses: list[int],
    state: str,
    attempts: int,
) -> None:
    monkeypatch.setenv("MALLFLOW_TEST_HOOK_KEY", "s3cret")
    site = _alert_site(webhook_url)
    engine = _alert_outbox(tmp_path, site)
    _Hook.statuses = list(statuses)
    clock = [T]
    publisher = _Publisher()
    dispatcher = AlertDispatcher(SiteRegistry([site]), engine, publisher, clock=lambda: clock[0])
    for _ in range(6):
        dispatcher.deliver_once()
        clock[0] += 60 * NS  # past any backoff of these settings
    with session_factory(engine)() as s:
        (row,) = s.scalars(select(GalleryAlertRow)).all()
        assert (row.webhook_state, row.webhook_attempts, row.published) == (state, attempts, True)
    assert publisher.sent == ["vip:v"]
    body, headers = _Hook.received[-1]
    assert body == webhook_body(row)
    assert headers[SIGNATURE_HEADER] == sign(body, "s3cret")


def test_backoff_waits_between_attempts(tmp_path: Path, webhook_url: str) -> None:
    site = _alert_site(webhook_url, max_attempts=5)
    engine = _alert_outbox(tmp_path, site)
    _Hook.statuses = [500] * 5
    dispatcher = AlertDispatcher(SiteRegistry([site]), engine, None, clock=lambda: T)
    reports = [dispatcher.deliver_once() for _ in range(3)]
    # The first attempt failed; the clock has not moved past the 2 s backoff, so no second one.
    assert [r.webhooks_retrying for r in reports] == [1, 0, 0] and len(_Hook.received) == 1


def test_an_unreachable_broker_leaves_alerts_in_the_outbox(tmp_path: Path, site: SiteConfig) -> None:
    engine = _alert_outbox(tmp_path, site)
    with pytest.raises(TimeoutError):
        AlertDispatcher(SiteRegistry([site]), engine, _Publisher(fail=True)).deliver_once()
    publisher = _Publisher()
    assert AlertDispatcher(SiteRegistry([site]), engine, publisher).deliver_once().published == 1
    assert publisher.sent == ["vip:v"]


@pytest.mark.parametrize("sizes", [[1], [3, 1, 16], [16] * 40])
def test_the_entry_index_scores_as_the_definition(sizes: list[int]) -> None:
    rng = np.random.default_rng(len(sizes))
    entries = [np.stack([unit(int(rng.integers(1 << 30))) for _ in range(k)]) for k in sizes]
    index = EntryIndex(entries)
    for seed in range(5):
        probe = unit(1000 + seed)
        expected = [similarity(probe, e) for e in entries]
        np.testing.assert_allclose(index.scores(probe), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="does not match entries of 8 values"):
        index.scores(np.ones(4, dtype=np.float32))
