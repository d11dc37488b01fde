"""Python's cyclic garbage collector, set for a process that consumes events in batches.

A batch of a few thousand events allocates tens of thousands of small container objects
(decoded messages, heads, rows), nearly all freed by reference counting when the batch
ends. With the interpreter's default (a young pass every 700 allocations, and a full pass
over every live object of the process whenever the survivors grew by a quarter) the
collector walked the whole heap several times per batch: at 5000 events per batch it
cost more than reading the events (tests/bench/cloud_ingest.py, BENCHMARKS.md).
"""

from __future__ import annotations

import gc

# Allocations between young passes: a batch's worth, so a pass finds the batch freed.
YOUNG_THRESHOLD = 50_000


def tune_for_batches(young_threshold: int = YOUNG_THRESHOLD) -> None:
    """Objects alive now (modules, configuration, the ORM's metadata) are moved out of the
    collector's reach, and young passes run every `young_threshold` allocations."""
    if young_threshold < 1:
        raise ValueError(f"young_threshold must be >= 1, got {young_threshold}")
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, old)
