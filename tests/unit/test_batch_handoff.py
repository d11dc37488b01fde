"""The agent's hand-off of batches to its tracking loop: one detected batch waits at most, and a
batch of carried frames may wait ahead of it."""

from __future__ import annotations

import threading

import pytest

from edge.agent.handoff import BatchHandOff


@pytest.mark.parametrize(
    ("waiting", "room_to_detect", "carried_fits"),
    [
        ([], True, True),
        ([True], False, True),  # a detected batch waits: detect nothing more yet
        ([False], True, True),  # a carried batch waits: the next due frame may be detected behind it
        ([False, True], False, False),
        ([True, False], False, False),
        ([False, False], False, False),
    ],
)
def test_room_by_what_waits(waiting: list[bool], room_to_detect: bool, carried_fits: bool) -> None:
    handoff: BatchHandOff[int] = BatchHandOff()
    never = threading.Event()
    for i, detected in enumerate(waiting):
        assert handoff.put(i, detected, never)
    assert handoff.detected_waiting is any(waiting)
    stopped = threading.Event()
    stopped.set()
    # A stopped wait answers at once: True only where there was room without waiting.
    assert handoff.await_room(stopped) is False
    assert handoff._fits(detected=True) is room_to_detect
    assert handoff._fits(detected=False) is carried_fits


def test_batches_come_out_in_order() -> None:
    handoff: BatchHandOff[str] = BatchHandOff()
    never = threading.Event()
    assert handoff.put("carried", False, never)
    assert handoff.put("detected", True, never)
    assert [handoff.take(0.01), handoff.take(0.01), handoff.take(0.01)] == ["carried", "detected", None]
    assert handoff.empty()


@pytest.mark.parametrize("then", ["taken", "stopped"])
def test_waiting_for_room_ends_when_the_batch_is_taken_or_the_agent_stops(then: str) -> None:
    handoff: BatchHandOff[str] = BatchHandOff()
    stop = threading.Event()
    assert handoff.put("detected", True, stop)

    def main_loop() -> None:
        if then == "taken":
            assert handoff.take(1.0) == "detected"
        else:
            stop.set()

    threading.Timer(0.05, main_loop).start()
    assert handoff.await_room(stop) is (then == "taken")


@pytest.mark.parametrize("then", ["taken", "stopped"])
def test_a_detected_batch_waits_for_the_one_ahead_of_it(then: str) -> None:
    handoff: BatchHandOff[str] = BatchHandOff()
    stop = threading.Event()
    assert handoff.put("first", True, stop)
    taken: list[str | None] = []

    def main_loop() -> None:
        if then == "taken":
            taken.append(handoff.take(1.0))
        else:
            stop.set()

    threading.Timer(0.05, main_loop).start()
    assert handoff.put("second", True, stop) is (then == "taken")
    if then == "taken":
        assert taken == ["first"] and handoff.take(0.01) == "second"
