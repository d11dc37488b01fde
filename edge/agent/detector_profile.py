"""The detector profile each camera runs with: the site's, fitted to the camera's frame."""

from __future__ import annotations

import logging

from shared.config.detector import DetectorProfile
from shared.config.site import SiteConfig
from shared.video_files import camera_frame_size

log = logging.getLogger(__name__)


def camera_detector(site: SiteConfig, camera_id: str, source: str | None = None) -> DetectorProfile:
    """`site.detector_of(camera_id)` with its input grown for a file or crop larger than the
    profile suits (DetectorProfile.for_frame); a live camera keeps the profile's size here,
    its frames fit it later where `fitted_at_first_frame`.

    `source` stands in for the camera's own source (a recording of it, as in an evaluation).
    """
    declared = site.detector_of(camera_id)
    if not declared.fit_to_frame:
        return declared
    size, _ = camera_frame_size(site.camera(camera_id), source)
    profile = declared.for_frame(None if size is None else (size[1], size[0]))
    if profile.input_size != declared.input_size:
        h, w = profile.input_size
        log.info("camera %s: detector input %dx%d, fitted to its frame (detector.input_size sets it)", camera_id, h, w)
    return profile


def fitted_at_first_frame(site: SiteConfig, camera_id: str, engine: str = "onnxruntime") -> bool:
    """Whether the camera's detector is fitted to its frames as they come (`FrameFittedDetector`):
    a live camera without a crop, whose size is unknown until it streams, on onnxruntime (TensorRT
    engines are built ahead for one size), with a profile that fits."""
    if engine != "onnxruntime" or not site.detector_of(camera_id).fit_to_frame:
        return False
    size, _ = camera_frame_size(site.camera(camera_id))
    return size is None
