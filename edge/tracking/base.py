"""The tracker contract: detections of one frame in, the same boxes with track ids out."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from numpy.typing import NDArray

from edge.detections import Detections
from edge.tracking.appearance import TrackAppearance
from edge.tracking.appearance_gate import AppearanceGate
from edge.tracking.association_rate import AssociationPacer


class Tracker(ABC):
    # Quality-weighted embedding per track; empty when the tracker runs without ReID.
    appearance: TrackAppearance
    # The appearance gate this camera learned; None where the gate is fixed or ReID is off.
    appearance_gate: AppearanceGate | None = None

    @abstractmethod
    def update(self, detections: Detections, image: NDArray[np.uint8], time_ns: int) -> Detections:
        """Associate one frame's detections with tracks.

        Returns the tracked boxes with `tracker_id` set (>= 1) and, where a fresh ReID
        embedding was computed this frame, `embeddings` rows (zero rows elsewhere).
        """

    @abstractmethod
    def carry(self, time_ns: int) -> Detections:
        """The tracks where their motion puts them at `time_ns`, for a frame that was not detected
        (one `detection_pacer` skipped); no fresh embeddings. Empty before the first association."""

    def detection_pacer(self) -> AssociationPacer:
        """A fresh pacer that picks, from the same timestamps in the same order, the frames this
        tracker will associate: a stage running ahead of it (detection) may skip the others,
        whose boxes the tracker would not read. Every frame unless the tracker caps its rate."""
        return AssociationPacer(None)

    @abstractmethod
    def reset(self) -> None:
        """Forget all tracks (e.g. after a stream reconnect: old ids must not resume)."""

    @abstractmethod
    def forget(self, track_ids: set[int]) -> None:
        """Release per-track memory of tracks the caller has closed."""
