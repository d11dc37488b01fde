"""The random lines and zones the tracker sweep judges settings on: valid, inside the frame, repeatable."""

from __future__ import annotations

import numpy as np
import pytest
from support.pets09_geometry import lines_config, zones_config
from support.placements import MIN_LINE_SHARE, random_lines, random_zones

from shared.config.site import Line, Zone


@pytest.mark.parametrize(("width", "height", "seed"), [(768, 576, 0), (768, 576, 7), (1920, 1080, 3), (360, 576, 1)])
def test_shapes_fit_the_frame_and_load_as_site_shapes(width: int, height: int, seed: int) -> None:
    lines, zones = random_lines(50, width, height, seed), random_zones(30, width, height, seed)
    assert len(lines) == 50 and len(zones) == 30
    for raw in lines_config("cam", lines):
        line = Line.model_validate(raw)
        (x1, y1), (x2, y2) = line.points
        assert np.hypot(x2 - x1, y2 - y1) >= MIN_LINE_SHARE * np.hypot(width, height)
        assert all(0 <= x <= width and 0 <= y <= height for x, y in line.points)
    for raw in zones_config("cam", zones):
        zone = Zone.model_validate(raw)
        assert all(0 <= x <= width and 0 <= y <= height for x, y in zone.polygon)


def test_same_seed_same_shapes_other_seed_other_shapes() -> None:
    assert random_lines(10, 768, 576, 5) == random_lines(10, 768, 576, 5)
    assert random_zones(10, 768, 576, 5) == random_zones(10, 768, 576, 5)
    assert random_lines(10, 768, 576, 5) != random_lines(10, 768, 576, 6)


@pytest.mark.parametrize(("count", "width", "height"), [(-1, 768, 576), (5, 0, 576), (5, 768, -2)])
def test_bad_sizes_are_refused(count: int, width: int, height: int) -> None:
    with pytest.raises(ValueError, match="need count >= 0"):
        random_lines(count, width, height)
    with pytest.raises(ValueError, match="need count >= 0"):
        random_zones(count, width, height)
