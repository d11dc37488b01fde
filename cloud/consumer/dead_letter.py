"""Rejected messages go to the dead-letter topic byte for byte, the reason in headers."""

from __future__ import annotations

from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from shared.messaging.settings import KafkaSettings


class DeadLetterWriter:
    def __init__(self, settings: KafkaSettings, topic: str) -> None:
        self.topic = topic
        self._producer = KafkaProducer(**settings.client_kwargs(), acks="all", retries=10, linger_ms=5)
        self._pending: list[Any] = []

    def send(
        self, value: bytes | None, key: bytes | None, reason: str, detail: str, source: tuple[str, int, int]
    ) -> None:
        topic, partition, offset = source
        headers = [
            ("mallflow-reason", reason.encode()),
            ("mallflow-detail", detail.encode()[:1000]),
            ("mallflow-source", f"{topic}/{partition}/{offset}".encode()),
        ]
        self._pending.append(self._producer.send(self.topic, value=value or b"", key=key, headers=headers))

    def flush(self, timeout_s: float = 30.0) -> None:
        """Raises when the broker did not take them: the batch's offsets must then stay uncommitted."""
        pending, self._pending = self._pending, []
        self._producer.flush(timeout=timeout_s)
        # flush() returns once every record is done, delivered or not: a record whose retries
        # ran out (a broker restarting) would otherwise be lost with its offset committed.
        for future in pending:
            if future.failed():
                raise KafkaError(f"dead letter not delivered to {self.topic}: {future.exception!r}")

    def close(self) -> None:
        self._producer.close(timeout=10)
