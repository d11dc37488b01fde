from __future__ import annotations

import argparse
from collections.abc import Callable

import pytest

from shared.cli.numbers import frame_rate, positive_seconds, seconds


@pytest.mark.parametrize(
    ("parse", "text", "expected"),
    [
        (frame_rate, "7", 7.0),
        (frame_rate, "29.97", 29.97),
        (seconds, "0", 0.0),
        (seconds, "1.5", 1.5),
        (positive_seconds, "600", 600.0),
        (positive_seconds, "0.5", 0.5),
    ],
)
def test_numbers_read(parse: Callable[[str], float], text: str, expected: float) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (frame_rate, "0", "must be > 0, got '0'"),
        (frame_rate, "-25", "must be > 0, got '-25'"),
        (frame_rate, "inf", "must be a finite number of frames per second, got 'inf'"),
        (frame_rate, "nan", "must be a finite number of frames per second, got 'nan'"),
        (frame_rate, "seven", "must be frames per second, got 'seven'"),
        (seconds, "-1", "must be >= 0 seconds, got '-1'"),
        (seconds, "inf", "must be a finite number of seconds, got 'inf'"),
        (seconds, "one", "must be seconds, got 'one'"),
        (positive_seconds, "0", "must be > 0 seconds, got '0'"),
        (positive_seconds, "nan", "must be a finite number of seconds, got 'nan'"),
    ],
)
def test_bad_numbers_name_what_is_wrong(parse: Callable[[str], float], text: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=message.replace("(", r"\(")):
        parse(text)
