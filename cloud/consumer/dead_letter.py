"""Rejected messages go to the dead-letter topic byte for byte, the reason in headers, in one
Kafka transaction with the offsets of the batch they came in.

Exactly once for a reader with isolation.level=read_committed: the database transaction of
the batch commits first; a crash before the Kafka transaction commits leaves neither the
dead letters nor the offsets committed (the open transaction is aborted when it times out),
so the batch comes again, its events are skipped by seq and its rejects are sent again in a
new transaction. Batches without rejects commit their offsets as usual (no transaction).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from kafka import KafkaProducer, OffsetAndMetadata, TopicPartition
from kafka.errors import KafkaError

from shared.messaging.settings import KafkaSettings


@dataclass(frozen=True)
class DeadLetter:
    value: bytes | None
    key: bytes | None
    reason: str
    detail: str
    # (topic, partition, offset) of the rejected record.
    source: tuple[str, int, int]

    def headers(self) -> list[tuple[str, bytes]]:
        topic, partition, offset = self.source
        return [
            ("mallflow-reason", self.reason.encode()),
            ("mallflow-detail", self.detail.encode()[:1000]),
            ("mallflow-source", f"{topic}/{partition}/{offset}".encode()),
        ]


class DeadLetterWriter:
    def __init__(self, settings: KafkaSettings, topic: str, transaction_timeout_ms: int) -> None:
        self.topic = topic
        self._settings = settings
        self._transaction_timeout_ms = transaction_timeout_ms
        self._producer: KafkaProducer | None = None

    def _ready(self) -> KafkaProducer:
        if self._producer is None:
            # A transactional id of its own per producer: two consumers of one group never
            # fence each other, and zombies are fenced by the group's generation (KIP-447).
            producer = KafkaProducer(
                **self._settings.client_kwargs(),
                transactional_id=f"mallflow-dead-letters-{uuid.uuid4().hex}",
                transaction_timeout_ms=self._transaction_timeout_ms,
                linger_ms=5,
            )
            try:
                producer.init_transactions()
            except BaseException:
                producer.close(timeout=5)
                raise
            self._producer = producer
        return self._producer

    def commit(
        self, letters: Sequence[DeadLetter], offsets: dict[TopicPartition, OffsetAndMetadata], group: object
    ) -> None:
        """Send `letters` and commit `offsets` for the consumer group `group` (the consumer's
        group_metadata()) atomically. Raises KafkaError when they were not committed: nothing
        of the transaction is then visible to read_committed readers."""
        producer = self._ready()
        try:
            producer.begin_transaction()
            for letter in letters:
                producer.send(self.topic, value=letter.value or b"", key=letter.key, headers=letter.headers())
            producer.send_offsets_to_transaction(offsets, group)
            producer.commit_transaction()
        except KafkaError:
            self._discard()
            raise

    def _discard(self) -> None:
        """The next transaction starts on a fresh producer: after a failed commit kafka-python's
        producer may be in an error state only a new one leaves. What was left open is not
        aborted here (an abort waits on the broker for as long as it is away): the broker
        aborts it after the transaction timeout, until when read_committed readers of the
        dead-letter topic wait at it."""
        producer, self._producer = self._producer, None
        if producer is not None:
            producer.close(timeout=5)

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close(timeout=10)
            self._producer = None
