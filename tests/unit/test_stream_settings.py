"""A camera's stream settings: validation, ${VARS} credentials, the RTSP launch line, and
credentials that never show in a message, a log line or a dump."""

from __future__ import annotations

import copy
import logging
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from edge.sources.base import SourceError, SourceSpec
from edge.sources.factory import open_source
from edge.sources.gstreamer import gstreamer_available, pipeline_description
from edge.sources.reconnect import Backoff, ReconnectingSource, SourceEvent, SourceState
from shared.config import ConfigError, load_site_config, parse_site_config
from shared.config.stream import RtspTransport, StreamSettings, has_userinfo, redact_text, redact_uri

needs_gstreamer = pytest.mark.skipif(not gstreamer_available(), reason="python gi with GStreamer 1.0 not importable")
BACKENDS = ["opencv", pytest.param("gstreamer", marks=needs_gstreamer)]
PASSWORD = "s3cr#t/p@ss"

SITE: dict[str, Any] = {
    "site": {"id": "mall-1", "timezone": "Europe/Paris"},
    "floors": [{"id": "f1"}],
    "cameras": [{"id": "cam-a", "source": "rtsp://10.0.0.5:554/stream1", "floor": "f1"}],
}


def site_with(stream: dict[str, Any] | None = None, source: str | None = None) -> dict[str, Any]:
    raw = copy.deepcopy(SITE)
    if stream is not None:
        raw["cameras"][0]["stream"] = stream
    if source is not None:
        raw["cameras"][0]["source"] = source
    return raw


@pytest.mark.parametrize(
    ("uri", "shown"),
    [
        ("rtsp://10.0.0.5/stream1", "rtsp://10.0.0.5/stream1"),
        ("rtsp://admin:pw@10.0.0.5:554/stream1", "rtsp://***@10.0.0.5:554/stream1"),
        ("rtsp://admin@10.0.0.5/s", "rtsp://***@10.0.0.5/s"),
        # Unescaped '@' and '/' in the password: masked whole all the same.
        ("rtsp://admin:p@ss@10.0.0.5/s", "rtsp://***@10.0.0.5/s"),
        ("RTSPS://admin:pa/ss@cam/s", "RTSPS://***@cam/s"),
        ("/data/vtest.avi", "/data/vtest.avi"),
        ("0", "0"),
    ],
)
def test_redact_uri(uri: str, shown: str) -> None:
    assert redact_uri(uri) == shown


@pytest.mark.parametrize(
    ("text", "secrets", "shown"),
    [
        (
            "Could not open resource for reading (rtsp://admin:pw@cam/s) and 'http://u:p@h/x'",
            (),
            "Could not open resource for reading (rtsp://***@cam/s) and 'http://***@h/x'",
        ),
        ("Unauthorized: user admin, password hunter2", ("hunter2",), "Unauthorized: user admin, password ***"),
        ("nothing to hide", ("",), "nothing to hide"),
    ],
)
def test_redact_text(text: str, secrets: tuple[str, ...], shown: str) -> None:
    assert redact_text(text, secrets) == shown


@pytest.mark.parametrize(
    ("uri", "username", "password", "expected"),
    [
        ("rtsp://cam:554/s1", None, None, "rtsp://cam:554/s1"),
        ("rtsp://cam:554/s1", "admin", None, "rtsp://admin@cam:554/s1"),
        ("rtsp://cam:554/s1?channel=1", "admin", "p@ss:w/rd", "rtsp://admin:p%40ss%3Aw%2Frd@cam:554/s1?channel=1"),
        # The stream's credentials replace whatever the URL had.
        ("rtsp://old:x@cam/s1", "new", "y", "rtsp://new:y@cam/s1"),
        ("/data/a.mp4", "admin", "pw", "/data/a.mp4"),
    ],
)
def test_uri_with_credentials(uri: str, username: str | None, password: str | None, expected: str) -> None:
    spec = SourceSpec("cam", uri, stream=StreamSettings(username=username, password=password))  # type: ignore[arg-type]
    assert spec.uri_with_credentials == expected


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("rtsp://cam/s", False),
        ("rtsp://admin:pw@cam/s", True),
        (f"rtsp://admin:{PASSWORD}@cam/s", True),
        # Where the rule is unsure it takes the safe side (a path's '@' can be written %40).
        ("rtsp://cam/path@1", True),
        ("/data/a@b.mp4", False),
    ],
)
def test_has_userinfo(uri: str, expected: bool) -> None:
    assert has_userinfo(uri) is expected


def test_defaults_and_a_full_stream_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_site_config(site_with()).cameras[0].stream == StreamSettings()
    defaults = StreamSettings()
    assert (defaults.transport, defaults.latency_ms, defaults.stall_timeout_s) == (RtspTransport.TCP, 200, 5.0)
    monkeypatch.setenv("CAM_A_USER", "viewer")
    monkeypatch.setenv("CAM_A_PASSWORD", PASSWORD)
    stream = {
        "transport": "udp",
        "username": "${CAM_A_USER}",
        "password": "${CAM_A_PASSWORD}",
        "latency_ms": 50,
        "stall_timeout_s": 2.5,
    }
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(site_with(stream)))
    camera = load_site_config(path).cameras[0]
    assert camera.stream.transport is RtspTransport.UDP
    assert camera.stream.username == "viewer"
    assert camera.stream.password is not None and camera.stream.password.get_secret_value() == PASSWORD
    assert (camera.stream.latency_ms, camera.stream.stall_timeout_s) == (50, 2.5)
    # A dump or a repr of the config never carries the password.
    assert PASSWORD not in camera.model_dump_json()
    assert PASSWORD not in repr(camera) and PASSWORD not in str(camera.model_dump())


