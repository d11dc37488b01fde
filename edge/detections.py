"""The one typed structure that flows from detection through tracking to analytics."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray


def _empty_f32(*shape: int) -> NDArray[np.float32]:
    return np.zeros(shape, dtype=np.float32)


@dataclass(frozen=True)
class Detections:
    """N boxes of one frame, column-aligned arrays (supervision style).

    xyxy: (N, 4) float32 pixels; confidence: (N,) float32; class_id: (N,) int32;
    tracker_id: (N,) int64, -1 where untracked; embeddings: (N, D) float32 L2-normalised
    rows, or None when no ReID was computed for this frame.
    """

    xyxy: NDArray[np.float32] = field(default_factory=lambda: _empty_f32(0, 4))
    confidence: NDArray[np.float32] = field(default_factory=lambda: _empty_f32(0))
    class_id: NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    tracker_id: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    embeddings: NDArray[np.float32] | None = None

    def __post_init__(self) -> None:
        n = len(self.xyxy)
        if self.xyxy.ndim != 2 or self.xyxy.shape[1] != 4:
            raise ValueError(f"xyxy must have shape (N, 4), got {self.xyxy.shape}")
        for name in ("confidence", "class_id"):
            arr = getattr(self, name)
            if arr.shape != (n,):
                raise ValueError(f"{name} must have shape ({n},), got {arr.shape}")
        if n and self.tracker_id.shape == (0,):
            object.__setattr__(self, "tracker_id", np.full(n, -1, dtype=np.int64))
        if self.tracker_id.shape != (n,):
            raise ValueError(f"tracker_id must have shape ({n},), got {self.tracker_id.shape}")
        if self.embeddings is not None and (self.embeddings.ndim != 2 or len(self.embeddings) != n):
            raise ValueError(f"embeddings must have shape ({n}, D), got {self.embeddings.shape}")

    @classmethod
    def from_array(cls, boxes: NDArray[np.floating]) -> Detections:
        """From an (N, 6) array of x1, y1, x2, y2, confidence, class — the Detector contract."""
        arr = np.asarray(boxes, dtype=np.float32).reshape(-1, 6)
        return cls(
            xyxy=np.ascontiguousarray(arr[:, :4]),
            confidence=np.ascontiguousarray(arr[:, 4]),
            class_id=arr[:, 5].astype(np.int32),
            tracker_id=np.full(len(arr), -1, dtype=np.int64),
        )

    def __len__(self) -> int:
        return len(self.xyxy)

    def as_array(self) -> NDArray[np.float32]:
        """(N, 6) x1, y1, x2, y2, confidence, class — what boxmot's update() takes."""
        return np.hstack([self.xyxy, self.confidence[:, None], self.class_id[:, None].astype(np.float32)])

    def foot_points(self, margin: float = 0.0) -> NDArray[np.float64]:
        """(N, 2) where each person stands: the box's bottom-centre, raised by `margin` × its
        height for a detector whose boxes end below the soles (its profile's foot margin)."""
        x = (self.xyxy[:, 0] + self.xyxy[:, 2]) / 2.0
        y = self.xyxy[:, 3] - margin * (self.xyxy[:, 3] - self.xyxy[:, 1])
        return np.stack([x, y], axis=1).astype(np.float64)

    def __getitem__(self, index: NDArray[np.bool_] | NDArray[np.integer]) -> Detections:
        return Detections(
            xyxy=self.xyxy[index],
            confidence=self.confidence[index],
            class_id=self.class_id[index],
            tracker_id=self.tracker_id[index],
            embeddings=None if self.embeddings is None else self.embeddings[index],
        )
