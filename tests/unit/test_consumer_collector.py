"""The consumer process's collector settings: young passes a batch apart, start-up objects frozen."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from cloud.consumer.collector import YOUNG_THRESHOLD, tune_for_batches


@pytest.fixture
def restored_collector() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


@pytest.mark.usefixtures("restored_collector")
@pytest.mark.parametrize("young", [YOUNG_THRESHOLD, 1, 1_000_000])
def test_young_passes_run_a_batch_apart_and_start_up_objects_are_frozen(young: int) -> None:
    _, middle, old = gc.get_threshold()
    tune_for_batches(young)
    assert gc.get_threshold() == (young, middle, old)
    assert gc.get_freeze_count() > 0


@pytest.mark.parametrize("young", [0, -5])
def test_a_threshold_below_one_is_refused(young: int) -> None:
    with pytest.raises(ValueError, match="young_threshold must be >= 1"):
        tune_for_batches(young)
