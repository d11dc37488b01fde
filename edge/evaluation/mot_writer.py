"""Tracker output as MOTChallenge rows, written as frames come, with short gaps filled on request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO

import numpy as np

from edge.detections import Detections


@dataclass(frozen=True)
class _Row:
    frame: int
    track_id: int
    xywh: tuple[float, float, float, float]
    confidence: float


class MotWriter:
    """Writes `frame,id,x,y,w,h,conf,-1,-1,-1` rows in frame order, then id.

    With `max_missing` > 0, a track unseen for at most that many frames and then seen again
    gets the frames between filled by straight-line interpolation of its box and score, as
    MOTChallenge trackers report offline. Rows then leave `max_missing` frames late, the
    longest a gap that could still close takes, so a live source's file grows as it runs.
    A live agent cannot report a frame it has passed: filled rows are not what it sees.
    """

    def __init__(self, out: TextIO, max_missing: int = 0) -> None:
        if max_missing < 0:
            raise ValueError(f"max_missing must be >= 0 frames, got {max_missing}")
        self._out = out
        self._max_missing = max_missing
        self._last: dict[int, _Row] = {}
        self._pending: list[_Row] = []

    def write(self, frame: int, detections: Detections) -> None:
        """One frame's tracked people (`frame` 1-based, frames in increasing order)."""
        x1, y1, x2, y2 = detections.xyxy.astype(np.float64).T
        for i, track_id in enumerate(detections.tracker_id.tolist()):
            row = _Row(frame, track_id, (x1[i], y1[i], x2[i] - x1[i], y2[i] - y1[i]), float(detections.confidence[i]))
            previous = self._last.get(track_id)
            if previous is not None and 1 < frame - previous.frame <= self._max_missing + 1:
                self._pending += _between(previous, row)
            self._last[track_id] = row
            self._pending.append(row)
        self._flush(before=frame - self._max_missing + 1)

    def close(self) -> None:
        """Write every row still held back (the source ended or failed)."""
        self._flush(before=None)

    def _flush(self, before: int | None) -> None:
        """Write the rows of frames before `before` (None: all); forget tracks no gap can reach now."""
        ready = [r for r in self._pending if before is None or r.frame < before]
        self._pending = [r for r in self._pending if before is not None and r.frame >= before]
        for r in sorted(ready, key=lambda r: (r.frame, r.track_id)):
            x, y, w, h = r.xywh
            self._out.write(f"{r.frame},{r.track_id},{x:.2f},{y:.2f},{w:.2f},{h:.2f},{r.confidence:.4f},-1,-1,-1\n")
        if before is None:
            self._last.clear()
        else:
            self._last = {tid: r for tid, r in self._last.items() if r.frame >= before - 1}


def _between(a: _Row, b: _Row) -> list[_Row]:
    steps = b.frame - a.frame
    start, end = np.array([*a.xywh, a.confidence]), np.array([*b.xywh, b.confidence])
    rows = []
    for k in range(1, steps):
        x, y, w, h, conf = (start + (end - start) * k / steps).tolist()
        rows.append(_Row(a.frame + k, a.track_id, (x, y, w, h), conf))
    return rows
