"""`mallflow topics read` decodes a real topic, reports bad records without stopping."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from kafka import KafkaProducer

from shared.schema import SCHEMA_VERSION, pb

pytestmark = pytest.mark.integration

MALLFLOW = [sys.executable, "-m", "shared.cli.main"]


def envelope(seq: int) -> bytes:
    env = pb.Envelope(
        schema_version=SCHEMA_VERSION, site_id="s1", camera_id="c1", edge_id="e", seq=seq, event_time_ns=10**18 + seq
    )
    env.line_crossing.line_id = "door"
    env.line_crossing.direction = pb.DIRECTION_IN if seq % 2 else pb.DIRECTION_OUT
    return env.SerializeToString()


@pytest.fixture
def filled_topic(kafka_bootstrap: str, kafka_topic: str) -> str:
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    for seq in range(1, 6):
        producer.send(kafka_topic, envelope(seq), key=b"s1")
    producer.send(kafka_topic, b"\xff\x00 not protobuf", key=b"s1")
    producer.flush()
    producer.close()
    return kafka_topic


def read(bootstrap: str, topic: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MALLFLOW, "topics", "read", "--bootstrap", bootstrap, "--topic", topic, *extra],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_json_lines_and_bad_records(kafka_bootstrap: str, filled_topic: str) -> None:
    result = read(kafka_bootstrap, filled_topic, "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [int(obj["seq"]) for obj in lines] == [1, 2, 3, 4, 5]
    assert "1 record(s) are not valid envelopes" in result.stderr
    assert "malformed" in result.stderr


def test_summary_counts_crossings(kafka_bootstrap: str, filled_topic: str) -> None:
    result = read(kafka_bootstrap, filled_topic)
    assert result.returncode == 0, result.stderr
    assert "door in=3" in result.stdout and "door out=2" in result.stdout


def test_unknown_topic_is_a_clear_error(kafka_bootstrap: str) -> None:
    result = read(kafka_bootstrap, "no.such.topic.here")
    assert result.returncode == 2
    assert "no.such.topic.here" in result.stderr and "does not exist" in result.stderr
