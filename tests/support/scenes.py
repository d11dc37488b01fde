"""Synthetic footage for tracker tests: two differently dressed people crossing on a grey floor."""

from __future__ import annotations

import numpy as np

from edge.detections import Detections


def crossing_people(frame: int) -> tuple[np.ndarray, Detections]:
    """The image of frame `frame` and the two people's boxes (confidence 0.9, class person)."""
    image = np.full((240, 320, 3), 90, np.uint8)
    rows = []
    for x0, colour in ((20 + 6 * frame, (0, 0, 200)), (260 - 6 * frame, (200, 120, 0))):
        image[80:200, x0 : x0 + 40] = colour
        image[80:110, x0 + 10 : x0 + 30] = (180, 200, 230)
        rows.append([x0, 80, x0 + 40, 200, 0.9, 0])
    return image, Detections.from_array(np.array(rows, dtype=np.float32))
