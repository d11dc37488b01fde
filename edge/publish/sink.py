"""Where envelopes go: the contract shared by the Kafka and the in-process sinks."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from shared.schema import pb


@dataclass(frozen=True)
class SinkStats:
    """Counts since the sink was created."""

    # Delivered: acknowledged by the broker, or handled in process.
    sent: int
    # Written to the on-disk spool to be replayed later (an event may be spooled, then sent).
    spooled: int
    # Lost on purpose: the bounded spool or queue overflowed.
    dropped: int
    # Accepted but neither delivered nor on disk yet (what a crash now would lose).
    pending: int


class EventSink(ABC):
    """Accepts envelopes in order; implementations preserve per-camera order."""

    @abstractmethod
    def send(self, envelope: pb.Envelope) -> None:
        """Hand over one envelope; returns quickly (blocks at most a bounded time under backpressure)."""

    @abstractmethod
    def flush(self, timeout_s: float) -> bool:
        """Wait until every envelope sent so far is delivered or safely on disk; False on timeout."""

    @abstractmethod
    def close(self, timeout_s: float = 10.0) -> None:
        """Flush for at most timeout_s and release resources; later sends raise RuntimeError."""

    @property
    @abstractmethod
    def stats(self) -> SinkStats: ...

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
