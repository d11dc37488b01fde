"""The CPU edge pipeline on PETS09-S2L1 (vtest.avi) against its ground truth.

One pass of the real pipeline (OpenCV decode → the default detector profile → BoT-SORT + scheduled OSNet →
line counters, zone monitor, floor mapping), judged by the code behind `mallflow eval
sequence`, feeds every test here. Floors sit a little below what was measured (numbers in
BENCHMARKS.md) so that noise in thread scheduling does not flake, while a real regression fails.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support.pets09_geometry import lines_config, zones_config

from edge.analytics.events import Direction
from edge.evaluation.count_errors import Cause, count_differences
from edge.evaluation.mot import MotSequence
from edge.evaluation.placements import with_random_shapes
from edge.evaluation.sequence import SequenceReport, SequenceRun, evaluate_sequence, run_sequence
from shared.config import SiteConfig, load_site_config

EXAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "examples"

# Measured 2026-12-04 on this machine class with the default (pedestrian) profile, default
# tracker and line settings (dead_band_height 0.05, SteadyFeet foot points), over every line and zone of
# tests/support/pets09_geometry.py, references from the ground truth's walked paths:
# MOTA 85.3, IDF1 89.3, HOTA 61.5, count accuracy 0.958 (0.963 against plain geometry),
# zone person-seconds -1.2 %, visits +8.5 % (tests/bench/tracker_sweep.py "base"; BENCHMARKS.md).
# 2026-12-05: zone exit grace 3 s (as long as the tracker keeps a lost person): person-seconds
# +0.2 %, visits +1.0 % (grace 2-4 s all within 2 %).
# 2026-12-05: line handover window 2 s (was 1 s): count accuracy 0.962 (10 differences of 262;
# a person hidden 1.4 s while crossing is now counted), tracking and zones unchanged.
# 2026-12-06: pets09.yaml declares the camera's coverage (the plaza up to x 5.5 m, y 7.5 m,
# where the ground truth annotates people): MOTA 89.7, IDF1 91.2, HOTA 63.2 (85.3 / 89.3 /
# 61.5 without), count accuracy 0.958 (11 of 262), zones +0.1 % person-seconds, +0.0 % visits.
# 2026-12-07: the pedestrian model's foot margin (0.03 of the box height) and SteadyFeet's
# tolerance 0.12: MOTA 89.9, IDF1 91.3, HOTA 63.3, count accuracy 0.966 (9 of 262), zones
# +2.5 % person-seconds (worst zone +6.1 %), +0.0 % visits (worst +8.3 %); floor error
# mean 0.18 m, median 0.15 m, p90 0.33 m over 4 265 boxes (0.26 / 0.23 / 0.46 before).
# 2026-12-07: 200 lines and 100 zones thrown at random over the frame (edge/evaluation/placements.py,
# seed 0; 3 050 reference crossings, 1 275 visits): count accuracy 0.946 (0.943 against plain
# geometry); zones +0.5 % person-seconds and -1.3 % visits summed, 2.0 % and 4.2 % summing each
# zone's absolute error (tracker_sweep.py --placements 200,100 gives the same; seeds 1 and 2: 0.962, 0.955).
# 2026-12-07, later: tracker proximity_thresh 0.9 and second_match_thresh 0.3 (for thinned frames
# and people at half the size): MOTA 90.0, IDF1 91.4, HOTA 63.4; counts and zones as above.
EXTRA = {Cause.UNANNOTATED, Cause.WRONG_PERSON}
FLOORS = {"mota": 88.5, "idf1": 90.0, "hota": 62.0}
COUNT_ACCURACY_FLOOR = 0.955
PERSON_SECONDS_TOLERANCE_PCT = 4.0
VISITS_TOLERANCE_PCT = 5.0
PLACED_LINES, PLACED_ZONES = 200, 100
PLACED_COUNT_ACCURACY_FLOOR = 0.93


@pytest.fixture(scope="module")
def site(vtest_video: Path) -> SiteConfig:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MALLFLOW_DATA_DIR", str(vtest_video.parent))
        site = load_site_config(EXAMPLES / "pets09.yaml")
    raw = site.model_dump()
    raw["lines"] = lines_config("cam-main", settle_s=0.25)
    raw["zones"] = zones_config("cam-main", enter_s=0.1)
    return SiteConfig.model_validate(raw)


@pytest.fixture(scope="module")
def shapes(site: SiteConfig) -> tuple[SiteConfig, SiteConfig]:
    """(the site plus lines and zones thrown at random over the frame, the site with only those)."""
    return with_random_shapes(site, "cam-main", (768, 576), PLACED_LINES, PLACED_ZONES)


@pytest.fixture(scope="module")
def run(shapes: tuple[SiteConfig, SiteConfig]) -> SequenceRun:
    # One pass counts on both sets of shapes; each report judges its own.
    return run_sequence(shapes[0], "cam-main")


@pytest.fixture(scope="module")
def report(run: SequenceRun, pets09_gt: Path, site: SiteConfig) -> SequenceReport:
    return evaluate_sequence(run, MotSequence.load(pets09_gt), site, "cam-main", gt_fps=7.0)


@pytest.fixture(scope="module")
def placed_report(
    run: SequenceRun, pets09_gt: Path, shapes: tuple[SiteConfig, SiteConfig], report: SequenceReport
) -> SequenceReport:
    return evaluate_sequence(run, MotSequence.load(pets09_gt), shapes[1], "cam-main", gt_fps=7.0, scored=report)


@pytest.mark.parametrize("metric", sorted(FLOORS))
def test_tracking_accuracy_floor(report: SequenceReport, metric: str) -> None:
    assert getattr(report.tracking, metric) >= FLOORS[metric], report.tracking


def test_every_frame_is_tracked(run: SequenceRun) -> None:
    assert run.frames == 795
    assert len(np.unique(run.mot.frame)) >= 790


def test_line_counts_agree_with_ground_truth(report: SequenceReport) -> None:
    # Every direction of every line: the reference is the ground-truth tracks through the
    # same debounce, so what differs is what the detector and tracker got wrong.
    assert report.count_accuracy is not None and report.count_accuracy >= COUNT_ACCURACY_FLOOR, report.lines
    for line in report.lines:
        for direction, reference in line.reference.items():
            assert abs(line.predicted[direction] - reference) <= max(2, round(0.2 * reference)), line


def test_zone_person_seconds_and_visits_agree_with_ground_truth(report: SequenceReport) -> None:
    person_seconds, visits = report.zones_person_seconds_error_pct, report.zones_visits_error_pct
    assert person_seconds is not None and abs(person_seconds) <= PERSON_SECONDS_TOLERANCE_PCT, report.zones
    assert visits is not None and abs(visits) <= VISITS_TOLERANCE_PCT, report.zones


def test_counts_and_dwell_hold_wherever_the_shapes_are_drawn(placed_report: SequenceReport) -> None:
    # 200 lines and 100 zones at random (seed 0): most cross no walking path, some run along one.
    report = placed_report
    assert report.count_accuracy is not None and report.count_accuracy >= PLACED_COUNT_ACCURACY_FLOOR, report.lines
    geometric = report.geometric_count_accuracy
    assert geometric is not None and geometric >= PLACED_COUNT_ACCURACY_FLOOR, report.lines
    person_seconds, visits = report.zones_person_seconds_abs_error_pct, report.zones_visits_abs_error_pct
    assert person_seconds is not None and person_seconds <= PERSON_SECONDS_TOLERANCE_PCT, report.zones
    assert visits is not None and visits <= VISITS_TOLERANCE_PCT, report.zones


def test_floor_positions_agree_with_world_coordinates(report: SequenceReport) -> None:
    # Measured 2026-12-07: 4 265 matched boxes, mean 0.18 m, median 0.15 m, p90 0.33 m.
    floor = report.floor
    assert floor.matched >= 4000 and floor.median_m is not None and floor.p90_m is not None
    assert floor.median_m <= 0.18 and floor.p90_m <= 0.4, floor


def test_count_differences_are_named_by_their_trajectories(
    run: SequenceRun, pets09_gt: Path, site: SiteConfig, report: SequenceReport
) -> None:
    """Every line's count error, one crossing at a time, with the track or person behind it (printed for the notes)."""
    gt = MotSequence.load(pets09_gt)
    for line in site.lines:
        differences = count_differences(run, gt, line, fps=7.0, camera=site.camera("cam-main"))
        accuracy = next(a for a in report.lines if a.line_id == line.id)
        for direction in Direction:
            mine = [d for d in differences if d.direction is direction]
            extra = sum(d.cause in EXTRA for d in mine)
            assert extra - (len(mine) - extra) == accuracy.error[direction.value], (line.id, mine)
        for d in differences:
            print(
                f"{line.id} {d.direction.value} frame {d.frame}: {d.cause.value} (track {d.track_id}, person {d.person})"
            )
            # Only a track on nobody the ground truth annotates has no person to name.
            assert d.person is not None or d.cause is Cause.UNANNOTATED, d
