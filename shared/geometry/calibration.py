"""Is a camera's calibration right? Numbers an installer can act on.

A camera's homography is fitted to point pairs an installer measured (image pixel ↔ floor
metres). This module says how far each pair is from the fit (metres on the floor), how much
floor the frame covers, where the horizon is, and how the floor's 1 m grid, lines, zones and
exits fall in the image, so `mallflow calibrate` can draw them and `mallflow config check`
can warn. Pure geometry: no video, no drawing; `edge` draws, `shared` checks configs.

Image coordinates here are the camera's own (cropped) pixels, as a FloorMapper takes them,
except the calibration points themselves, which are given on the full source frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from shared.config.site import Camera, Homography
from shared.geometry.homography import FloatArray, FloorMapper

Point = tuple[float, float]
Segment = tuple[Point, Point]
# Floor rectangle (xmin, ymin, xmax, ymax), metres.
Window = tuple[float, float, float, float]

# Analytics work on a person's foot point: 0.5 m is about a shoulder width and the default
# heatmap cell, so a pair off by more is a mismeasured or mis-clicked point, not tape-measure
# noise (the PETS09 example's pairs fit within 0.001 m, its ground truth within 0.03 m).
MAX_ERROR_M = 0.5
# Half that on average: floor positions, floor-space zones and cross-camera distances
# (footfall dedup joins crossings 1.5 m apart) then drift by half a heatmap cell everywhere,
# which a non-flat floor or several sloppy points cause.
MEAN_ERROR_M = 0.25
# With the minimum of 4 pairs the fit passes through every one exactly: no error can show.
MIN_CHECKABLE_POINTS = 5
# Floor counted beyond the calibration points' bounding box. The fit is extrapolated there
# and grows unreliable towards the horizon; past ~30 m a person is a few pixels tall on a
# mall camera and is not detected anyway. Also what bounds the area when the horizon is in
# the frame (the floor would run to infinity).
RANGE_M = 30.0
# The smallest plausible view: a doorway camera close above the door still sees about
# 2 m x 2 m. Less means image points measured on another resolution or floor points
# in the wrong unit.
MIN_AREA_M2 = 4.0
# A 100 m x 100 m view is beyond any mall camera (and than RANGE_M allows for compact
# calibration points); floor points typed in centimetres give 10 000 times the true area.
MAX_AREA_M2 = 10_000.0
# Grid edges shorter than this in the image are not drawn: towards the horizon the 1 m
# grid would close into a solid smear over the picture.
GRID_MIN_PX = 4.0
# Every 5th grid line is drawn bolder, so distances can be counted at a glance.
MAJOR_EVERY = 5
# Frame samples along the longer side for the covered area: 0.5 px on a 768 px frame.
AREA_SAMPLES = 400


@dataclass(frozen=True)
class PointResidual:
    """One calibration pair against the homography fitted to all of them."""

    index: int
    image: Point  # as given: full-frame pixels
    floor: Point  # as given: metres
    fitted: Point | None  # where the fit puts the image point on the floor; None beyond its horizon
    error_m: float  # distance fitted ↔ given; inf beyond the horizon


@dataclass(frozen=True)
class Coverage:
    """The floor a frame sees, counted within `window`."""

    area_m2: float
    # Share of the frame on or above the horizon: pixels with no floor position.
    above_horizon: float
    # Share of the frame on the floor but outside `window` (not counted).
    beyond_range: float


@dataclass(frozen=True)
class GridSegment:
    """One 1 m edge of the floor grid, in image pixels, clipped to the frame."""

    start: Point
    end: Point
    major: bool  # lies on a multiple of MAJOR_EVERY metres


@dataclass(frozen=True)
class CameraCheck:
    camera_id: str
    points: list[PointResidual]
    coverage: Coverage | None  # None when the frame size is unknown
    frame_size: tuple[int, int] | None
    warnings: list[str] = field(default_factory=list)

    @property
    def mean_error_m(self) -> float:
        return float(np.mean([p.error_m for p in self.points]))

    @property
    def max_error_m(self) -> float:
        return max(p.error_m for p in self.points)

    def summary(self) -> str:
        """One line: the fit's errors and, when the frame is known, the floor covered."""
        text = (
            f"{len(self.points)} calibration points, error mean {self.mean_error_m:.3f} m, max {self.max_error_m:.3f} m"
        )
        if self.coverage is not None and self.frame_size is not None:
            w, h = self.frame_size
            text += f"; the {w}x{h} frame covers {self.coverage.area_m2:.0f} m² of floor"
        return text


