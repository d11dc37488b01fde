"""Gallery endpoints: admin keys only, enrol/list/renew/delete/audit, VIP alerts, staff-excluded numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from analytics_db import make_site
from api_db import ADMIN, ADMIN_KEY, KEYS, READ
from fastapi.testclient import TestClient
from support.rollup_rows import add_footfall_rows, add_visitors

from cloud.api.app import create_app
from cloud.api.settings import ApiSettings
from cloud.galleries.vectors import encode
from cloud.storage import create_db_engine, session_factory, upgrade
from cloud.storage.models import GalleryAlertRow, LineCrossing, Tracklet, Visitor
from cloud.storage.sites import sync_sites

NS = 1_000_000_000
# 10 June 2026, 10:00 in London (BST).
T = 1_781_082_000 * NS
DAY = {"start": "2026-06-10", "end": "2026-06-11"}
BASE = "/api/v1/sites/mall"


def _vector(seed: int) -> bytes:
    v = np.random.default_rng(seed).normal(size=8)
    return encode((v / np.linalg.norm(v)).astype(np.float32))


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    site = make_site(galleries=[{"name": "staff", "purpose": "staff"}, {"name": "vip", "purpose": "vip"}])
    url = f"sqlite:///{tmp_path / 'g.db'}"
    upgrade(url)
    with session_factory(create_db_engine(url)).begin() as s:
        sync_sites(s, [site])
        for track, (visitor, door) in enumerate([("anna", "in"), ("anna", "out"), ("ben", "in")]):
            start = T + track * 60 * NS
            s.add(
                Tracklet(
                    site_id="mall",
                    camera_id="cam-a",
                    track_id=track,
                    first_seen_ns=start,
                    last_seen_ns=start + 10 * NS,
                    observations=5,
                    mean_confidence=0.9,
                    embedding=_vector(1 if visitor == "anna" else 2),
                    embedding_model="osnet@t",
                    visitor_id=visitor,
                )
            )
            s.add(
                LineCrossing(
                    site_id="mall",
                    camera_id="cam-a",
                    seq=track + 1,
                    line_id="door",
                    direction=door,
                    track_id=track,
                    event_ns=start,
                )
            )
            # The rollups the applier writes with each crossing.
            add_footfall_rows(s, "Europe/London", [("mall", "door", door, start // NS, 1)])
        add_visitors(
            s,
            "Europe/London",
            [
                Visitor(
                    site_id="mall",
                    visitor_id=visitor,
                    first_seen_ns=T + a * 60 * NS,
                    last_seen_ns=T + b * 60 * NS + 10 * NS,
                    path=["cam-a"],
                    tracklets=b - a,
                )
                for visitor, (a, b) in {"anna": (0, 2), "ben": (2, 3)}.items()
            ],
        )
        s.add(
            GalleryAlertRow(
                site_id="mall",
                gallery="vip",
                visitor_id="ben",
                entry_id="e1",
                label="VIP 1",
                similarity=0.95,
                camera_id="cam-a",
                first_seen_ns=T,
                event_ns=T + 130 * NS,
                published=True,
                webhook_state="none",
                webhook_attempts=0,
                webhook_error="",
                next_attempt_ns=0,
            )
        )
    return TestClient(create_app(create_db_engine(url), ApiSettings(keys=KEYS)))


ENROL = {"visitor_id": "anna", "label": "badge 12", "operator": "maria"}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/galleries", None),
        ("GET", "/galleries/staff/entries", None),
        ("POST", "/galleries/staff/entries", ENROL),
        ("POST", "/galleries/staff/entries/x/renew", {"operator": "maria"}),
        ("DELETE", "/galleries/staff/entries/x?operator=maria", None),
        ("GET", "/galleries/audit", None),
    ],
)
def test_galleries_need_an_admin_key(
    client: TestClient, method: str, path: str, body: dict[str, object] | None
) -> None:
    for headers, status in (({}, 401), (READ, 403), ({"X-API-Key": "not-a-key-at-all-000"}, 401)):
        assert client.request(method, BASE + path, json=body, headers=headers).status_code == status


def test_enrol_list_renew_delete_and_the_audit_log(client: TestClient) -> None:
    created = client.post(f"{BASE}/galleries/staff/entries", json=ENROL, headers=ADMIN)
    assert created.status_code == 201, created.text
    entry = created.json()
    assert entry["label"] == "badge 12" and entry["source"] == "visitor:anna"
    # Who enrolled: the operator named, and which key (a digest, never the key).
    assert entry["enrolled_by"].startswith("maria (key:") and ADMIN_KEY not in entry["enrolled_by"]
    galleries = client.get(f"{BASE}/galleries", headers=ADMIN).json()["items"]
    assert {(g["name"], g["entries"]) for g in galleries} == {("staff", 1), ("vip", 0)}
    assert [e["entry_id"] for e in client.get(f"{BASE}/galleries/staff/entries", headers=ADMIN).json()["items"]] == [
        entry["entry_id"]
    ]
    renewed = client.post(
        f"{BASE}/galleries/staff/entries/{entry['entry_id']}/renew",
        json={"operator": "maria", "camera_id": "cam-a", "track_id": 1},
        headers=ADMIN,
    )
    assert renewed.status_code == 200 and renewed.json()["source"] == "tracklet:cam-a/1"
    gone = client.delete(f"{BASE}/galleries/staff/entries/{entry['entry_id']}?operator=maria", headers=ADMIN)
    assert gone.status_code == 204
    assert client.get(f"{BASE}/galleries/staff/entries", headers=ADMIN).json()["total"] == 0
    audit = client.get(f"{BASE}/galleries/audit", headers=ADMIN).json()["items"]
    assert [a["action"] for a in audit] == ["delete", "renew", "enroll"]


def test_enrolling_staff_gives_numbers_with_and_without_staff(client: TestClient) -> None:
    assert client.post(f"{BASE}/galleries/staff/entries", json=ENROL, headers=ADMIN).status_code == 201
    both = {
        flag: client.get(f"{BASE}/footfall", params={**DAY, "exclude_staff": flag}, headers=READ).json()
        for flag in ("false", "true")
    }
    assert (both["false"]["total_in"], both["false"]["total_out"]) == (2, 1)
    assert (both["true"]["total_in"], both["true"]["total_out"], both["true"]["staff_excluded"]) == (1, 0, True)
    visitors = client.get(f"{BASE}/visitors", params={**DAY, "exclude_staff": "true"}, headers=READ).json()
    assert visitors["total"] == 1 and visitors["staff_excluded"]
    for path in ("/dwell", "/occupancy/history"):
        answer = client.get(BASE + path, params={**DAY, "exclude_staff": "true"}, headers=READ)
        assert answer.status_code == 200 and answer.json()["staff_excluded"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("POST", "/galleries/friends/entries", ENROL, 404, "no gallery 'friends'"),
        ("POST", "/galleries/staff/entries", {**ENROL, "visitor_id": "nobody"}, 422, "no embedding to enrol"),
        ("POST", "/galleries/staff/entries", {**ENROL, "camera_id": "cam-a"}, 422, "either visitor_id, or camera_id"),
        ("POST", "/galleries/staff/entries", {"visitor_id": "anna", "operator": "m"}, 422, "label"),
        ("POST", "/galleries/staff/entries", {**ENROL, "expiry_days": 0}, 422, "expiry_days"),
        ("POST", "/galleries/staff/entries/nope/renew", {"operator": "m"}, 404, "no entry 'nope'"),
        ("DELETE", "/galleries/staff/entries/nope?operator=m", None, 404, "no entry 'nope'"),
        ("DELETE", "/galleries/staff/entries/nope", None, 422, "operator"),
    ],
)
def test_bad_gallery_requests_say_what_is_wrong(
    client: TestClient, method: str, path: str, body: dict[str, object] | None, status: int, message: str
) -> None:
    answer = client.request(method, BASE + path, json=body, headers=ADMIN)
    assert answer.status_code == status
    assert message in answer.json()["detail"]


def test_recent_alerts_are_readable_with_a_read_key(client: TestClient) -> None:
    answer = client.get(f"{BASE}/alerts", params=DAY, headers=READ)
    assert answer.status_code == 200
    body = answer.json()
    assert body["total"] == 1
    assert body["items"][0] | {"similarity": 0} == {
        "alert_id": "vip:ben",
        "gallery": "vip",
        "entry_id": "e1",
        "label": "VIP 1",
        "visitor_id": "ben",
        "similarity": 0,
        "camera_id": "cam-a",
        "first_seen_ns": T,
        "event_ns": T + 130 * NS,
        "published": True,
        "webhook_state": "none",
    }
    assert (
        client.get(f"{BASE}/alerts", params={"start": "2026-06-11", "end": "2026-06-12"}, headers=READ).json()["total"]
        == 0
    )
