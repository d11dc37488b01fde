"""A consumer run with an idle exit stops only after holding the same partitions quietly for that long."""

from __future__ import annotations

import math

import pytest
from kafka import TopicPartition

from cloud.consumer.idle import IdleWatch

P0, P1 = TopicPartition("events", 0), TopicPartition("events", 1)


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# Each step: seconds the poll took, what it did ("empty", "unfetched": empty with a partition not yet
# fetched from, or "batch"), the assignment after it, and whether the run may stop then.
@pytest.mark.parametrize(
    ("steps", "stops"),
    [
        # Quiet while holding the same partitions: stops once idle_s has passed.
        ([(0.2, "empty", {P0}), (2.0, "empty", {P0}), (1.1, "empty", {P0})], [False, False, True]),
        # The poll that joined the group blocked 5 s and returned the first assignment: not idle yet.
        ([(5.0, "empty", {P0}), (1.0, "empty", {P0}), (2.1, "empty", {P0})], [False, False, True]),
        # Waiting for an assignment (a rebalance) is never idleness.
        ([(4.0, "empty", set()), (4.0, "empty", set()), (0.2, "empty", {P0})], [False, False, False]),
        # Resolving the start offsets took 4 s: the clock starts once every partition was fetched from.
        (
            [(0.2, "unfetched", {P0}), (4.0, "unfetched", {P0}), (0.2, "empty", {P0}), (2.9, "empty", {P0})],
            [False, False, False, True],
        ),
        # A rebalance that hands over more partitions restarts the clock.
        ([(2.9, "empty", {P0}), (2.9, "empty", {P0, P1}), (2.9, "empty", {P0, P1})], [False, False, False]),
        # A batch that took longer than idle_s to write is not idleness.
        (
            [(0.1, "empty", {P0}), (9.0, "batch", {P0}), (0.2, "empty", {P0}), (3.0, "empty", {P0})],
            [False, None, False, True],
        ),
    ],
)
def test_idle_watch_stops_after_quiet_time_holding_the_same_partitions(
    steps: list[tuple[float, str, set[TopicPartition]]], stops: list[bool | None]
) -> None:
    clock = _Clock()
    watch = IdleWatch(3.0, clock=clock)
    seen: list[bool | None] = []
    for took, what, assignment in steps:
        clock.now += took
        if what == "batch":
            watch.busy()
            seen.append(None)
        else:
            seen.append(watch.expired(assignment, all_fetched=what != "unfetched"))
    assert seen == stops


@pytest.mark.parametrize("idle_s", [-1.0, math.inf, math.nan])
def test_idle_watch_refuses_a_meaningless_idle_time(idle_s: float) -> None:
    with pytest.raises(ValueError, match="idle_s must be a finite number of seconds >= 0"):
        IdleWatch(idle_s)
