"""`mallflow demo --no-serve`: embedded (SQLite) and through Kafka into PostgreSQL."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from support.split_site import free_port, split_site_on

from cloud.storage import create_db_engine, session_factory
from cloud.storage.models import FootfallMinute, LineCrossing, Tracklet, Visitor

MALLFLOW = Path(sys.executable).with_name("mallflow")


def _demo(tmp_path: Path, *args: str) -> str:
    env = {**os.environ, "MALLFLOW_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run(
        [str(MALLFLOW), "demo", "--no-serve", *args], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _edge_crossings(stdout: str) -> int:
    reports = re.findall(r"^\[demo\] cam-(?:left|right): 60 frames, (.*); done$", stdout, re.M)
    assert len(reports) == 2, stdout
    return sum(int(m) for r in reports for m in re.findall(r"line_crossing=(\d+)", r))


def _db_counts(url: str) -> tuple[int, int, int, int]:
    with session_factory(create_db_engine(url))() as s:
        return (
            s.scalar(select(func.count()).select_from(LineCrossing)) or 0,
            s.scalar(select(func.coalesce(func.sum(FootfallMinute.count), 0))) or 0,
            s.scalar(select(func.count()).select_from(Tracklet)) or 0,
            s.scalar(select(func.count()).select_from(Visitor)) or 0,
        )


def test_embedded_demo_runs_end_to_end_and_a_rerun_starts_afresh(vtest_clip: Path, tmp_path: Path) -> None:
    site = split_site_on(vtest_clip, tmp_path)
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    out = _demo(tmp_path, "--config", str(site), "--db", url)
    assert "edge → in process → cloud" in out and "unique visitors" in out and "dwell left-centre" in out
    crossings, footfall, tracklets, visitors = _db_counts(url)
    assert crossings == _edge_crossings(out) and footfall == crossings
    assert tracklets > 0 and 0 < visitors <= tracklets
    # A second run replaces the first run's data instead of adding to it, and serves the dashboard.
    port = free_port()
    env = {**os.environ, "MALLFLOW_CACHE_DIR": str(tmp_path / "cache"), "PYTHONUNBUFFERED": "1"}
    cmd = [str(MALLFLOW), "demo", "--config", str(site), "--db", url, "--port", str(port)]
    with subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as proc:
        try:
            assert proc.stdout is not None
            lines = []
            for line in proc.stdout:
                lines.append(line)
                if "[demo] dashboard: " in line:
                    break
            again = "".join(lines)
            found = re.search(r"dashboard: (http://127\.0\.0\.1:\d+)/#site=pets09-split&key=(\S+)", again)
            assert found, again
            assert _db_counts(url)[0] == _edge_crossings(again)
            base, key = found.groups()
            deadline = time.monotonic() + 60
            while True:
                try:
                    response = httpx.get(f"{base}/api/v1/sites", headers={"X-API-Key": key}, timeout=5)
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "the demo's dashboard did not come up"
                    time.sleep(0.5)
            assert response.status_code == 200 and response.json()["items"][0]["id"] == "pets09-split"
            assert httpx.get(f"{base}/api/v1/sites", timeout=5).status_code == 401
            assert "<title>Mallflow dashboard</title>" in httpx.get(f"{base}/", timeout=5).text
            # The site map shows the example's plan, drawn from its calibration, under both views.
            site_map = httpx.get(f"{base}/api/v1/sites/pets09-split/map", headers={"X-API-Key": key}, timeout=5).json()
            assert site_map["plan"]["width_px"] == 310 and all(len(c["view"]) >= 3 for c in site_map["cameras"])
            assert site_map["heatmap"]["total_seconds"] > 0
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)


@pytest.mark.integration
def test_demo_through_kafka_into_postgres(vtest_clip: Path, tmp_path: Path, kafka_bootstrap: str, pg_url: str) -> None:
    site = split_site_on(vtest_clip, tmp_path)
    out = _demo(tmp_path, "--config", str(site), "--db", pg_url, "--bootstrap", kafka_bootstrap, "--idle-exit", "3")
    assert f"edge → Kafka {kafka_bootstrap}" in out
    crossings, footfall, tracklets, _ = _db_counts(pg_url)
    assert crossings == _edge_crossings(out) and footfall == crossings and tracklets > 0
