"""Fuzzing the two doors untrusted input comes through: the envelope decoder and the site config loader.

Whatever arrives, the outcome is the value or the module's own error (EnvelopeError with a
known reason, ConfigError naming what is wrong), never another exception; and a message
validation lets through is one the writers can store.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session
from support.envelope_fuzz import REASONS, assert_validated_are_storable

from cloud.storage import create_db_engine, session_factory, upgrade
from shared.config import ConfigError, SiteConfig, load_site_config, parse_site_config
from shared.schema import decode_envelope, pb
from shared.schema.envelope import EnvelopeError

NOW_NS = time.time_ns()
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# Past the decoder's size limit, bytes from a seeded generator: Hypothesis drawing 65 KiB
# itself costs a quarter of a second an example and tests nothing more.
OVERSIZED = st.builds(
    lambda seed, size: random.Random(seed).randbytes(size),
    st.integers(0, 2**32 - 1),
    st.integers(65 * 1024, 66 * 1024),
)


def _sample(site: SiteConfig) -> bytes:
    env = pb.Envelope(schema_version=1, site_id=site.site.id, camera_id=site.cameras[0].id, seq=7, event_time_ns=NOW_NS)
    env.line_crossing.CopyFrom(pb.LineCrossing(line_id=site.lines[0].id, direction=pb.DIRECTION_IN, track_id=3))
    return env.SerializeToString()


def _decoded_or_rejected(data: bytes) -> pb.Envelope | None:
    try:
        return decode_envelope(data)
    except EnvelopeError as exc:
        assert exc.reason in REASONS and exc.detail, exc
        return None


@FUZZ
@given(st.binary(max_size=300) | OVERSIZED)
def test_random_bytes(data: bytes) -> None:
    _decoded_or_rejected(data)


@FUZZ
@given(data=st.data())
def test_mutated_real_envelopes(pets09_site: SiteConfig, data: st.DataObject) -> None:
    raw = bytearray(_sample(pets09_site))
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        at = data.draw(st.integers(0, len(raw)))
        if op == "flip" and at < len(raw):
            raw[at] ^= 1 << data.draw(st.integers(0, 7))
        elif op == "cut":
            raw = raw[:at]
        else:
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=8))
    _decoded_or_rejected(bytes(raw))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Session]:
    url = f"sqlite:///{tmp_path / 'fuzz.db'}"
    upgrade(url)
    engine = create_db_engine(url)
    with session_factory(engine)() as session:
        yield session
    engine.dispose()


def test_validated_envelopes_are_storable(pets09_site: SiteConfig, store: Session) -> None:
    assert_validated_are_storable(store, pets09_site, max_examples=300)


VALID = {
    "site": {"id": "mall", "timezone": "Europe/London"},
    "floors": [{"id": "ground", "extent": [0, 0, 40, 30], "heatmap_cell_m": 1.0}],
    "cameras": [{"id": "cam-a", "source": "/dev/null", "floor": "ground"}],
    "lines": [{"id": "door", "camera": "cam-a", "points": [[0, 10], [100, 10]]}],
    "zones": [{"id": "food", "camera": "cam-a", "polygon": [[0, 0], [50, 0], [50, 50]]}],
}
HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.lists(st.integers() | st.floats(), max_size=4),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _leaves(value, (*path, i))
    yield path


@FUZZ
@given(data=st.data())
def test_mutated_site_configs(data: st.DataObject) -> None:
    raw = yaml.safe_load(yaml.safe_dump(VALID))
    paths = [p for p in _leaves(raw) if p]
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        node = raw
        try:
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = data.draw(HOSTILE)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation replaced a parent
    try:
        parse_site_config(raw)
    except ConfigError as exc:
        # Each problem names where it is, or says the top level is wrong.
        assert exc.problems and all(p.strip() for p in exc.problems), exc


@FUZZ
@given(st.text(max_size=400) | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_random_site_files(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "site.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_site_config(path)
    except ConfigError as exc:
        assert str(path) in str(exc) and exc.problems
