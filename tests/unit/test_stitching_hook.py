"""Stitching inside the ingest transaction, on the real edge stream of the two-camera split view."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.ingest.applier import EventApplier
from cloud.ingest.registry import SiteRegistry
from cloud.stitching.hook import StitchingHook
from cloud.storage import create_db_engine, session_factory, upgrade
from cloud.storage.models import Tracklet, Visitor
from edge.agent.agent import AgentSettings, EdgeAgent
from edge.inference.factory import create_detector, create_embedder
from edge.publish import InProcessSink
from edge.sources.factory import open_source
from shared.config import SiteConfig, parse_site_config
from shared.schema import pb

EXAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "examples"


@pytest.fixture(scope="module")
def split_site(vtest_clip: Path) -> SiteConfig:
    raw = yaml.safe_load((EXAMPLES / "pets09-split.yaml").read_text())
    for cam in raw["cameras"]:
        cam["source"] = str(vtest_clip)
    return parse_site_config(raw)


@pytest.fixture(scope="module")
def split_events(split_site: SiteConfig, tmp_path_factory: pytest.TempPathFactory) -> list[pb.Envelope]:
    out: list[pb.Envelope] = []
    EdgeAgent(
        split_site,
        ["cam-left", "cam-right"],
        create_detector(),
        create_embedder(),
        InProcessSink(out.append),
        AgentSettings(edge_id="e", state_dir=tmp_path_factory.mktemp("state")),
        opener=lambda spec: open_source(spec, "opencv"),
    ).run()
    return out


def session_for(path: Path) -> Session:
    url = f"sqlite:///{path}"
    upgrade(url)
    return session_factory(create_db_engine(url))()


def ingest(
    session: Session, site: SiteConfig, events: list[pb.Envelope], batch: int, hook: StitchingHook | None = None
) -> None:
    registry = SiteRegistry([site])
    hook = hook or StitchingHook(registry)
    applier = EventApplier(registry)
    for i in range(0, len(events), batch):
        result = applier.apply(session, events[i : i + batch])
        hook(session, result)
        session.commit()


def assignments(session: Session) -> dict[tuple[str, int], str | None]:
    return {(t.camera_id, t.track_id): t.visitor_id for t in session.scalars(select(Tracklet))}


def test_every_closed_tracklet_gets_a_visitor(
    tmp_path: Path, split_site: SiteConfig, split_events: list[pb.Envelope]
) -> None:
    session = session_for(tmp_path / "a.db")
    ingest(session, split_site, split_events, batch=50)
    visitors = assignments(session)
    assert visitors and all(v is not None for v in visitors.values())
    rows = session.scalars(select(Visitor)).all()
    assert {v.visitor_id for v in rows} == set(visitors.values())
    assert sum(v.tracklets for v in rows) == len(visitors)
    assert all(v.first_seen_ns <= v.last_seen_ns and v.path for v in rows)


def test_restart_mid_stream_gives_the_same_visitors(
    tmp_path: Path, split_site: SiteConfig, split_events: list[pb.Envelope]
) -> None:
    straight = session_for(tmp_path / "straight.db")
    ingest(straight, split_site, split_events, batch=40)
    restarted = session_for(tmp_path / "restarted.db")
    half = len(split_events) // 2
    ingest(restarted, split_site, split_events[:half], batch=40)
    # A new consumer process: the hook rebuilds its state from the database.
    ingest(restarted, split_site, split_events[half:], batch=40, hook=StitchingHook(SiteRegistry([split_site])))
    assert assignments(restarted) == assignments(straight)
    # Replaying everything (a re-read topic) changes nothing.
    ingest(restarted, split_site, split_events, batch=40)
    assert assignments(restarted) == assignments(straight)
