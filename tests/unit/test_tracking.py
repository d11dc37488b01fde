"""Tracking: ReID scheduling, appearance aggregation, the detection gate and the BoT-SORT wrapper."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError
from support.scenes import crossing_people

from edge.detections import Detections
from edge.inference.factory import create_embedder
from edge.tracking.appearance import TrackAppearance
from edge.tracking.botsort import BotSortTracker, visibility
from edge.tracking.gate import DetectionGate
from edge.tracking.reid_schedule import ReidSchedule, iou_matrix
from shared.config.site import Tracking


def boxes(*rows: tuple[float, float, float, float]) -> np.ndarray:
    return np.array(rows, dtype=np.float32).reshape(-1, 4)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (boxes((0, 0, 10, 10)), boxes((0, 0, 10, 10)), [[1.0]]),
        (boxes((0, 0, 10, 10)), boxes((5, 0, 15, 10)), [[50 / 150]]),
        (boxes((0, 0, 10, 10)), boxes((20, 20, 30, 30)), [[0.0]]),
        (boxes(), boxes((0, 0, 1, 1)), np.zeros((0, 1))),
    ],
)
def test_iou_matrix(a: np.ndarray, b: np.ndarray, expected: list[list[float]]) -> None:
    np.testing.assert_allclose(iou_matrix(a, b), np.asarray(expected), atol=1e-6)


class TestReidSchedule:
    def test_new_boxes_need_fresh_embeddings(self) -> None:
        fresh, borrow = ReidSchedule().plan(boxes((0, 0, 10, 30), (50, 0, 60, 30)), boxes(), np.zeros(0, np.int64))
        assert fresh.tolist() == [True, True] and borrow.tolist() == [-1, -1]

    def test_isolated_continuation_borrows_until_stale(self) -> None:
        schedule = ReidSchedule(refresh_frames=3)
        track_boxes, ids = boxes((0, 0, 10, 30)), np.array([7])
        schedule.plan(boxes((0, 0, 10, 30)), boxes(), np.zeros(0, np.int64))
        schedule.mark_fresh(ids)
        plans = [schedule.plan(boxes((1, 0, 11, 30)), track_boxes, ids) for _ in range(3)]
        assert [bool(fresh[0]) for fresh, _ in plans] == [False, False, True]
        assert int(plans[0][1][0]) == 7

    def test_crowded_boxes_are_always_fresh(self) -> None:
        schedule = ReidSchedule()
        pair = boxes((0, 0, 10, 30), (5, 0, 15, 30))
        schedule.plan(pair, boxes(), np.zeros(0, np.int64))
        schedule.mark_fresh(np.array([1, 2]))
        fresh, _ = schedule.plan(pair, pair, np.array([1, 2]))
        assert fresh.tolist() == [True, True]

    @pytest.mark.parametrize(
        ("kwargs", "error"), [({"continuation_iou": 0}, "continuation_iou"), ({"refresh_frames": 0}, "refresh_frames")]
    )
    def test_rejects(self, kwargs: dict[str, float], error: str) -> None:
        with pytest.raises(ValueError, match=error):
            ReidSchedule(**kwargs)  # type: ignore[arg-type]


class TestTrackAppearance:
    def test_quality_weighted_mean(self) -> None:
        app = TrackAppearance()
        app.add(1, np.array([1.0, 0.0], np.float32), quality=0.9)
        app.add(1, np.array([0.0, 1.0], np.float32), quality=0.1)
        found = app.embedding(1)
        assert found is not None
        vector, quality, samples = found
        assert vector[0] > 0.99 * np.cos(np.arctan(0.1 / 0.9)) and samples == 2
        assert quality == pytest.approx(0.5)

    def test_low_quality_sightings_are_ignored(self) -> None:
        app = TrackAppearance(min_quality=0.2)
        app.add(1, np.array([1.0, 0.0], np.float32), quality=0.1)
        assert app.embedding(1) is None

    def test_changed_only_after_a_meaningful_move(self) -> None:
        app = TrackAppearance(republish_distance=0.05)
        app.add(1, np.array([1.0, 0.0], np.float32), quality=1.0)
        assert app.changed(1) is True
        app.add(1, np.array([0.99, 0.01], np.float32), quality=1.0)
        assert app.changed(1) is False
        app.add(1, np.array([0.0, 1.0], np.float32), quality=3.0)
        assert app.changed(1) is True

    @pytest.mark.parametrize(
        ("confidence", "vis", "height", "expected"),
        [(1.0, 1.0, 256, 1.0), (0.5, 1.0, 128, 0.5), (1.0, 0.5, 64, 0.25), (0.8, 0.0, 200, 0.0)],
    )
    def test_quality(self, confidence: float, vis: float, height: float, expected: float) -> None:
        assert TrackAppearance.quality(confidence, vis, height) == pytest.approx(expected)


def test_visibility_of_a_box_behind_another() -> None:
    # The second box's bottom edge is lower: it is in front and hides half of the first.
    vis = visibility(boxes((0, 0, 10, 20), (5, 0, 15, 30)))
    np.testing.assert_allclose(vis, [0.5, 1.0])


@pytest.mark.parametrize(
    ("rows", "min_conf", "regions", "kept"),
    [
        ([[0, 0, 10, 20, 0.9, 0], [0, 0, 10, 20, 0.05, 0]], 0.1, [], [0]),
        ([[0, 0, 10, 20, 0.9, 0], [100, 100, 110, 120, 0.9, 0]], 0.1, [[(0, 10), (20, 10), (20, 30), (0, 30)]], [1]),
        ([[0, 0, 10, 20, 0.9, 0]], 0.0, [], [0]),
    ],
)
def test_detection_gate(rows: list[list[float]], min_conf: float, regions: list, kept: list[int]) -> None:
    det = Detections.from_array(np.array(rows))
    out = DetectionGate(min_conf, regions).apply(det)
    np.testing.assert_array_equal(out.xyxy, det.xyxy[kept])


@pytest.mark.parametrize(("foot_margin", "kept"), [(0.0, [0]), (0.03, [])])
def test_detection_gate_judges_the_feet_where_the_analytics_put_them(foot_margin: float, kept: list[int]) -> None:
    # A 100 px box ends at y 100; with the pedestrian model's margin the feet stand at 97, in the mask.
    det = Detections.from_array(np.array([[0, 0, 10, 100, 0.9, 0]]))
    mask = [(0, 90), (20, 90), (20, 99), (0, 99)]
    out = DetectionGate(0.1, [mask], foot_margin).apply(det)
    np.testing.assert_array_equal(out.xyxy, det.xyxy[kept])


@pytest.mark.parametrize(
    ("args", "error"),
    [((1.5, []), "min_confidence"), ((0.1, [[(0, 0), (1, 1)]]), "at least 3 points")],
)
def test_detection_gate_rejects(args: tuple, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        DetectionGate(*args)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"track_low_thresh": 0.6, "track_high_thresh": 0.5}, "must not exceed"),
        ({"cmc_method": "magic"}, "cmc_method"),
        ({"track_buffer_s": 0}, "track_buffer_s"),
        ({"second_match_thresh": 0}, "second_match_thresh"),
        ({"second_match_thresh": 1.5}, "second_match_thresh"),
        ({"proximity_thresh": 1.2}, "proximity_thresh"),
        ({"appearance_gate_quantile": 0}, "appearance_gate_quantile"),
        ({"appearance_gate_quantile": 1}, "appearance_gate_quantile"),
    ],
)
def test_tracking_config_rejects(fields: dict[str, object], error: str) -> None:
    with pytest.raises(ValidationError, match=error):
        Tracking.model_validate(fields)


def test_botsort_keeps_identities_and_schedules_reid() -> None:
    tracker = BotSortTracker(Tracking(), frame_rate=10, embedder=create_embedder(threads=1))
    ids_per_frame = []
    for frame in range(15):
        image, det = crossing_people(frame)
        out = tracker.update(det, image, (frame + 1) * 100_000_000)
        ids_per_frame.append(tuple(out.tracker_id.tolist()))
    confirmed = [ids for ids in ids_per_frame if len(ids) == 2]
    assert len(confirmed) >= 12
    assert all(set(ids) == set(confirmed[0]) for ids in confirmed)
    # Fewer embeddings than boxes: isolated, continuing tracks reuse theirs.
    assert 2 <= tracker.embeddings_computed < 2 * 15
    for tid in confirmed[0]:
        assert tracker.appearance.embedding(tid) is not None
    tracker.forget(set(confirmed[0]))
    assert all(tracker.appearance.embedding(t) is None for t in confirmed[0])


@pytest.mark.parametrize("fields", [{}, {"proximity_thresh": 0.5, "second_match_thresh": 0.45, "match_thresh": 0.8}])
def test_botsort_is_built_with_the_sites_association_gates(fields: dict[str, float]) -> None:
    settings = Tracking(reid=False, **fields)
    built = BotSortTracker(settings, frame_rate=7)._tracker
    assert (built.proximity_thresh, built.second_match_thresh, built.match_thresh) == (
        settings.proximity_thresh,
        settings.second_match_thresh,
        settings.match_thresh,
    )


class LookAlikeEmbedder:
    """Every person gets nearly the same vector: the appearance of a very poor picture."""

    model_id = "look-alike"
    dim = 8

    def __init__(self) -> None:
        self.rng = np.random.default_rng(0)

    def embed(self, image: np.ndarray, xyxy: np.ndarray) -> np.ndarray:
        vectors = np.ones((len(xyxy), self.dim)) + self.rng.normal(0, 0.1, (len(xyxy), self.dim))
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize(
    ("quantile", "interval_ns", "tightened"),
    [(0.05, 100_000_000, True), (0.05, 500_000_000, False), (None, 100_000_000, False)],
)
def test_botsort_hands_the_learned_appearance_gate_to_boxmot(
    quantile: float | None, interval_ns: int, tightened: bool
) -> None:
    settings = Tracking(appearance_gate_quantile=quantile, reid_refresh_frames=1)
    tracker = BotSortTracker(settings, frame_rate=10, embedder=LookAlikeEmbedder())  # type: ignore[arg-type]
    xyxy = np.array([[x, 100, x + 40, 200] for x in range(0, 1000, 100)], dtype=np.float32)
    people = Detections(xyxy=xyxy, confidence=np.full(10, 0.9, np.float32), class_id=np.zeros(10, np.int32))
    image = np.zeros((300, 1100, 3), np.uint8)
    for frame in range(6):  # 45 pairs a frame, 200 needed
        tracker.update(people, image, (frame + 1) * interval_ns)
    gate = tracker.appearance_gate
    assert (gate is not None) == (quantile is not None)
    assert (tracker._tracker.appearance_thresh < settings.appearance_thresh) == tightened
    if gate is not None:
        # Learned either way; in force only while frames come often.
        assert gate.learned < settings.appearance_thresh
        assert tracker._tracker.appearance_thresh == gate.threshold


def test_botsort_needs_an_embedder_for_reid() -> None:
    with pytest.raises(ValueError, match="embedder"):
        BotSortTracker(Tracking(reid=True), frame_rate=10, embedder=None)
    with pytest.raises(ValueError, match="frame_rate"):
        BotSortTracker(Tracking(reid=False), frame_rate=0)
