"""Decide which boxes need a fresh ReID embedding this frame.

OSNet on every box of every frame is about two thirds of a plain CPU loop's time,
yet most boxes are a person already tracked, alone, moving smoothly: their
appearance is known. A box gets a fresh embedding when it is
  * not clearly the continuation of a track seen last frame (new or ambiguous),
  * close to another box (occlusions are where identities swap), or
  * its track's embedding is older than `refresh_frames`.
All other boxes reuse their track's aggregated embedding, so BoT-SORT still sees
an appearance vector for every detection.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray


def iou_matrix(a: NDArray[np.float32], b: NDArray[np.float32]) -> NDArray[np.float32]:
    """Pairwise IoU of (N, 4) and (M, 4) xyxy boxes."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), dtype=np.float32)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.asarray(inter / np.maximum(union, 1e-9), dtype=np.float32)


@dataclass
class ReidSchedule:
    # A box continues a track when its IoU with that track's last box is at least this.
    continuation_iou: float = 0.5
    # Boxes overlapping another box by more than this IoU are "crowded".
    crowd_iou: float = 0.05
    # Recompute a track's embedding at least this often (frames).
    refresh_frames: int = 5
    _last_fresh: dict[int, int] = field(default_factory=dict)
    _frame: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.continuation_iou <= 1:
            raise ValueError(f"continuation_iou must be in (0, 1], got {self.continuation_iou}")
        if self.refresh_frames < 1:
            raise ValueError(f"refresh_frames must be >= 1, got {self.refresh_frames}")

    def plan(
        self, boxes: NDArray[np.float32], track_boxes: NDArray[np.float32], track_ids: NDArray[np.int64]
    ) -> tuple[NDArray[np.bool_], NDArray[np.int64]]:
        """For this frame's boxes, return (needs_fresh mask, track id to borrow from or -1).

        track_boxes/track_ids: the confirmed tracks' boxes output on the previous frame.
        """
        self._frame += 1
        n = len(boxes)
        borrow = np.full(n, -1, dtype=np.int64)
        if n == 0:
            return np.zeros(0, dtype=bool), borrow
        crowd = iou_matrix(boxes, boxes)
        np.fill_diagonal(crowd, 0.0)
        crowded = crowd.max(axis=1) > self.crowd_iou
        ious = iou_matrix(boxes, track_boxes)
        if ious.shape[1]:
            best = ious.argmax(axis=1)
            best_iou = ious[np.arange(n), best]
            # Unambiguous: the track's best box is this one too (no two boxes claim it).
            claimed_by = ious.argmax(axis=0)
            mutual = claimed_by[best] == np.arange(n)
            continues = (best_iou >= self.continuation_iou) & mutual
            candidate = track_ids[best]
            stale = np.array(
                [self._frame - self._last_fresh.get(int(t), -(10**9)) >= self.refresh_frames for t in candidate]
            )
            reuse = continues & ~crowded & ~stale
            borrow[reuse] = candidate[reuse]
        return borrow < 0, borrow

    def mark_fresh(self, track_ids: NDArray[np.int64]) -> None:
        for t in track_ids.tolist():
            self._last_fresh[int(t)] = self._frame

    def forget(self, track_ids: set[int]) -> None:
        for t in track_ids:
            self._last_fresh.pop(t, None)

    def reset(self) -> None:
        self._last_fresh.clear()
        self._frame = 0
