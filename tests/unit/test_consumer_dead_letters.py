"""Dead letters: in one Kafka transaction with the batch's offsets, after its database transaction;
a failed one sends the batch round again, whose events are then skipped and rejects sent again."""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from kafka import OffsetAndMetadata, TopicPartition
from kafka.errors import KafkaError
from sqlalchemy.orm import Session

from cloud.consumer import dead_letter
from cloud.consumer.dead_letter import DeadLetter, DeadLetterWriter
from cloud.consumer.service import ConsumerService
from cloud.consumer.settings import ConsumerSettings
from cloud.ingest.applier import ApplyResult
from cloud.ingest.registry import SiteRegistry
from cloud.storage import create_db_engine, upgrade
from shared.config import SiteConfig
from shared.messaging import KafkaSettings
from shared.schema import pb


class _Consumer:
    """Records commits and seeks; assigned partition 0 of topic t."""

    def __init__(self) -> None:
        self.committed: list[dict[TopicPartition, Any]] = []
        self.seeks: list[tuple[TopicPartition, int]] = []

    def commit(self, offsets: dict[TopicPartition, Any]) -> None:
        self.committed.append(offsets)

    def group_metadata(self) -> str:
        return "group-generation-7"

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition("t", 0)}

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append((tp, offset))


class _DeadLetters:
    """Transactions fail while `failing`, then commit."""

    def __init__(self, events: list[str], failing: int = 0) -> None:
        self.events = events
        self.failing = failing
        self.committed: list[tuple[list[tuple[str, int, int]], dict[TopicPartition, Any], object]] = []

    def commit(self, letters: list[DeadLetter], offsets: dict[TopicPartition, Any], group: object) -> None:
        self.events.append("dead letters")
        if self.failing:
            self.failing -= 1
            raise KafkaError("NotCoordinatorError")
        self.committed.append(([letter.source for letter in letters], offsets, group))


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
        SiteRegistry([site]),
        create_db_engine(url),
        KafkaSettings(),
        ConsumerSettings(retry_backoff_s=0.01),
        hooks=[in_transaction],
    )


def test_dead_letters_and_offsets_leave_together_after_the_batch_transaction(
    tmp_path: Path, pets09_site: SiteConfig
) -> None:
    # A crash inside the database transaction must find nothing sent: the redelivered batch sends it once.
    events: list[str] = []
    service = _service(tmp_path, pets09_site, events)
    consumer, letters = _Consumer(), _DeadLetters(events)
    service._process(consumer, letters, {TopicPartition("t", 0): [_good(0, 1), _bad(1)]})  # type: ignore[arg-type]
    assert events == ["transaction", "dead letters"]
    offsets = {TopicPartition("t", 0): OffsetAndMetadata(2, "", -1)}
    assert letters.committed == [([("t", 0, 1)], offsets, "group-generation-7")]
    # The offsets went with the dead letters, not through a commit of their own.
    assert consumer.committed == []


def test_a_batch_without_rejects_commits_its_offsets_without_a_transaction(
    tmp_path: Path, pets09_site: SiteConfig
) -> None:
    events: list[str] = []
    service = _service(tmp_path, pets09_site, events)
    consumer, letters = _Consumer(), _DeadLetters(events)
    service._process(consumer, letters, {TopicPartition("t", 0): [_good(3, 1), _good(4, 2)]})  # type: ignore[arg-type]
    assert events == ["transaction"]
    assert consumer.committed == [{TopicPartition("t", 0): OffsetAndMetadata(5, "", -1)}]