def reprojection_errors(homography: Homography) -> list[PointResidual]:
    """Each pair's distance, in metres on the floor, from the homography fitted to all pairs."""
    mapper = FloorMapper.from_config(homography)
    fitted = mapper.to_floor(np.asarray(homography.image_points, dtype=np.float64))
    given = np.asarray(homography.floor_points, dtype=np.float64)
    errors = np.linalg.norm(fitted - given, axis=1)
    out = []
    for i, (image, floor) in enumerate(zip(homography.image_points, homography.floor_points, strict=True)):
        seen = bool(np.isfinite(fitted[i]).all())
        out.append(
            PointResidual(
                index=i,
                image=(float(image[0]), float(image[1])),
                floor=(float(floor[0]), float(floor[1])),
                fitted=(float(fitted[i, 0]), float(fitted[i, 1])) if seen else None,
                error_m=float(errors[i]) if seen else float("inf"),
            )
        )
    return out


def floor_window(homography: Homography, range_m: float = RANGE_M) -> Window:
    """The calibration points' bounding box on the floor, widened by `range_m` on every side."""
    if not range_m > 0:
        raise ValueError(f"range_m must be > 0, got {range_m}")
    floor = np.asarray(homography.floor_points, dtype=np.float64)
    lo, hi = floor.min(axis=0) - range_m, floor.max(axis=0) + range_m
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def _frame(frame_size: tuple[int, int]) -> tuple[float, float]:
    w, h = frame_size
    if not (w > 0 and h > 0):
        raise ValueError(f"frame size must be positive width x height in pixels, got {w}x{h}")
    return float(w), float(h)


def _inverse(mapper: FloorMapper) -> FloatArray:
    # Exact inverse, not rescaled: its third row times a floor point is then 1 / the image
    # point's projective scale, whose sign tells which side of the horizon it is on.
    return np.asarray(np.linalg.inv(mapper.matrix), dtype=np.float64)


def to_image(mapper: FloorMapper, floor_points: FloatArray) -> FloatArray:
    """(N, 2) floor metres → (N, 2) image pixels; floor the camera cannot see (behind it) becomes NaN."""
    pts = np.asarray(floor_points, dtype=np.float64).reshape(-1, 2)
    q = np.hstack([pts, np.ones((len(pts), 1))]) @ _inverse(mapper).T
    with np.errstate(divide="ignore", invalid="ignore"):
        out = q[:, :2] / q[:, 2:3]
    out[q[:, 2] * mapper.front_sign <= 0] = np.nan
    return out


