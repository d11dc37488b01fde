"""The detector each camera runs: the site's profile, fitted to the camera's frame."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from edge.inference.base import Detector
from edge.inference.frame_fitted import FrameFittedDetector
from shared.config.detector import DetectorProfile
from shared.config.site import SiteConfig
from shared.video_files import camera_frame_size

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DetectorPlan:
    """How to load one camera's detector."""

    # The site's profile, its input grown for a file or crop larger than the profile suits.
    profile: DetectorProfile
    # Fitted to each frame as it comes (`FrameFittedDetector`): a live camera without a crop,
    # whose size is unknown until it streams, on onnxruntime (TensorRT engines are built
    # ahead for one size), with a profile that fits.
    per_frame: bool

    @property
    def key(self) -> str:
        """Equal for cameras that can share one loaded detector."""
        return f"per frame: {self.profile.key}" if self.per_frame else self.profile.key

    def load(self, load_profile: Callable[[DetectorProfile], Detector]) -> Detector:
        return FrameFittedDetector(self.profile, load_profile) if self.per_frame else load_profile(self.profile)


def detector_plan(
    site: SiteConfig, camera_id: str, engine: str = "onnxruntime", source: str | None = None
) -> DetectorPlan:
    """The camera's detector: its profile fitted to the frame size that its crop or file header
    states, or fitted frame by frame where that size is unknown (see `DetectorPlan`).

    `source` stands in for the camera's own source (a recording of it, as in an evaluation).
    """
    declared = site.detector_of(camera_id)
    if not declared.fit_to_frame:
        return DetectorPlan(declared, per_frame=False)
    size, _ = camera_frame_size(site.camera(camera_id), source)
    if size is None:
        return DetectorPlan(declared, per_frame=engine == "onnxruntime")
    profile = declared.for_frame((size[1], size[0]))
    if profile.input_size != declared.input_size:
        h, w = profile.input_size
        log.info("camera %s: detector input %dx%d, fitted to its frame (detector.input_size sets it)", camera_id, h, w)
    return DetectorPlan(profile, per_frame=False)
