"""Dead letters under redelivery: sent after the batch's transaction, once per process, never lost silently."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from kafka import TopicPartition
from kafka.errors import CommitFailedError, KafkaError
from sqlalchemy.orm import Session

from cloud.consumer import dead_letter
from cloud.consumer.dead_letter import DeadLetterWriter
from cloud.consumer.service import ConsumerService
from cloud.consumer.settings import ConsumerSettings
from cloud.ingest.applier import ApplyResult
from cloud.ingest.registry import SiteRegistry
from cloud.storage import create_db_engine, upgrade
from shared.config import SiteConfig
from shared.messaging import KafkaSettings
from shared.schema import pb


class _Consumer:
    """Commits fail while `failing` (the group moved on), then succeed."""

    def __init__(self, failing: int) -> None:
        self.failing = failing
        self.committed: list[dict[TopicPartition, Any]] = []

    def commit(self, offsets: dict[TopicPartition, Any]) -> None:
        if self.failing:
            self.failing -= 1
            raise CommitFailedError("UnknownMemberIdError")
        self.committed.append(offsets)


class _DeadLetters:
    def __init__(self, events: list[str]) -> None:
        self.events = events
        self.sources: list[tuple[str, int, int]] = []

    def send(self, value: bytes | None, key: bytes | None, reason: str, detail: str, source: Any) -> None:
        self.events.append("send")
        self.sources.append(source)

    def flush(self) -> None:
        self.events.append("flush")


def _good(offset: int, seq: int) -> SimpleNamespace:
    env = pb.Envelope(
        schema_version=1, site_id="pets09", camera_id="cam-main", edge_id="e", seq=seq, event_time_ns=time.time_ns()
    )
    env.line_crossing.CopyFrom(pb.LineCrossing(line_id="mid-vertical", direction=pb.DIRECTION_IN, track_id=seq))
    return SimpleNamespace(topic="t", partition=0, offset=offset, key=b"pets09", value=env.SerializeToString())


def _bad(offset: int) -> SimpleNamespace:
    return SimpleNamespace(topic="t", partition=0, offset=offset, key=b"pets09", value=b"\xff\xff not protobuf")


def _service(tmp_path: Path, site: SiteConfig, events: list[str]) -> ConsumerService:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    upgrade(url)

    def in_transaction(session: Session, result: ApplyResult) -> None:
        events.append("transaction")

    return ConsumerService(
        SiteRegistry([site]), create_db_engine(url), KafkaSettings(), ConsumerSettings(), hooks=[in_transaction]
    )


def test_dead_letters_leave_after_the_batch_transaction(tmp_path: Path, pets09_site: SiteConfig) -> None:
    # A crash inside the transaction must find nothing sent: the redelivered batch sends it once.
    events: list[str] = []
    service = _service(tmp_path, pets09_site, events)
    service._process(_Consumer(0), _DeadLetters(events), {TopicPartition("t", 0): [_good(0, 1), _bad(1)]})  # type: ignore[arg-type]
    assert events == ["transaction", "send", "flush"]


def test_a_batch_back_after_a_failed_commit_is_not_dead_lettered_again(tmp_path: Path, pets09_site: SiteConfig) -> None:
    events: list[str] = []
    service = _service(tmp_path, pets09_site, events)
    consumer, letters = _Consumer(failing=1), _DeadLetters(events)
    batch = {TopicPartition("t", 0): [_bad(0), _good(1, 1), _bad(2)]}
    service._process(consumer, letters, batch)  # type: ignore[arg-type]
    service._process(consumer, letters, batch)  # type: ignore[arg-type]
    assert letters.sources == [("t", 0, 0), ("t", 0, 2)]
    assert service.applied == 1 and len(consumer.committed) == 1
    # Committed: nothing left to remember, and a later reject is sent as usual.
    assert service._dead_lettered == set()
    service._process(consumer, letters, {TopicPartition("t", 0): [_bad(3)]})  # type: ignore[arg-type]
    assert letters.sources[-1] == ("t", 0, 3)


class _Future:
    def __init__(self, error: Exception | None) -> None:
        self.exception = error

    def failed(self) -> bool:
        return self.exception is not None


class _Producer:
    def __init__(self, **kwargs: Any) -> None:
        self.error: Exception | None = None

    def send(self, topic: str, **kwargs: Any) -> _Future:
        return _Future(self.error)

    def flush(self, timeout: float | None = None) -> None:
        pass


def test_flush_raises_when_a_dead_letter_was_not_delivered(monkeypatch: pytest.MonkeyPatch) -> None:
    # The producer's flush() returns once records are done, failed ones too: the batch's
    # offsets must not be committed over a dead letter the broker never took.
    monkeypatch.setattr(dead_letter, "KafkaProducer", _Producer)
    writer = DeadLetterWriter(KafkaSettings(), "dlq")
    writer.send(b"x", None, "malformed", "d", ("t", 0, 1))
    writer.flush()
    writer._producer.error = KafkaError("NotLeaderForPartitionError")
    writer.send(b"x", None, "malformed", "d", ("t", 0, 2))
    with pytest.raises(KafkaError, match="not delivered"):
        writer.flush()
    # Reported once: the next batch starts clean.
    writer._producer.error = None
    writer.send(b"x", None, "malformed", "d", ("t", 0, 3))
    writer.flush()
