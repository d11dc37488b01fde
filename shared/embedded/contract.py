"""What each half of the single-machine pipeline provides."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from shared.schema import pb

# Called once per envelope, in per-camera order, from the edge's publishing thread.
EnvelopeHandler = Callable[[pb.Envelope], None]

ENTRY_POINT_GROUP = "mallflow.demo"


@dataclass(frozen=True)
class DemoOptions:
    config: Path
    # None: the embedded SQLite database (MALLFLOW_DB_URL if set).
    db_url: str | None
    # None: edge and cloud meet in process; otherwise both go through this Kafka broker.
    bootstrap: str | None
    edge_id: str
    # Sequence counters of the demo's edge (None: the agent's default under the cache);
    # kept across runs so seq keeps increasing.
    state_dir: Path | None = None


class EdgeHalf(ABC):
    @abstractmethod
    def run(self, options: DemoOptions, handler: EnvelopeHandler | None) -> list[str]:
        """Run every enabled camera of the site to its end; deliver to `handler`, or to
        Kafka when it is None. Returns one line per camera describing what it did."""


class CloudHalf(ABC):
    @abstractmethod
    def reset(self, options: DemoOptions) -> None:
        """Delete the site's events, rollups and visitors from the database (its config stays)."""

    @abstractmethod
    def ingest(self, options: DemoOptions) -> AbstractContextManager[EnvelopeHandler]:
        """A handler that applies envelopes to the database; leaving the context applies
        whatever is still batched."""

    @abstractmethod
    def consume(self, options: DemoOptions, idle_exit_s: float) -> str:
        """Consume the site's events from Kafka until idle; returns a one-line account."""

    @abstractmethod
    def summary(self, options: DemoOptions, start_ns: int, end_ns: int) -> None:
        """Print the site's numbers over [start_ns, end_ns): visitors, footfall per line, dwell per zone."""

    @abstractmethod
    def serve(self, options: DemoOptions, host: str, port: int, api_key: str | None) -> None:
        """Serve the dashboard and API on host:port until interrupted; `api_key` (admin) is the
        only key accepted when given."""


def load_halves() -> tuple[EdgeHalf, CloudHalf]:
    found = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    missing = sorted({"edge", "cloud"} - set(found))
    if missing:
        raise RuntimeError(
            f"no {' or '.join(missing)} half registered in the {ENTRY_POINT_GROUP!r} entry points "
            "(is Mallflow installed with `pip install -e .`?)"
        )
    edge, cloud = found["edge"].load()(), found["cloud"].load()()
    if not isinstance(edge, EdgeHalf) or not isinstance(cloud, CloudHalf):
        raise RuntimeError(f"the {ENTRY_POINT_GROUP!r} entry points do not implement EdgeHalf and CloudHalf")
    return edge, cloud
