"""argparse types for the numbers every command reads the same way: frame rates and durations."""

from __future__ import annotations

import argparse
import math


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number of {what}, got {text!r}")
    return value


def frame_rate(text: str) -> float:
    """Frames per second, > 0."""
    value = _number(text, "frames per second")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text!r}")
    return value


def seconds(text: str) -> float:
    """A duration in seconds, >= 0."""
    value = _number(text, "seconds")
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 seconds, got {text!r}")
    return value


def positive_seconds(text: str) -> float:
    """A duration in seconds, > 0."""
    value = _number(text, "seconds")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0 seconds, got {text!r}")
    return value
