"""What per-camera analytics emits: plain values, converted to protobuf by the publisher."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

PointXY = tuple[float, float]


class Direction(StrEnum):
    """Crossing direction; `in` is towards the side where (P2−P1)×(X−P1) > 0."""

    IN = "in"
    OUT = "out"


class ZoneEventKind(StrEnum):
    ENTER = "enter"
    EXIT = "exit"


@dataclass(frozen=True)
class LineCrossingEvent:
    """A track crossed a counting line.

    time_ns and the points are those of the first frame seen on the new side, not of
    the later frame that confirmed the crossing, so counts land in the right time bucket.
    """

    line_id: str
    direction: Direction
    track_id: int
    time_ns: int
    image_point: PointXY
    floor_point: PointXY | None = None


@dataclass(frozen=True)
class ZoneEvent:
    """A track entered or left a zone.

    An exit's time_ns is the end of the last frame the track was seen inside (the next
    frame's time) and entered_time_ns the first frame of the visit, so N frames inside at
    f fps dwell N / f seconds, counting neither the enter confirmation nor the exit grace.
    """

    zone_id: str
    kind: ZoneEventKind
    track_id: int
    time_ns: int
    entered_time_ns: int | None = None
    floor_point: PointXY | None = None

    def __post_init__(self) -> None:
        if self.kind is ZoneEventKind.EXIT:
            if self.entered_time_ns is None:
                raise ValueError("an exit event needs entered_time_ns (the start of the visit)")
            if self.entered_time_ns > self.time_ns:
                raise ValueError(f"entered_time_ns ({self.entered_time_ns}) is after the exit time ({self.time_ns})")
        elif self.entered_time_ns is not None:
            raise ValueError("only exit events carry entered_time_ns")

    @property
    def dwell_s(self) -> float | None:
        """Seconds from the start of the first to the end of the last frame inside, on exits; None on enters."""
        if self.entered_time_ns is None:
            return None
        return (self.time_ns - self.entered_time_ns) / 1e9