def test_a_failed_dead_letter_transaction_sends_the_batch_round_again(tmp_path: Path, pets09_site: SiteConfig) -> None:
    events: list[str] = []
    service = _service(tmp_path, pets09_site, events)
    consumer, letters = _Consumer(), _DeadLetters(events, failing=1)
    batch = {TopicPartition("t", 0): [_bad(4), _good(5, 1), _bad(6)]}
    service._process(consumer, letters, batch)  # type: ignore[arg-type]
    # Back to the batch's first offset: a later batch's commit must not cover unsent dead letters.
    assert consumer.seeks == [(TopicPartition("t", 0), 4)] and letters.committed == []
    service._process(consumer, letters, batch)  # type: ignore[arg-type]
    # The batch again: its event skipped by seq, its rejects sent in the new transaction, once.
    assert letters.committed == [
        ([("t", 0, 4), ("t", 0, 6)], {TopicPartition("t", 0): OffsetAndMetadata(7, "", -1)}, "group-generation-7")
    ]
    assert service.applied == 1 and consumer.committed == []


def test_a_partition_taken_away_is_not_sought(tmp_path: Path, pets09_site: SiteConfig) -> None:
    events: list[str] = []
    service = _service(tmp_path, pets09_site, events)
    consumer, letters = _Consumer(), _DeadLetters(events, failing=1)
    service._process(consumer, letters, {TopicPartition("t", 1): [_bad(9)]})  # type: ignore[arg-type]
    assert consumer.seeks == []


class _Producer:
    """kafka-python's transactional calls, recorded; commit_transaction fails while `failing`."""

    made: ClassVar[list[_Producer]] = []
    failing: ClassVar[int] = 0

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.calls: list[str] = []
        self.closed = False
        _Producer.made.append(self)

    def init_transactions(self) -> None:
        self.calls.append("init")

    def begin_transaction(self) -> None:
        self.calls.append("begin")

    def send(self, topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]]) -> None:
        self.calls.append(f"send {dict(headers)['mallflow-source'].decode()}")

    def send_offsets_to_transaction(self, offsets: dict[TopicPartition, Any], group: object) -> None:
        self.calls.append(f"offsets {group}")

    def commit_transaction(self) -> None:
        if _Producer.failing:
            _Producer.failing -= 1
            raise KafkaError("CoordinatorLoadInProgressError")
        self.calls.append("commit")

    def close(self, timeout: float | None = None) -> None:
        self.closed = True


def test_the_writer_commits_letters_and_offsets_in_one_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dead_letter, "KafkaProducer", _Producer)
    monkeypatch.setattr(_Producer, "made", [])
    monkeypatch.setattr(_Producer, "failing", 1)
    writer = DeadLetterWriter(KafkaSettings(), "dlq", transaction_timeout_ms=15_000)
    letters = [DeadLetter(b"x", None, "malformed", "d", ("t", 0, n)) for n in (1, 2)]
    offsets = {TopicPartition("t", 0): OffsetAndMetadata(3, "", -1)}
    with pytest.raises(KafkaError):
        writer.commit(letters, offsets, "g")
    # The failed producer is dropped; the next transaction runs on a new one with an id of its own.
    writer.commit(letters, offsets, "g")
    first, second = _Producer.made
    assert first.closed and not second.closed
    assert second.calls == ["init", "begin", "send t/0/1", "send t/0/2", "offsets g", "commit"]
    ids = {p.kwargs["transactional_id"] for p in _Producer.made}
    assert len(ids) == 2 and all(i.startswith("mallflow-dead-letters-") for i in ids)
    assert second.kwargs["transaction_timeout_ms"] == 15_000


@pytest.mark.parametrize(
    ("timeout_ms", "error"),
    [(15_000, None), (1_000, None), (999, "dead_letter_transaction_timeout_ms must be >= 1000")],
)
def test_dead_letter_transaction_timeout_setting(timeout_ms: int, error: str | None) -> None:
    if error is None:
        assert (
            ConsumerSettings(dead_letter_transaction_timeout_ms=timeout_ms).dead_letter_transaction_timeout_ms
            == timeout_ms
        )
    else:
        with pytest.raises(ValueError, match=error):
            ConsumerSettings(dead_letter_transaction_timeout_ms=timeout_ms)
