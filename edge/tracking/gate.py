"""Which raw detections reach the tracker at all."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edge.detections import Detections
from shared.geometry import point_in_polygon

Polygon = Sequence[tuple[float, float]]


class DetectionGate:
    """Drops boxes below a confidence floor and boxes standing in a camera's ignore regions.

    The foot point decides (the detector's `foot_margin` above the box's bottom edge, as
    the analytics place it): a person walking past a masked poster is kept as long as
    they stand outside the mask.
    """

    def __init__(self, min_confidence: float, ignore_regions: Sequence[Polygon] = (), foot_margin: float = 0.0) -> None:
        if not 0 <= min_confidence <= 1:
            raise ValueError(f"min_confidence must be in [0, 1], got {min_confidence}")
        for i, poly in enumerate(ignore_regions):
            if len(poly) < 3:
                raise ValueError(f"ignore region {i} needs at least 3 points, got {len(poly)}")
        self.min_confidence = min_confidence
        self.foot_margin = foot_margin
        self.ignore_regions = [list(p) for p in ignore_regions]

    def apply(self, detections: Detections) -> Detections:
        keep = detections.confidence >= self.min_confidence
        if self.ignore_regions and keep.any():
            foot = detections.foot_points(self.foot_margin)
            for poly in self.ignore_regions:
                keep &= ~point_in_polygon(foot, poly)
        return detections if keep.all() else detections[np.flatnonzero(keep)]
