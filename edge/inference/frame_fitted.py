"""A detector whose input size follows the frames it is given, for cameras whose size is
known only once they stream (live cameras)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from edge.inference.base import Detector
from shared.config.detector import DetectorProfile

log = logging.getLogger(__name__)


def detect_grouped(
    images: Sequence[NDArray[np.uint8]], detector_of: Callable[[int], Detector]
) -> list[NDArray[np.float32]]:
    """Per image its detections, with one call per detector for the images `detector_of(i)` assigns it."""
    groups: dict[int, tuple[Detector, list[int]]] = {}
    for i in range(len(images)):
        detector = detector_of(i)
        groups.setdefault(id(detector), (detector, []))[1].append(i)
    found: dict[int, NDArray[np.float32]] = {}
    for detector, rows in groups.values():
        found.update(zip(rows, detector.detect([images[i] for i in rows]), strict=True))
    return [found[i] for i in range(len(images))]


class FrameFittedDetector(Detector):
    """`profile` run at the input each frame needs (`DetectorProfile.for_frame`).

    The profile's own size is loaded at once, so a model that cannot load fails at start;
    another size is loaded the first time a frame needs it (a live camera's first frame)
    and kept. Frames of one size share one detector call.
    """

    concurrent_calls = True

    def __init__(self, profile: DetectorProfile, load: Callable[[DetectorProfile], Detector]) -> None:
        declared = load(profile)
        if not declared.concurrent_calls:
            raise ValueError(
                f"{type(declared).__name__} does not allow concurrent calls: it cannot be fitted per frame"
            )
        super().__init__(declared.model_id)
        self.profile = profile
        self._load = load
        self._loaded: dict[tuple[int, int], Detector] = {profile.input_size: declared}
        self._lock = threading.Lock()

    @property
    def input_sizes(self) -> list[tuple[int, int]]:
        """The input sizes loaded so far, the profile's first."""
        with self._lock:
            return list(self._loaded)

    def _detector_for(self, frame_hw: tuple[int, int]) -> Detector:
        size = self.profile.for_frame(frame_hw).input_size
        with self._lock:
            if size not in self._loaded:
                log.info(
                    "detector input %dx%d for %dx%d frames (fitted: their people would shrink at %dx%d)",
                    *size, frame_hw[1], frame_hw[0], *self.profile.input_size,
                )  # fmt: skip
                self._loaded[size] = self._load(self.profile.model_copy(update={"input_size": size}))
            return self._loaded[size]

    def _detect(self, images: list[NDArray[np.uint8]]) -> list[NDArray[np.float32]]:
        detectors = [self._detector_for((image.shape[0], image.shape[1])) for image in images]
        return detect_grouped(images, detectors.__getitem__)
