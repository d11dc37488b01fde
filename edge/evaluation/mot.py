"""MOTChallenge text files (ground truth and tracker output) as typed arrays.

Rows are ``frame, id, x, y, w, h, conf[, wx, wy, wz]`` (MOT15): 1-based frame numbers,
top-left corner, width and height in pixels; MOT15 ground truth puts floor
coordinates in metres in wx, wy, tracker output writes −1 there.

MOT16, MOT17 and MOT20 ground truth has nine columns instead: ``..., conf, class,
visibility``, the class one of `MotClass` (cars, occluders and reflections are annotated
beside people). A file of exactly nine columns is read that way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from edge.detections import Detections

# MOT15 annotates people only; COCO's person class is what the detector emits for them.
PERSON_CLASS = 0
# Columns of MOT16/17/20 ground truth: frame, id, x, y, w, h, conf, class, visibility.
CLASSED_GT_COLUMNS = 9


class MotClass(IntEnum):
    """MOTChallenge's annotation classes (MOT16 paper, table 2)."""

    PEDESTRIAN = 1
    PERSON_ON_VEHICLE = 2
    CAR = 3
    BICYCLE = 4
    MOTORBIKE = 5
    NON_MOT_VEHICLE = 6
    STATIC_PERSON = 7
    DISTRACTOR = 8
    OCCLUDER = 9
    OCCLUDER_ON_GROUND = 10
    OCCLUDER_FULL = 11
    REFLECTION = 12


# Real people, whatever the benchmark scores: a mall counts the cyclist and the person who
# stands still as it counts a walker.
PEOPLE = (MotClass.PEDESTRIAN, MotClass.PERSON_ON_VEHICLE, MotClass.STATIC_PERSON)


