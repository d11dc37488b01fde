"""A decoded frame as it leaves a source."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class Frame:
    camera_id: str
    # 0-based index of the frame within its source (files) or since connect (streams).
    index: int
    # Capture time, Unix epoch nanoseconds: the stream's clock for live sources, the
    # agent's start time plus media position for files.
    capture_time_ns: int
    # HxWx3 uint8 BGR, already cut to the camera's crop.
    image: NDArray[np.uint8]
