"""CameraAnalytics from the PETS09 example sites: floor projection (crops included) and wiring."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support.soles import boxes_at_the_soles

from edge.analytics import (
    CameraAnalytics,
    Direction,
    LineCounter,
    LineCrossingEvent,
    ZoneEvent,
    ZoneEventKind,
    ZoneMonitor,
)
from edge.analytics.coverage import CoverageArea
from edge.detections import Detections
from edge.evaluation.mot import MotSequence
from shared.config import Line, SiteConfig, Space, Zone, load_site_config, parse_site_config
from shared.config.coverage import Coverage
from shared.geometry import FloorMapper, side_of_line

EXAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "examples"


def site(name: str) -> SiteConfig:
    """An example site, fed annotated boxes (which end at the soles) in these tests."""
    return boxes_at_the_soles(load_site_config(EXAMPLES / name))


def gt_detections(gt: MotSequence, crop: tuple[int, int, int, int] | None) -> tuple[Detections, np.ndarray]:
    """All GT boxes whose foot point the camera sees, in its (crop) pixels, with their world x, y."""
    seen = gt if crop is None else gt.in_crop(crop)
    n = len(seen)
    dets = Detections(
        xyxy=seen.xyxy().astype(np.float32),
        confidence=np.ones(n, dtype=np.float32),
        class_id=np.zeros(n, dtype=np.int32),
        tracker_id=np.arange(n, dtype=np.int64),
    )
    return dets, seen.world


@pytest.mark.parametrize(
    ("config", "camera_id", "min_points"),
    [
        ("pets09.yaml", "cam-main", 4000),
        ("pets09-split.yaml", "cam-left", 1000),
        ("pets09-split.yaml", "cam-right", 1000),
    ],
)
def test_floor_projection_matches_gt_world(pets09_gt: Path, config: str, camera_id: str, min_points: int) -> None:
    cfg = site(config)
    analytics = CameraAnalytics.from_config(cfg, camera_id)
    dets, world = gt_detections(MotSequence.load(pets09_gt), cfg.camera(camera_id).crop)
    facts = analytics.update(dets, 0)
    # Ids are row numbers: the rows the camera's coverage kept.
    kept = facts.detections.tracker_id
    error = np.hypot(*(facts.floor_points - world[kept]).T)
    print(f"{config} {camera_id}: {len(error)} GT foot points, median floor error {np.median(error):.3f} m")
    assert len(error) >= min_points
    assert facts.floor_points.shape == (len(kept), 2)
    assert np.median(error) < 0.1


def test_coverage_leaves_out_the_people_beyond_it(pets09_gt: Path) -> None:
    """pets09.yaml covers the plaza up to x 5.5 m, y 7.5 m: the back of the plaza is tracked, not reported."""
    analytics = CameraAnalytics.from_config(site("pets09.yaml"), "cam-main")
    dets, world = gt_detections(MotSequence.load(pets09_gt), None)
    facts = analytics.update(dets, 0)
    kept = set(facts.detections.tracker_id.tolist())
    left_out = set(range(len(dets))) - kept
    assert facts.outside_track_ids == left_out and 50 <= len(left_out) <= 500
    # Up to the homography's error (a few centimetres) the split follows the floor box.
    margin = 0.2
    beyond = (world[:, 0] > 5.5 + margin) | (world[:, 1] > 7.5 + margin)
    within = (world[:, 0] < 5.5 - margin) & (world[:, 1] < 7.5 - margin)
    assert set(np.flatnonzero(beyond).tolist()) <= left_out
    assert set(np.flatnonzero(within).tolist()) <= kept
    assert len(facts.foot_points) == len(facts.floor_points) == len(kept)


BOX = [(0.0, 0.0), (100.0, 0.0), (100.0, 100.0), (0.0, 100.0)]


@pytest.mark.parametrize(
    ("space", "feet", "expected_kept"),
    [
        pytest.param("image", [(50, 50), (150, 50), (99, 99)], [0, 2], id="image-space"),
        pytest.param("image", [(150, 50), (-1, 50)], [], id="nobody-inside"),
        pytest.param("image", [(10, 10), (20, 20)], [0, 1], id="everybody-inside"),
        # A box cut by the frame's bottom ends on it, where the coverage's edge is drawn.
        pytest.param("image", [(50, 100), (100, 30), (0, 0), (50, 100.5)], [0, 1, 2], id="on-the-edge-is-inside"),
        # The floor map below halves pixels into metres: (150, 50) px stands at (75, 25) m.
        pytest.param("floor", [(150, 50), (250, 50)], [0], id="floor-space"),
    ],
)
def test_coverage_by_foot_point(space: str, feet: list[tuple[float, float]], expected_kept: list[int]) -> None:
    raw = {
        "site": {"id": "s"},
        "floors": [{"id": "f"}],
        "cameras": [
            {
                "id": "cam",
                "source": "x.avi",
                "floor": "f",
                "homography": {
                    "image_points": [[0, 0], [200, 0], [200, 200], [0, 200]],
                    "floor_points": [[0, 0], [100, 0], [100, 100], [0, 100]],
                },
                "coverage": {"space": space, "polygon": BOX},
            }
        ],
    }
    analytics = CameraAnalytics.from_config(boxes_at_the_soles(SiteConfig.model_validate(raw)), "cam")
    xyxy = np.array([[x - 5, y - 40, x + 5, y] for x, y in feet], dtype=np.float32)
    dets = Detections(
        xyxy=xyxy,
        confidence=np.ones(len(feet), dtype=np.float32),
        class_id=np.zeros(len(feet), dtype=np.int32),
        tracker_id=np.arange(10, 10 + len(feet), dtype=np.int64),
    )
    facts = analytics.update(dets, 0)
    assert facts.detections.tracker_id.tolist() == [10 + i for i in expected_kept]
    assert facts.outside_track_ids == {10 + i for i in range(len(feet))} - {10 + i for i in expected_kept}


def test_floor_coverage_needs_a_floor_map() -> None:
    coverage = CoverageArea(Coverage(space=Space.FLOOR, polygon=BOX))
    with pytest.raises(ValueError, match="coverage of camera 'cam' is drawn in floor space but it has no floor map"):
        CameraAnalytics("cam", None, [], [], coverage=coverage)


@pytest.mark.parametrize(
    ("site_detector", "camera_detector", "margin"),
    [
        ("pedestrian", None, 0.03),
        ("coco", None, 0.0),
        ("pedestrian", "coco", 0.0),
        ("coco", {"preset": "pedestrian", "foot_margin": 0.05}, 0.05),
    ],
)
def test_feet_take_off_the_camera_detectors_margin(site_detector: str, camera_detector: object, margin: float) -> None:
    raw = load_site_config(EXAMPLES / "pets09.yaml").model_dump()
    raw["detector"] = site_detector
    raw["cameras"][0]["detector"] = camera_detector
    analytics = CameraAnalytics.from_config(SiteConfig.model_validate(raw), "cam-main")
    assert analytics.feet.foot_margin == pytest.approx(margin)
    box = Detections(
        xyxy=np.array([[100, 100, 140, 200]], dtype=np.float32),
        confidence=np.ones(1, dtype=np.float32),
        class_id=np.zeros(1, dtype=np.int32),
        tracker_id=np.array([1]),
    )
    assert analytics.update(box, 0).foot_points[0].tolist() == pytest.approx([120, 200 - 100 * margin])


def test_from_config_builds_the_cameras_lines_and_zones() -> None:
    cfg = site("pets09-split.yaml")
    left = CameraAnalytics.from_config(cfg, "cam-left")
    right = CameraAnalytics.from_config(cfg, "cam-right")
    assert ([c.line.id for c in left.lines], [m.zone.id for m in left.zones]) == (["left-exit"], ["left-centre"])
    assert ([c.line.id for c in right.lines], [m.zone.id for m in right.zones]) == (["right-lower"], ["right-centre"])
    # The right crop starts at x=420: its pixel (0, y) is the full frame's (420, y).
    full = CameraAnalytics.from_config(site("pets09.yaml"), "cam-main")
    assert full.mapper is not None and right.mapper is not None
    np.testing.assert_allclose(
        right.mapper.to_floor(np.array([[0.0, 400.0]])), full.mapper.to_floor(np.array([[420.0, 400.0]]))
    )


def test_unknown_camera() -> None:
    with pytest.raises(KeyError, match="no camera 'nope'"):
        CameraAnalytics.from_config(site("pets09.yaml"), "nope")


def _one_camera_site(**camera: object) -> SiteConfig:
    return parse_site_config(
        {
            "site": {"id": "s"},
            "floors": [{"id": "f"}],
            "cameras": [{"id": "cam", "source": "0", "floor": "f", **camera}],
        }
    )


def test_uncalibrated_camera_gives_nan_floor_points() -> None:
    analytics = CameraAnalytics.from_config(_one_camera_site(), "cam")
    dets = Detections.from_array(np.array([[0, 0, 10, 20, 0.9, 0], [5, 5, 15, 25, 0.8, 0]]))
    facts = analytics.update(dets, 0)
    assert analytics.mapper is None
    assert facts.floor_points.shape == (2, 2) and np.isnan(facts.floor_points).all()
    assert (facts.line_events, facts.zone_events) == ([], [])


def test_floor_space_items_need_a_mapper() -> None:
    floor_line = Line(id="l", camera="cam", space=Space.FLOOR, points=((0.0, 0.0), (1.0, 0.0)))
    with pytest.raises(ValueError, match="line 'l' is drawn in floor space but camera 'cam' has no floor mapping"):
        CameraAnalytics("cam", None, [LineCounter(floor_line)], [])
    other = Zone(id="z", camera="other", polygon=[(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)])
    with pytest.raises(ValueError, match="zone 'z' belongs to camera 'other', not 'cam'"):
        CameraAnalytics("cam", None, [], [ZoneMonitor(other)])


def test_floor_and_image_spaces_are_routed(pets09_gt: Path) -> None:
    """The same line and zone drawn in image and in floor space count the same GT tracks alike.

    A homography maps straight lines to straight lines, so the image segment's floor image is
    a segment that every GT step crosses exactly when it crosses the original — up to which
    side is `in`, which a mirroring homography swaps.
    """
    base = site("pets09.yaml")
    homography = base.camera("cam-main").homography
    assert homography is not None
    mapper = FloorMapper.from_config(homography)
    image_line = next(ln for ln in base.lines if ln.id == "mid-vertical").model_copy(update={"settle_s": 0.0})
    image_zone = base.zones[0]
    floor_ends = mapper.to_floor(np.array(image_line.points))
    floor_line = image_line.model_copy(
        update={"id": "mid-floor", "space": Space.FLOOR, "points": tuple(map(tuple, floor_ends))}
    )
    floor_zone = image_zone.model_copy(
        update={
            "id": "centre-floor",
            "space": Space.FLOOR,
            "polygon": [tuple(p) for p in mapper.to_floor(np.array(image_zone.polygon))],
        }
    )
    cfg = base.model_copy(update={"lines": [image_line, floor_line], "zones": [image_zone, floor_zone]})
    analytics = CameraAnalytics.from_config(cfg, "cam-main")

    gt = MotSequence.load(pets09_gt)
    line_events: list[LineCrossingEvent] = []
    zone_events: list[ZoneEvent] = []
    for frame, dets in gt.detections():
        facts = analytics.update(dets, frame * 10**8)
        line_events += facts.line_events
        zone_events += facts.zone_events
    end = analytics.close(10**12)
    line_events += end.line_events
    zone_events += end.zone_events

    image_counts, floor_counts = analytics.lines[0].counts, analytics.lines[1].counts
    probe = mapper.to_floor(np.array([[500.0, 300.0]]))  # right of the image line: its `in` side
    if side_of_line(probe, *floor_line.points)[0] < 0:  # the homography mirrors
        floor_counts = {Direction.IN: floor_counts[Direction.OUT], Direction.OUT: floor_counts[Direction.IN]}
    assert image_counts == floor_counts and sum(image_counts.values()) > 10
    assert all(e.floor_point is not None for e in line_events)
    assert all(e.floor_point is not None for e in zone_events)
    visits = {
        zone_id: sorted(
            (e.track_id, e.entered_time_ns, e.time_ns)
            for e in zone_events
            if e.zone_id == zone_id and e.kind is ZoneEventKind.EXIT
        )
        for zone_id in ("centre", "centre-floor")
    }
    assert visits["centre"] == visits["centre-floor"] and len(visits["centre"]) > 10
