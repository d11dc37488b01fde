"""Random lines and zones (`eval sequence --random-shapes`, the tracker sweep): valid, inside the frame, repeatable."""

from __future__ import annotations

import numpy as np
import pytest
from support.pets09_geometry import lines_config, zones_config

from edge.evaluation.placements import MIN_LINE_SHARE, random_lines, random_zones, with_random_shapes
from shared.config.site import Line, SiteConfig, Zone


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


def _site(line_ids: list[str]) -> SiteConfig:
    return SiteConfig.model_validate(
        {
            "site": {"id": "s"},
            "floors": [{"id": "f1"}],
            "cameras": [{"id": "cam", "source": "v.avi", "floor": "f1"}],
            "lines": [{"id": i, "camera": "cam", "points": ((0, 0), (10, 10))} for i in line_ids],
        }
    )


def test_random_shapes_join_the_site_and_stand_alone() -> None:
    both, only = with_random_shapes(_site(["door"]), "cam", (640, 480), lines=4, zones=3, seed=1)
    assert [line.id for line in both.lines] == ["door", *random_lines(4, 640, 480, 1)]
    assert [line.id for line in only.lines] == list(random_lines(4, 640, 480, 1))
    assert [zone.id for zone in both.zones] == [zone.id for zone in only.zones] == list(random_zones(3, 640, 480, 1))
    assert {shape.camera for shape in (*both.lines, *both.zones)} == {"cam"}


def test_random_shapes_never_take_a_sites_name() -> None:
    with pytest.raises(ValueError, match=r"already has shapes named \['random-line-001'\]"):
        with_random_shapes(_site(["random-line-001"]), "cam", (640, 480), lines=4, zones=0)