def _clip_in_front(
    mapper: FloorMapper, starts: FloatArray, ends: FloatArray
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """Floor segments cut to the half-plane the camera looks at (whose image lies below the horizon).

    The image of a floor segment is a straight segment only on that side: one crossing the
    camera's own plane would leave the frame through infinity and come back above the horizon.
    """
    g3 = _inverse(mapper)[2]
    s0 = mapper.front_sign * (starts @ g3[:2] + g3[2])
    s1 = mapper.front_sign * (ends @ g3[:2] + g3[2])
    keep = (s0 > 0) | (s1 > 0)
    # Stop a hair short of the camera plane so the image point stays finite (far off-frame).
    margin = 1e-6 * np.maximum(s0, s1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.clip((margin - s0) / (s1 - s0), 0.0, 1.0)
    delta = ends - starts
    new_starts = np.where((s0 < margin)[:, None], starts + t[:, None] * delta, starts)
    new_ends = np.where((s1 < margin)[:, None], starts + t[:, None] * delta, ends)
    return new_starts, new_ends, keep


def _clip_to_frame(
    starts: FloatArray, ends: FloatArray, frame_size: tuple[int, int]
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """Liang-Barsky on [0, w] x [0, h] in floats (cv2.clipLine takes ints; points near the horizon overflow them)."""
    w, h = _frame(frame_size)
    d = ends - starts
    t0 = np.zeros(len(starts))
    t1 = np.ones(len(starts))
    keep = np.ones(len(starts), dtype=bool)
    for p, q in (
        (-d[:, 0], starts[:, 0]),
        (d[:, 0], w - starts[:, 0]),
        (-d[:, 1], starts[:, 1]),
        (d[:, 1], h - starts[:, 1]),
    ):
        parallel = p == 0
        keep &= ~(parallel & (q < 0))
        with np.errstate(divide="ignore", invalid="ignore"):
            r = q / p
        t0 = np.where(~parallel & (p < 0), np.maximum(t0, r), t0)
        t1 = np.where(~parallel & (p > 0), np.minimum(t1, r), t1)
    keep &= t0 <= t1
    return starts + t0[:, None] * d, starts + t1[:, None] * d, keep


def _segments(starts: FloatArray, ends: FloatArray) -> list[Segment]:
    return [((float(a[0]), float(a[1])), (float(b[0]), float(b[1]))) for a, b in zip(starts, ends, strict=True)]


def project_segments(
    mapper: FloorMapper, starts: Sequence[Point], ends: Sequence[Point], frame_size: tuple[int, int]
) -> list[Segment | None]:
    """Floor segments (metres) as the image shows them: cut at the horizon and the frame; None where unseen."""
    a = np.asarray(starts, dtype=np.float64).reshape(-1, 2)
    b = np.asarray(ends, dtype=np.float64).reshape(-1, 2)
    a, b, front = _clip_in_front(mapper, a, b)
    ia, ib, inside = _clip_to_frame(_raw_image(mapper, a), _raw_image(mapper, b), frame_size)
    keep = front & inside
    return [seg if k else None for seg, k in zip(_segments(ia, ib), keep, strict=True)]


def _raw_image(mapper: FloorMapper, floor: FloatArray) -> FloatArray:
    # Callers have cut the points to the visible side: no division by zero or sign to check.
    q = np.hstack([floor, np.ones((len(floor), 1))]) @ _inverse(mapper).T
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(q[:, :2] / q[:, 2:3], dtype=np.float64)


def grid_segments(
    mapper: FloorMapper,
    frame_size: tuple[int, int],
    window: Window,
    spacing_m: float = 1.0,
    min_px: float = GRID_MIN_PX,
) -> list[GridSegment]:
    """The floor grid within `window` as image segments, below the horizon and inside the frame.

    Made of edges between neighbouring grid points, so an edge that would be under `min_px`
    long in the image is left out where the grid gets too dense to read.
    """
    if not spacing_m > 0:
        raise ValueError(f"grid spacing must be > 0 m, got {spacing_m}")
    xmin, ymin, xmax, ymax = window
    if not (xmin < xmax and ymin < ymax):
        raise ValueError(f"window must be (xmin, ymin, xmax, ymax) with xmin < xmax and ymin < ymax, got {window}")
    xs = np.arange(np.ceil(xmin / spacing_m), np.floor(xmax / spacing_m) + 1) * spacing_m
    ys = np.arange(np.ceil(ymin / spacing_m), np.floor(ymax / spacing_m) + 1) * spacing_m
    gx, gy = np.meshgrid(xs, ys)
    # Edges along x (constant y) and along y (constant x).
    along_x = (np.c_[gx[:, :-1].ravel(), gy[:, :-1].ravel()], np.c_[gx[:, 1:].ravel(), gy[:, 1:].ravel()])
    along_y = (np.c_[gx[:-1, :].ravel(), gy[:-1, :].ravel()], np.c_[gx[1:, :].ravel(), gy[1:, :].ravel()])
    starts = np.vstack([along_x[0], along_y[0]])
    ends = np.vstack([along_x[1], along_y[1]])
    # The coordinate each edge keeps constant, in grid steps (whole numbers by construction).
    steps = np.rint(np.r_[along_x[0][:, 1], along_y[0][:, 0]] / spacing_m).astype(np.int64)
    major = steps % MAJOR_EVERY == 0
    a, b, front = _clip_in_front(mapper, starts, ends)
    ia, ib = _raw_image(mapper, a), _raw_image(mapper, b)
    readable = np.linalg.norm(ib - ia, axis=1) >= min_px
    ca, cb, inside = _clip_to_frame(ia, ib, frame_size)
    keep = front & readable & inside
    return [GridSegment(s, e, bool(m)) for (s, e), m in zip(_segments(ca[keep], cb[keep]), major[keep], strict=True)]


def horizon(mapper: FloorMapper, frame_size: tuple[int, int]) -> Segment | None:
    """The horizon (image points with no floor position beyond it) where it crosses the frame."""
    w, h = _frame(frame_size)
    a, b, c = mapper.matrix[2]
    norm = float(np.hypot(a, b))
    if norm <= 1e-12 * max(1.0, abs(float(c))):
        return None  # looking straight down: the horizon is at infinity
    direction = np.array([-b, a]) / norm
    foot = -c * np.array([a, b]) / norm**2
    reach = 2.0 * (w + h) + float(np.linalg.norm(foot))
    starts, ends, inside = _clip_to_frame(
        (foot - reach * direction)[None], (foot + reach * direction)[None], frame_size
    )
    return _segments(starts, ends)[0] if inside[0] else None


def coverage(mapper: FloorMapper, frame_size: tuple[int, int], window: Window, samples: int = AREA_SAMPLES) -> Coverage:
    """Floor area (m²) the frame shows within `window`, by integrating over a grid of pixel samples.

    Each sample stands for its cell's share of the frame, which covers |det H| / w³ m² per
    pixel² (the Jacobian of the projective map), w being the point's projective scale.
    """
    w, h = _frame(frame_size)
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    longer = max(w, h)
    nx, ny = max(1, round(samples * w / longer)), max(1, round(samples * h / longer))
    xs = (np.arange(nx) + 0.5) * (w / nx)
    ys = (np.arange(ny) + 0.5) * (h / ny)
    gx, gy = np.meshgrid(xs, ys)
    pixels = np.c_[gx.ravel(), gy.ravel(), np.ones(gx.size)]
    homog = pixels @ mapper.matrix.T
    scale = homog[:, 2]
    front = scale * mapper.front_sign > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        floor = homog[:, :2] / scale[:, None]
        density = abs(float(np.linalg.det(mapper.matrix))) / np.abs(scale) ** 3
    xmin, ymin, xmax, ymax = window
    within = (floor[:, 0] >= xmin) & (floor[:, 0] <= xmax) & (floor[:, 1] >= ymin) & (floor[:, 1] <= ymax)
    counted = front & within
    cell = (w / nx) * (h / ny)
    return Coverage(
        area_m2=float(density[counted].sum() * cell),
        above_horizon=float(1.0 - front.mean()),
        beyond_range=float((front & ~within).mean()),
    )


def check_camera(camera: Camera, frame_size: tuple[int, int] | None = None) -> CameraCheck:
    """The calibration's errors and, when the camera's frame size is known, its coverage; with warnings.

    `frame_size` is the camera's own frame: the crop's size for a cropped camera.
    """
    if camera.homography is None:
        raise ValueError(
            f"camera {camera.id!r} has no homography: add homography.image_points and floor_points "
            "(at least 4 pairs, 6 or more to check them) to its entry in the site file"
        )
    points = reprojection_errors(camera.homography)
    warnings = _error_warnings(camera.id, points)
    cover = None
    if frame_size is not None:
        mapper = FloorMapper.for_camera(camera)
        assert mapper is not None  # the camera has a homography
        cover = coverage(mapper, frame_size, floor_window(camera.homography))
        # A cropped camera's points are on the full frame, of which only the crop's size is known.
        if camera.crop is None:
            warnings += _outside_frame_warnings(camera.id, points, frame_size)
        warnings += _coverage_warnings(camera.id, cover)
    return CameraCheck(camera.id, points, cover, frame_size, warnings)


def _error_warnings(camera_id: str, points: list[PointResidual]) -> list[str]:
    out = []
    for p in points:
        if not np.isfinite(p.error_m):
            out.append(
                f"camera {camera_id}: calibration point {p.index} lands beyond the horizon of the fit to all "
                "points: the points contradict each other (a swapped or mistyped pair?)"
            )
        elif p.error_m > MAX_ERROR_M:
            out.append(
                f"camera {camera_id}: calibration point {p.index} is {p.error_m:.2f} m off the fit "
                f"(limit {MAX_ERROR_M} m): re-measure it, or check its image and floor points are the same spot"
            )
    finite = [p.error_m for p in points if np.isfinite(p.error_m)]
    mean = float(np.mean(finite)) if finite else 0.0
    if mean > MEAN_ERROR_M:
        out.append(
            f"camera {camera_id}: calibration points are {mean:.2f} m off the fit on average "
            f"(limit {MEAN_ERROR_M} m): the floor may not be flat there, or several points are mismeasured"
        )
    if len(points) < MIN_CHECKABLE_POINTS:
        out.append(
            f"camera {camera_id}: only {len(points)} calibration points: the fit passes through each exactly, "
            "so a mismeasured one cannot show; add more (6 or more, spread over the floor)"
        )
    return out


def _outside_frame_warnings(camera_id: str, points: list[PointResidual], frame_size: tuple[int, int]) -> list[str]:
    w, h = frame_size
    return [
        f"camera {camera_id}: calibration point {p.index} at ({p.image[0]:g}, {p.image[1]:g}) px lies outside "
        f"the {w}x{h} frame: were the points measured on another resolution?"
        for p in points
        if not (0 <= p.image[0] <= w and 0 <= p.image[1] <= h)
    ]


def _coverage_warnings(camera_id: str, cover: Coverage) -> list[str]:
    out = []
    if cover.above_horizon > 0:
        out.append(
            f"camera {camera_id}: the horizon crosses the frame: {cover.above_horizon:.0%} of it shows no floor "
            f"(people there get no floor position) and the floor is counted only to {RANGE_M:g} m beyond "
            "the calibration points; if the camera looks down at the floor, the points are wrong"
        )
    if cover.area_m2 < MIN_AREA_M2:
        out.append(
            f"camera {camera_id}: the frame covers only {cover.area_m2:.1f} m² of floor (expected at least "
            f"{MIN_AREA_M2:g} m²): are the floor points in metres, and the image points on this resolution?"
        )
    elif cover.area_m2 > MAX_AREA_M2:
        out.append(
            f"camera {camera_id}: the frame covers {cover.area_m2:.0f} m² of floor (expected at most "
            f"{MAX_AREA_M2:g} m²): are the floor points in metres (not centimetres)?"
        )
    return out
