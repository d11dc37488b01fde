"""When a consumer run with an idle exit (tests, batch replays, the demo) may stop."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Set

from kafka import TopicPartition


class IdleWatch:
    """Idle means: holding the same partitions, each fetched from at least once, and nothing
    arrived for `idle_s` seconds.

    The clock restarts whenever the assignment changes, not only while there is none, and runs
    only once every partition has answered a fetch: on a loaded broker, joining the group and
    resolving the start offsets can take seconds, and counting that as idleness let a run stop
    before it had read its partitions at all.
    """

    def __init__(self, idle_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        if not 0 <= idle_s < math.inf:
            raise ValueError(f"idle_s must be a finite number of seconds >= 0, got {idle_s}")
        self.idle_s = idle_s
        self._clock = clock
        self._held: frozenset[TopicPartition] = frozenset()
        self._since = clock()

    def busy(self) -> None:
        """A batch was just processed: idleness counts from its end."""
        self._since = self._clock()

    def expired(self, assignment: Set[TopicPartition], all_fetched: bool) -> bool:
        """After a poll that returned nothing: is it time to stop?

        all_fetched: every assigned partition has answered a fetch (its high watermark is known).
        """
        held = frozenset(assignment)
        if not held or held != self._held or not all_fetched:
            self._held = held
            self._since = self._clock()
            return False
        return self._clock() - self._since > self.idle_s