@dataclass(frozen=True)
class MotSequence:
    """All rows of one MOT file, sorted by frame then id; column-aligned arrays."""

    frame: NDArray[np.int64]
    track_id: NDArray[np.int64]
    xywh: NDArray[np.float64]
    confidence: NDArray[np.float64]
    # (N, 2) wx, wy as written (floor metres in MOT15 ground truth); NaN where absent.
    world: NDArray[np.float64]
    # MotClass per row: the class column of MOT16/17/20 ground truth, PEDESTRIAN for files without one.
    object_class: NDArray[np.int64]

    def __post_init__(self) -> None:
        n = len(self.frame)
        shapes = (("track_id", (n,)), ("xywh", (n, 4)), ("confidence", (n,)), ("world", (n, 2)), ("object_class", (n,)))
        for name, shape in shapes:
            if getattr(self, name).shape != shape:
                raise ValueError(f"{name} must have shape {shape}, got {getattr(self, name).shape}")
        if n and self.frame.min() < 1:
            raise ValueError(f"MOT frame numbers start at 1, got {self.frame.min()}")
        if np.any(np.diff(self.frame) < 0):
            raise ValueError("rows must be sorted by frame")

    @classmethod
    def load(cls, path: Path | str) -> MotSequence:
        """A MOT file; one of exactly nine columns is MOT16/17/20 ground truth (with classes)."""
        path = Path(path)
        text = path.read_text()
        rows = [line for line in text.splitlines() if line.strip()]
        if not rows:
            return cls.from_array(np.zeros((0, 10)))
        try:
            arr = np.loadtxt(rows, delimiter=",", ndmin=2, dtype=np.float64)
        except ValueError as exc:
            raise ValueError(f"{path} is not a MOT file of comma-separated numbers: {exc}") from None
        try:
            return cls.from_array(arr, classed=arr.shape[1] == CLASSED_GT_COLUMNS)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None

    @classmethod
    def from_array(cls, rows: NDArray[np.floating], *, classed: bool = False) -> MotSequence:
        """From an (N, ≥6) array of MOT columns; conf defaults to 1, world to NaN, class to PEDESTRIAN.

        After conf: world coordinates (MOT15's layout) or, `classed`, the class and the
        visibility of MOT16/17/20 ground truth.
        """
        arr = np.asarray(rows, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] < 6:
            raise ValueError(f"MOT rows need at least 6 columns (frame, id, x, y, w, h), got shape {arr.shape}")
        ids = arr[:, :2]
        if not np.all(np.isfinite(ids) & (ids == np.round(ids))):
            raise ValueError("frame and id columns must hold integers")
        arr = arr[np.lexsort((arr[:, 1], arr[:, 0]))]
        n = len(arr)
        if classed:
            if arr.shape[1] < CLASSED_GT_COLUMNS - 1:
                raise ValueError(f"classed MOT rows need a class column (8), got shape {arr.shape}")
            classes = arr[:, 7]
            known = np.isin(classes, [c.value for c in MotClass])
            if not known.all():
                raise ValueError(
                    f"column 8 of MOT16/17/20 ground truth is the MOTChallenge class (1-12), "
                    f"got {np.unique(classes[~known]).tolist()}"
                )
        return cls(
            frame=arr[:, 0].astype(np.int64),
            track_id=arr[:, 1].astype(np.int64),
            xywh=np.ascontiguousarray(arr[:, 2:6]),
            confidence=arr[:, 6].copy() if arr.shape[1] > 6 else np.ones(n),
            world=np.ascontiguousarray(arr[:, 7:9]) if arr.shape[1] > 8 and not classed else np.full((n, 2), np.nan),
            object_class=arr[:, 7].astype(np.int64) if classed else np.full(n, MotClass.PEDESTRIAN, dtype=np.int64),
        )

    def __len__(self) -> int:
        return len(self.frame)

    def xyxy(self) -> NDArray[np.float64]:
        x, y, w, h = self.xywh.T
        return np.stack([x, y, x + w, y + h], axis=1)

    def foot_points(self) -> NDArray[np.float64]:
        """(N, 2) bottom-centre of each box, as `Detections.foot_points` computes it."""
        x, y, w, h = self.xywh.T
        return np.stack([x + w / 2.0, y + h], axis=1)

    def track_ids(self) -> NDArray[np.int64]:
        return np.unique(self.track_id)

    def select(self, mask: NDArray[np.bool_]) -> MotSequence:
        """The rows where mask is true (order kept)."""
        return MotSequence(
            frame=self.frame[mask],
            track_id=self.track_id[mask],
            xywh=self.xywh[mask],
            confidence=self.confidence[mask],
            world=self.world[mask],
            object_class=self.object_class[mask],
        )

    def people(self) -> MotSequence:
        """The rows annotating a person (`PEOPLE`), whether or not a benchmark scores them."""
        return self.select(np.isin(self.object_class, PEOPLE))

    def in_crop(self, crop: tuple[int, int, int, int]) -> MotSequence:
        """The rows a logical camera cropped to (x0, y0, x1, y1) sees, in its pixels.

        A row is kept when its foot point lies in the crop; boxes are shifted, not
        clipped, so the foot point stays where the person stands.
        """
        x0, y0, x1, y1 = crop
        if not (x0 < x1 and y0 < y1):
            raise ValueError(f"crop must be (x0, y0, x1, y1) with x0 < x1 and y0 < y1, got {crop}")
        feet = self.foot_points()
        seen = (feet[:, 0] >= x0) & (feet[:, 0] < x1) & (feet[:, 1] >= y0) & (feet[:, 1] < y1)
        kept = self.select(seen)
        return dataclasses.replace(kept, xywh=kept.xywh - [x0, y0, 0.0, 0.0])

    def track(self, track_id: int) -> MotSequence:
        """One identity's rows, in frame order."""
        return self.select(self.track_id == track_id)

    def detections(self, first: int = 1, last: int | None = None) -> Iterator[tuple[int, Detections]]:
        """(frame, Detections) for every frame from first to last (default: the last row's
        frame), empty frames included: time-based logic must see time pass.
        tracker_id is the MOT id."""
        if last is None:
            last = int(self.frame[-1]) if len(self) else first - 1
        xyxy = self.xyxy().astype(np.float32)
        starts = np.searchsorted(self.frame, np.arange(first, last + 2))
        for offset, frame in enumerate(range(first, last + 1)):
            rows = slice(starts[offset], starts[offset + 1])
            yield (
                frame,
                Detections(
                    xyxy=xyxy[rows],
                    confidence=self.confidence[rows].astype(np.float32),
                    class_id=np.full(rows.stop - rows.start, PERSON_CLASS, dtype=np.int32),
                    tracker_id=self.track_id[rows].copy(),
                ),
            )
