"""Blur faces before any pixel leaves the agent.

Every detected face is blurred; so is the head region (the top of the person box) of
every person without a detected face inside it — faces too small, turned away or
missed by the face model must not survive either. Without a face model only the head
regions are blurred.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from edge.privacy.face_detector import CenterFaceDetector


def _blur_box(image: NDArray[np.uint8], box: NDArray[np.floating]) -> None:
    h, w = image.shape[:2]
    x1, y1 = max(0, int(np.floor(box[0]))), max(0, int(np.floor(box[1])))
    x2, y2 = min(w, int(np.ceil(box[2]))), min(h, int(np.ceil(box[3])))
    if x2 <= x1 or y2 <= y1:
        return
    region = image[y1:y2, x1:x2]
    # Pixelate, then smooth: unrecoverable by deblurring, unlike a plain Gaussian.
    small = cv2.resize(region, (max(1, (x2 - x1) // 8), max(1, (y2 - y1) // 8)), interpolation=cv2.INTER_AREA)
    coarse = cv2.resize(small, (x2 - x1, y2 - y1), interpolation=cv2.INTER_NEAREST)
    k = max(3, ((min(x2 - x1, y2 - y1) // 4) | 1))
    image[y1:y2, x1:x2] = cv2.GaussianBlur(coarse, (k, k), 0)


def head_regions(person_xyxy: NDArray[np.floating], fraction: float) -> NDArray[np.float32]:
    """The top `fraction` of each person box, widened a little: where the face is."""
    boxes = np.asarray(person_xyxy, dtype=np.float32).reshape(-1, 4)
    height = boxes[:, 3] - boxes[:, 1]
    width = boxes[:, 2] - boxes[:, 0]
    return np.stack(
        [
            boxes[:, 0] - 0.1 * width,
            boxes[:, 1] - 0.05 * height,
            boxes[:, 2] + 0.1 * width,
            boxes[:, 1] + fraction * height,
        ],
        axis=1,
    )


class FaceBlurrer:
    def __init__(self, detector: CenterFaceDetector | None, head_fraction: float = 0.22) -> None:
        if not 0 < head_fraction <= 1:
            raise ValueError(f"head_fraction must be in (0, 1], got {head_fraction}")
        self.detector = detector
        self.head_fraction = head_fraction

    def blur(self, image: NDArray[np.uint8], person_xyxy: NDArray[np.floating]) -> NDArray[np.uint8]:
        """A blurred copy; the input is left untouched."""
        out = image.copy()
        faces = self.detector.detect(image) if self.detector is not None else np.zeros((0, 5), np.float32)
        for face in faces:
            _blur_box(out, face[:4])
        centres = np.stack([(faces[:, 0] + faces[:, 2]) / 2, (faces[:, 1] + faces[:, 3]) / 2], axis=1)
        for head in head_regions(person_xyxy, self.head_fraction):
            inside = (
                (centres[:, 0] >= head[0])
                & (centres[:, 0] <= head[2])
                & (centres[:, 1] >= head[1])
                & (centres[:, 1] <= head[3])
            )
            if not inside.any():
                _blur_box(out, head)
        return out
