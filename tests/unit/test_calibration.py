"""Calibration checks (shared/geometry/calibration.py): errors, coverage, horizon, grid, warnings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.optimize import least_squares

from shared.config import Camera, Homography, load_site_config
from shared.geometry import FloorMapper
from shared.geometry.calibration import (
    MAX_AREA_M2,
    check_camera,
    coverage,
    floor_window,
    grid_segments,
    horizon,
    project_segments,
    reprojection_errors,
    to_image,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "examples"

# A camera looking obliquely at the floor of a 640x480 frame (horizon far above it):
# floor = H(image) for H = [[0.02, 0.004, -3], [-0.002, 0.03, -4], [0, 0.0008, 1]], rounded to mm.
IMAGE = [(40, 440), (600, 440), (320, 400), (100, 250), (540, 250), (320, 200), (160, 80), (480, 80)]
FLOOR = [
    (-0.325, 6.746), (7.959, 5.917), (3.788, 5.576), (0.0, 2.75),
    (7.333, 2.017), (3.621, 1.172), (0.489, -1.805), (6.504, -2.406),
]  # fmt: skip
# FLOOR with point 5 moved 2 m along x (a mistyped coordinate).
FLOOR_POINT_5_MOVED = [*FLOOR[:5], (5.621, 1.172), *FLOOR[6:]]
# FLOOR with every point 0.35 m off, in eight directions (a sloppy tape measure or a sloping floor).
FLOOR_ALL_OFF = [
    (0.025, 6.746), (7.959, 6.267), (3.438, 5.576), (0.0, 2.4),
    (7.683, 2.367), (3.271, 1.522), (0.839, -2.155), (6.154, -2.756),
]  # fmt: skip

# Looking across the floor of a 100x200 frame: floor = H(image) for H = [[-0.5, -0.15, 30],
# [0, 1, -200], [0, -0.03, 1]]; image row y = 33.3 is the horizon.
HORIZON_IMAGE = [(0, 200), (100, 200), (30, 100), (70, 100), (20, 200), (50, 100)]
HORIZON_FLOOR = [(0, 0), (10, 0), (0, 50), (10, 50), (2, 0), (5, 50)]
HORIZON_Y = 100 / 3


def window_of(cam: Camera) -> tuple[float, float, float, float]:
    assert cam.homography is not None
    return floor_window(cam.homography)


def camera(image: list[Any], floor: list[Any], crop: tuple[int, int, int, int] | None = None) -> Camera:
    return Camera(
        id="cam-a", source="a.mp4", floor="f", crop=crop, homography=Homography(image_points=image, floor_points=floor)
    )


@pytest.mark.parametrize(
    ("image", "floor", "errors", "warnings"),
    [
        pytest.param(IMAGE, FLOOR, [0.0] * 8, [], id="exact"),
        pytest.param(IMAGE[:4], FLOOR[:4], [0.0] * 4, ["only 4 calibration points"], id="four-points-fit-exactly"),
        pytest.param(
            IMAGE,
            FLOOR_POINT_5_MOVED,
            [0.211, 0.226, 0.338, 0.182, 0.219, 1.560, 0.413, 0.476],
            ["calibration point 5 is 1.56 m off the fit (limit 0.5 m)", "0.45 m off the fit on average (limit 0.25 m)"],
            id="one-point-mistyped",
        ),
        pytest.param(
            IMAGE,
            FLOOR_ALL_OFF,
            [0.235, 0.197, 0.294, 0.243, 0.451, 0.460, 0.337, 0.266],
            ["0.31 m off the fit on average (limit 0.25 m)"],
            id="all-points-sloppy",
        ),
    ],
)
def test_reprojection_errors_and_their_warnings(
    image: list[Any], floor: list[Any], errors: list[float], warnings: list[str]
) -> None:
    check = check_camera(camera(image, floor))
    assert [p.index for p in check.points] == list(range(len(errors)))
    np.testing.assert_allclose([p.error_m for p in check.points], errors, atol=1e-3)
    assert len(check.warnings) == len(warnings), check.warnings
    for got, expected in zip(check.warnings, warnings, strict=True):
        assert got.startswith("camera cam-a: ")
        assert expected in got


@pytest.mark.parametrize("floor", [FLOOR_POINT_5_MOVED, FLOOR_ALL_OFF])
def test_errors_are_those_of_the_least_squares_fit_on_the_floor(floor: list[Any]) -> None:
    # An independent fit: the 8 homography parameters minimising floor distances (metres).
    img, given = np.asarray(IMAGE, dtype=float), np.asarray(floor, dtype=float)

    def residuals(h: NDArray[np.float64]) -> NDArray[np.float64]:
        p = np.c_[img, np.ones(len(img))] @ np.append(h, 1.0).reshape(3, 3).T
        return np.asarray((p[:, :2] / p[:, 2:] - given).ravel())

    start = np.array([0.02, 0.004, -3.0, -0.002, 0.03, -4.0, 0.0, 0.0008])
    fit = least_squares(residuals, start, xtol=1e-14, ftol=1e-14)
    expected = np.linalg.norm(residuals(fit.x).reshape(-1, 2), axis=1)
    got = [p.error_m for p in reprojection_errors(Homography(image_points=IMAGE, floor_points=floor))]
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_points_beyond_the_horizon_of_the_fit_are_named() -> None:
    # Floor points 0 and 6 exchanged: the fit to the contradicting pairs puts three image
    # points in its sky, where they have no floor position at all.
    floor = list(FLOOR)
    floor[0], floor[6] = floor[6], floor[0]
    points = reprojection_errors(Homography(image_points=IMAGE, floor_points=floor))
    beyond = [p.index for p in points if p.fitted is None]
    assert beyond == [0, 3, 6]
    assert all(points[i].error_m == float("inf") for i in beyond)
    warnings = check_camera(camera(IMAGE, floor)).warnings
    for i in beyond:
        assert f"camera cam-a: calibration point {i} lands beyond the horizon of the fit" in "\n".join(warnings)


@pytest.mark.parametrize(
    ("image", "floor", "frame", "area", "warning"),
    [
        # 1 px = 1 cm: an 8 m x 6 m view.
        pytest.param(
            [(0, 0), (800, 0), (800, 600), (0, 600), (400, 300)],
            [(0, 0), (8, 0), (8, 6), (0, 6), (4, 3)],
            (800, 600),
            48.0,
            None,
            id="1cm-per-px",
        ),
        # 1 px = 1 mm (floor points entered 10 times too small): a postage stamp.
        pytest.param(
            [(0, 0), (800, 0), (800, 600), (0, 600), (400, 300)],
            [(0, 0), (0.8, 0), (0.8, 0.6), (0, 0.6), (0.4, 0.3)],
            (800, 600),
            0.48,
            "covers only 0.5 m² of floor (expected at least 4 m²)",
            id="tiny",
        ),
        # Floor points typed in centimetres: 100 x 100 times the area.
        pytest.param(
            [(0, 0), (800, 0), (800, 600), (0, 600), (400, 300)],
            [(0, 0), (800, 0), (800, 600), (0, 600), (400, 300)],
            (800, 600),
            480_000.0,
            "covers 480000 m² of floor (expected at most 10000 m²)",
            id="centimetres",
        ),
    ],
)
def test_covered_floor_area(
    image: list[Any], floor: list[Any], frame: tuple[int, int], area: float, warning: str | None
) -> None:
    check = check_camera(camera(image, floor), frame)
    assert check.coverage is not None
    assert check.coverage.area_m2 == pytest.approx(area, rel=1e-6)
    assert check.coverage.above_horizon == 0.0
    area_warnings = [w for w in check.warnings if "of floor" in w]
    assert len(area_warnings) == (warning is not None)
    if warning is not None:
        assert warning in area_warnings[0]


def test_oblique_view_area_matches_the_floor_quadrilateral() -> None:
    # With no horizon in the frame the covered floor is the quadrilateral of the frame's corners.
    mapper = FloorMapper.for_camera(camera(IMAGE, FLOOR))
    assert mapper is not None
    x, y = mapper.to_floor(np.array([[0.0, 0.0], [640.0, 0.0], [640.0, 480.0], [0.0, 480.0]])).T
    shoelace = 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
    cover = coverage(mapper, (640, 480), window_of(camera(IMAGE, FLOOR)))
    assert cover.area_m2 == pytest.approx(shoelace, rel=1e-3)


@pytest.mark.parametrize(
    ("crop", "frame", "above", "in_frame"),
    [
        pytest.param(None, (100, 200), 1 / 6, True, id="horizon-in-frame"),
        # The crop starts below the horizon: every pixel has a floor position.
        pytest.param((0, 50, 100, 200), (100, 150), 0.0, False, id="cropped-below-horizon"),
    ],
)
def test_horizon_clips_grid_and_warns(
    crop: tuple[int, int, int, int] | None, frame: tuple[int, int], above: float, in_frame: bool
) -> None:
    cam = camera(HORIZON_IMAGE, HORIZON_FLOOR, crop)
    check = check_camera(cam, frame)
    assert check.coverage is not None
    assert check.coverage.above_horizon == pytest.approx(above, abs=0.005)
    # Bounded though the floor runs to the horizon: only RANGE_M beyond the calibration points count.
    assert 0 < check.coverage.area_m2 < MAX_AREA_M2
    horizon_warnings = [w for w in check.warnings if "horizon crosses the frame" in w]
    assert len(horizon_warnings) == int(in_frame)
    if in_frame:
        assert horizon_warnings[0].startswith("camera cam-a: the horizon crosses the frame: 17% of it shows no floor")
    mapper = FloorMapper.for_camera(cam)
    assert mapper is not None
    sky = horizon(mapper, frame)
    if in_frame:
        assert sky is not None
        np.testing.assert_allclose(sorted(sky), [(0, HORIZON_Y), (100, HORIZON_Y)], atol=1e-6)
    else:
        assert sky is None
    offset = crop[1] if crop else 0
    grid = grid_segments(mapper, frame, window_of(cam))
    assert len(grid) > 20
    ends = np.array([p for seg in grid for p in (seg.start, seg.end)])
    # Nothing above the horizon, nothing off the frame.
    assert ends[:, 1].min() >= HORIZON_Y - offset - 1e-6
    assert (ends >= -1e-6).all() and (ends[:, 0] <= frame[0] + 1e-6).all() and (ends[:, 1] <= frame[1] + 1e-6).all()
    # Every segment is a piece of a 1 m grid line: its floor ends share x or y, a whole number.
    floor = mapper.to_floor(ends).reshape(-1, 2, 2)
    shared_coordinate = np.where(np.isclose(floor[:, 0, 0], floor[:, 1, 0], atol=1e-6), floor[:, 0, 0], floor[:, 0, 1])
    np.testing.assert_allclose(shared_coordinate, np.round(shared_coordinate), atol=1e-6)


def test_grid_marks_every_fifth_line() -> None:
    cam = camera(IMAGE, FLOOR)
    mapper = FloorMapper.for_camera(cam)
    assert mapper is not None
    grid = grid_segments(mapper, (640, 480), window_of(cam))
    majors = [s for s in grid if s.major]
    assert 0 < len(majors) < len(grid) / 3
    for seg in majors:
        (a, b) = mapper.to_floor(np.array([seg.start, seg.end]))
        constant = a[0] if abs(a[0] - b[0]) < 1e-6 else a[1]
        assert round(constant) % 5 == 0


@pytest.mark.parametrize(
    ("start", "end", "seen"),
    [
        pytest.param((5, 0), (5, 50), True, id="in-front"),
        # Runs from the floor in view back under and behind the camera: cut where it leaves the view.
        pytest.param((5, 10), (5, -500), True, id="crosses-camera-plane"),
        pytest.param((5, -200), (5, -500), False, id="behind-camera"),
    ],
)
def test_floor_segments_are_cut_at_horizon_and_frame(start: Any, end: Any, seen: bool) -> None:
    mapper = FloorMapper.for_camera(camera(HORIZON_IMAGE, HORIZON_FLOOR))
    assert mapper is not None
    (segment,) = project_segments(mapper, [start], [end], (100, 200))
    assert (segment is not None) is seen
    if segment is not None:
        pts = np.array(segment)
        assert (pts[:, 1] >= HORIZON_Y).all() and (pts >= 0).all() and (pts[:, 1] <= 200).all()
        # The image segment maps back onto the floor line x = 5.
        np.testing.assert_allclose(mapper.to_floor(pts)[:, 0], 5.0, atol=1e-6)


def test_to_image_inverts_to_floor() -> None:
    mapper = FloorMapper.for_camera(camera(HORIZON_IMAGE, HORIZON_FLOOR))
    assert mapper is not None
    image = np.array([[10.0, 190.0], [60.0, 80.0]])
    np.testing.assert_allclose(to_image(mapper, mapper.to_floor(image)), image, atol=1e-9)
    # Floor behind the camera has no image position.
    assert np.isnan(to_image(mapper, np.array([[5.0, -500.0]]))).all()


def test_points_measured_on_another_resolution_are_named() -> None:
    # Image points of a 1280x960 frame against a 640x480 stream.
    image = [(2 * x, 2 * y) for x, y in IMAGE]
    warnings = check_camera(camera(image, FLOOR), (640, 480)).warnings
    outside = [w for w in warnings if "outside the 640x480 frame" in w]
    assert [w.split("calibration point ")[1].split(" ")[0] for w in outside] == ["0", "1", "2", "3", "4", "7"]
    assert "camera cam-a: calibration point 0 at (80, 880) px lies outside" in outside[0]


def test_example_sites_are_clean() -> None:
    for name, frames in (
        ("pets09.yaml", {"cam-main": (768, 576)}),
        ("pets09-split.yaml", {"cam-left": (360, 576), "cam-right": (348, 576)}),
    ):
        site = load_site_config(EXAMPLES / name)
        for cam_id, frame in frames.items():
            check = check_camera(site.camera(cam_id), frame)
            assert check.warnings == []
            assert check.max_error_m < 0.001
            assert check.coverage is not None and 400 < check.coverage.area_m2 < 1500


def _mapper() -> FloorMapper:
    mapper = FloorMapper.for_camera(camera(IMAGE, FLOOR))
    assert mapper is not None
    return mapper


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(
            lambda: check_camera(Camera(id="cam-b", source="b.mp4", floor="f")),
            "camera 'cam-b' has no homography",
            id="no-homography",
        ),
        pytest.param(
            lambda: check_camera(camera(IMAGE, FLOOR), (0, 480)),
            "frame size must be positive width x height in pixels, got 0x480",
            id="empty-frame",
        ),
        pytest.param(
            lambda: coverage(_mapper(), (640, 480), (0, 0, 1, 1), samples=0), "samples must be >= 1", id="no-samples"
        ),
        pytest.param(
            lambda: grid_segments(_mapper(), (640, 480), (0, 0, 10, 10), spacing_m=0),
            "grid spacing must be > 0 m",
            id="zero-spacing",
        ),
        pytest.param(
            lambda: grid_segments(_mapper(), (640, 480), (10, 0, 0, 10)),
            "window must be (xmin, ymin, xmax, ymax)",
            id="inverted-window",
        ),
        pytest.param(
            lambda: floor_window(Homography(image_points=IMAGE, floor_points=FLOOR), range_m=-1),
            "range_m must be > 0",
            id="negative-range",
        ),
        pytest.param(lambda: horizon(_mapper(), (640, -1)), "frame size must be positive", id="negative-frame"),
    ],
)
def test_bad_inputs_give_clear_errors(call: Any, message: str) -> None:
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)
