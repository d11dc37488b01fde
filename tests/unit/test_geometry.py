"""Geometry primitives and the example site's homography against PETS09 ground truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shared.config import Homography, load_site_config
from shared.geometry import FloorMapper, fit_homography, point_in_polygon, side_of_line

EXAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "examples"


@pytest.mark.parametrize(
    ("point", "sign"),
    [((5, 10), 1), ((5, -10), -1), ((5, 0), 0)],
)
def test_side_of_line_follows_the_direction_rule(point: tuple[float, float], sign: int) -> None:
    # P1=(0,0) → P2=(10,0): (P2−P1)×(X−P1) = 10*y, positive below the line in image coordinates.
    d = side_of_line(np.array([point], dtype=float), (0, 0), (10, 0))
    assert np.sign(d[0]) == sign
    assert abs(d[0]) == pytest.approx(abs(point[1]))


@pytest.mark.parametrize(
    ("point", "inside"),
    [((5, 5), True), ((15, 5), False), ((9.9, 0.1), True), ((-1, -1), False)],
)
def test_point_in_polygon(point: tuple[float, float], inside: bool) -> None:
    square = [(0, 0), (10, 0), (10, 10), (0, 10)]
    assert point_in_polygon(np.array([point], dtype=float), square)[0] == inside


def test_homography_fit_and_crop_offset() -> None:
    img = [(0, 0), (100, 0), (100, 100), (0, 100)]
    floor = [(0, 0), (10, 0), (10, 10), (0, 10)]
    h = fit_homography(img, floor)
    full = FloorMapper(h)
    cropped = FloorMapper(h, offset=(50, 0))
    np.testing.assert_allclose(full.to_floor(np.array([[50.0, 50.0]])), [[5.0, 5.0]], atol=1e-9)
    # Pixel (0, 50) of a crop starting at x=50 is pixel (50, 50) of the full frame.
    np.testing.assert_allclose(cropped.to_floor(np.array([[0.0, 50.0]])), [[5.0, 5.0]], atol=1e-9)
    with pytest.raises(ValueError, match="at least 4"):
        fit_homography(img[:3], floor[:3])


@pytest.mark.parametrize(("y", "on_floor"), [(0.0, True), (-60.0, True), (-66.7, False), (-80.0, False)])
def test_points_beyond_the_horizon_have_no_floor_position(y: float, on_floor: bool) -> None:
    # Looking across the floor: the image row y = -66.7 is the horizon.
    homography = Homography(
        image_points=[(0, 100), (100, 100), (30, 0), (70, 0)], floor_points=[(0, 0), (10, 0), (0, 50), (10, 50)]
    )
    floor = FloorMapper.from_config(homography).to_floor(np.array([[50.0, y]]))
    assert bool(np.isfinite(floor).all()) is on_floor


def test_pets09_homography_matches_ground_truth_world_coordinates(pets09_gt: Path) -> None:
    gt = np.loadtxt(pets09_gt, delimiter=",")
    feet = np.c_[gt[:, 2] + gt[:, 4] / 2, gt[:, 3] + gt[:, 5]]
    camera = load_site_config(EXAMPLES / "pets09.yaml").camera("cam-main")
    assert camera.homography is not None
    err = np.linalg.norm(FloorMapper.from_config(camera.homography).to_floor(feet) - gt[:, 7:9], axis=1)
    # Measured 0.027 m median, 0.057 m p90 on all 4650 GT boxes.
    assert np.median(err) < 0.05
    assert np.percentile(err, 90) < 0.1