@pytest.mark.parametrize(
    ("stream", "source", "expected"),
    [
        ({"transport": "http"}, None, "cameras[0].stream.transport: Input should be 'tcp' or 'udp'"),
        ({"latency_ms": -1}, None, "cameras[0].stream.latency_ms: Input should be greater than or equal to 0"),
        ({"latency_ms": 10_000}, None, "cameras[0].stream.latency_ms: Input should be less than or equal to 5000"),
        ({"stall_timeout_s": 0}, None, "cameras[0].stream.stall_timeout_s: Input should be greater than 0"),
        ({"stall_timeout_s": float("nan")}, None, "cameras[0].stream.stall_timeout_s: Input should be a finite number"),
        ({"timeout": 3}, None, "cameras[0].stream.timeout: Extra inputs are not permitted"),
        ({"username": ""}, None, "cameras[0].stream.username: String should have at least 1 character"),
        ({"password": PASSWORD}, None, "cameras[0].stream: stream.password is set without stream.username"),
        (
            {"username": "admin", "password": PASSWORD},
            f"rtsp://admin:{PASSWORD}@cam/s",
            "cameras[0]: credentials are given both in the source URL and in stream.username: keep one",
        ),
    ],
)
def test_bad_stream_settings_are_named_without_echoing_secrets(
    stream: dict[str, Any], source: str | None, expected: str
) -> None:
    with pytest.raises(ConfigError) as err:
        parse_site_config(site_with(stream, source), "site.yaml")
    assert expected in str(err.value)
    assert PASSWORD not in str(err.value)


def test_an_unset_credentials_variable_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CAM_A_PASSWORD", raising=False)
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(site_with({"username": "viewer", "password": "${CAM_A_PASSWORD}"})))
    with pytest.raises(ConfigError, match=r"environment variable CAM_A_PASSWORD is not set"):
        load_site_config(path)


@pytest.mark.parametrize(
    ("uri", "stream", "head"),
    [
        (
            "rtsp://cam/s1",
            StreamSettings(),
            'rtspsrc name=src location="rtsp://cam/s1" protocols=tcp latency=200 tcp-timeout=5000000 ',
        ),
        (
            "rtsps://cam/s1",
            StreamSettings(transport=RtspTransport.UDP, latency_ms=0, stall_timeout_s=1.5),
            'rtspsrc name=src location="rtsps://cam/s1" protocols=udp latency=0 tcp-timeout=1500000 ',
        ),
        ("http://cam/mjpeg", StreamSettings(), 'uridecodebin uri="http://cam/mjpeg"'),
        ("/data/a.mp4", StreamSettings(), 'uridecodebin uri="file:///data/a.mp4"'),
    ],
)
def test_rtsp_launch_line_carries_the_stream_settings_and_no_credentials(
    uri: str, stream: StreamSettings, head: str
) -> None:
    spec = SourceSpec("cam", uri, stream=stream.model_copy(update={"username": "admin", "password": PASSWORD}))
    line = pipeline_description(spec, "file:///data/a.mp4" if uri.startswith("/") else uri)
    assert line.startswith(head)
    assert "admin" not in line and PASSWORD not in line


@pytest.mark.timeout(60)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("in_url", [False, True], ids=["stream-credentials", "url-credentials"])
def test_a_refused_camera_is_reported_without_its_credentials(
    backend: str, in_url: bool, caplog: pytest.LogCaptureFixture
) -> None:
    if in_url:
        spec = SourceSpec("cam-7", f"rtsp://admin:{PASSWORD}@127.0.0.1:1/stream1")
    else:
        stream = StreamSettings(username="admin", password=PASSWORD, stall_timeout_s=2)  # type: ignore[arg-type]
        spec = SourceSpec("cam-7", "rtsp://127.0.0.1:1/stream1", stream=stream)
    events: list[SourceEvent] = []
    stop = threading.Event()

    def record(event: SourceEvent) -> None:
        events.append(event)
        stop.set()

    source = ReconnectingSource(spec, lambda s: open_source(s, backend), record, Backoff(initial_s=0.01), stop)
    with caplog.at_level(logging.DEBUG):
        assert list(source) == []
    [event] = events
    assert event.state is SourceState.RECONNECTING and "cam-7" in event.message
    assert "127.0.0.1:1/stream1" in event.message
    for shown in (event.message, caplog.text):
        assert PASSWORD not in shown and "s3cr" not in shown
    with pytest.raises(SourceError) as err:
        open_source(spec, backend)
    assert PASSWORD not in str(err.value) and "s3cr" not in str(err.value)


def test_deepstream_gets_the_stream_credentials_beside_its_uri() -> None:
    # nvurisrcbin's uri stays without a login (what prints it cannot leak it); the runtime
    # sets the login on its rtspsrc (tests/unit/test_deepstream_pipeline.py has the rest).
    from edge.deepstream.pipeline import source_credentials, source_uri

    spec = SourceSpec("c", "rtsp://10.0.0.5/s1", stream=StreamSettings(username="admin", password="p@ss"))  # type: ignore[arg-type]
    assert source_uri(spec) == "rtsp://10.0.0.5/s1"
    login = source_credentials(spec)
    assert login is not None and login.password is not None
    assert (login.username.get_secret_value(), login.password.get_secret_value()) == ("admin", "p@ss")
