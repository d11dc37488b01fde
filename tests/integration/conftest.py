"""Fixtures for the real local services (deploy/local/services.sh up).

With MALLFLOW_REQUIRE_SERVICES=1 (set by the README's test command and CI) a missing
service fails the test; otherwise it is skipped with the command that starts it.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy.engine import make_url
from support.db import create_database, drop_database
from support.outage_broker import OutageBroker

KAFKA = os.environ.get("MALLFLOW_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
PG_URL = os.environ.get("MALLFLOW_PG_URL", "postgresql+psycopg://mallflow:mallflow@127.0.0.1:5433/mallflow")


def _missing(what: str) -> None:
    msg = f"{what} is not reachable; start it with deploy/local/services.sh up"
    if os.environ.get("MALLFLOW_REQUIRE_SERVICES") == "1":
        pytest.fail(msg)
    pytest.skip(msg)


def _reachable(host_port: str) -> bool:
    host, port = host_port.split(",")[0].rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    if not _reachable(KAFKA):
        _missing(f"Kafka at {KAFKA}")
    return KAFKA


def _create_topic(bootstrap: str) -> str:
    from kafka.admin import KafkaAdminClient, NewTopic

    name = f"test.{uuid.uuid4().hex[:12]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(name=name, num_partitions=3, replication_factor=1)])
    finally:
        admin.close()
    return name


@contextmanager
def _single_use_topic(bootstrap: str) -> Iterator[str]:
    from kafka.admin import KafkaAdminClient

    name = _create_topic(bootstrap)
    try:
        yield name
    finally:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        admin.delete_topics([name])
        admin.close()


@pytest.fixture
def kafka_topic(kafka_bootstrap: str) -> Iterator[str]:
    """A fresh single-use topic (3 partitions), deleted afterwards."""
    with _single_use_topic(kafka_bootstrap) as name:
        yield name


@pytest.fixture(scope="module")
def outage_broker_server(kafka_bootstrap: str) -> Iterator[OutageBroker]:
    # Needs what the shared broker needs (Java, the cached jars): skipped or failed alike when that is down.
    broker = OutageBroker()
    broker.start()
    try:
        yield broker
    finally:
        broker.reset()  # its topics go with its data: nothing outlives the module


@pytest.fixture
def outage_broker(outage_broker_server: OutageBroker) -> OutageBroker:
    """The dedicated broker, running (a previous test may have left it stopped)."""
    outage_broker_server.start()
    return outage_broker_server


@pytest.fixture
def outage_topic(outage_broker: OutageBroker) -> str:
    """A fresh single-use topic (3 partitions) on the dedicated broker, removed with the broker's data."""
    return _create_topic(outage_broker.bootstrap)


@pytest.fixture
def outage_dead_letter_topic(outage_broker: OutageBroker) -> str:
    """A second fresh topic on the dedicated broker."""
    return _create_topic(outage_broker.bootstrap)


@pytest.fixture
def dead_letter_topic(kafka_bootstrap: str) -> Iterator[str]:
    """A second fresh topic, for tests that need an events and a dead-letter topic."""
    with _single_use_topic(kafka_bootstrap) as name:
        yield name


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    url = make_url(PG_URL)
    if not _reachable(f"{url.host}:{url.port or 5432}"):
        _missing(f"PostgreSQL at {url.host}:{url.port}")
    return PG_URL


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A fresh, empty database on the local PostgreSQL, dropped afterwards."""
    url = create_database(pg_server_url)
    try:
        yield url
    finally:
        drop_database(pg_server_url, url)
