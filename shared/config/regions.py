"""What every drawn shape of a site file shares: the space it is drawn in and polygon checks."""

from __future__ import annotations

from enum import StrEnum
from functools import partial
from typing import Annotated

import numpy as np
from pydantic import AfterValidator

PointXY = tuple[float, float]


class Space(StrEnum):
    """Coordinate system a line, zone or region is drawn in."""

    IMAGE = "image"  # pixels of the camera's (cropped) frame, x right, y down
    FLOOR = "floor"  # metres on the floor plan of the camera's floor


def region(kind: str, v: list[PointXY]) -> list[PointXY]:
    """`v` if it is a polygon with an area; a ValueError naming `kind` otherwise."""
    if len(v) < 3:
        raise ValueError(f"the {kind} polygon needs at least 3 points, got {len(v)}")
    arr = np.asarray(v, dtype=np.float64)
    x, y = arr[:, 0], arr[:, 1]
    area = 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
    if area <= 0:
        raise ValueError(f"the {kind} polygon has zero area")
    return v


# Polygon fields, each checked with its kind named in the message.
ZonePolygon = Annotated[list[PointXY], AfterValidator(partial(region, "zone"))]
ExitPolygon = Annotated[list[PointXY], AfterValidator(partial(region, "exit"))]
CoveragePolygon = Annotated[list[PointXY], AfterValidator(partial(region, "coverage"))]
