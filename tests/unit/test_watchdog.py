"""sd_notify: what systemd receives on its notify socket, from the notifier and from a running agent."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.agent.watchdog import SystemdNotifier


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.2)
    try:
        yield path, sock
    finally:
        sock.close()


def received(sock: socket.socket) -> list[str]:
    out = []
    while True:
        try:
            out.append(sock.recv(256).decode())
        except TimeoutError:
            return out


def test_ready_alive_throttled_and_stopping(notify_socket: tuple[str, socket.socket]) -> None:
    path, sock = notify_socket
    notifier = SystemdNotifier(path, interval_s=60)
    notifier.ready()
    for _ in range(100):
        notifier.alive()
    notifier.stopping()
    assert received(sock) == ["READY=1", "WATCHDOG=1", "STOPPING=1"]


@pytest.mark.parametrize(
    ("env", "interval"),
    [({"WATCHDOG_USEC": "60000000"}, 20.0), ({"WATCHDOG_USEC": "junk"}, 5.0), ({}, 5.0)],
)
def test_interval_is_a_third_of_systemds(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], interval: float) -> None:
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert SystemdNotifier.from_env().interval_s == interval


def test_without_systemd_or_with_a_dead_socket_nothing_breaks(tmp_path: Path) -> None:
    SystemdNotifier(None).ready()
    SystemdNotifier(str(tmp_path / "gone")).alive()  # logged, not raised


def test_the_agent_notifies_while_it_runs(
    notify_socket: tuple[str, socket.socket], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, vtest_clip: Path
) -> None:
    from edge.agent.agent import AgentSettings, EdgeAgent
    from edge.inference.factory import create_detector
    from edge.publish.memory_sink import InProcessSink
    from edge.sources.factory import open_source
    from shared.config import SiteConfig

    path, sock = notify_socket
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    site = SiteConfig.model_validate(
        {
            "site": {"id": "s"},
            "floors": [{"id": "f"}],
            "cameras": [{"id": "cam", "source": str(vtest_clip), "floor": "f", "fps_hint": 7}],
            "tracking": {"reid": False},
        }
    )
    agent = EdgeAgent(
        site,
        ["cam"],
        create_detector(threads=1),
        None,
        InProcessSink(lambda env: None),
        AgentSettings(edge_id="e", state_dir=tmp_path),
        opener=lambda spec: open_source(spec, "opencv"),
    )
    agent.run()
    messages = received(sock)
    assert messages[0] == "READY=1" and "WATCHDOG=1" in messages and messages[-1] == "STOPPING=1"
