"""One camera of a site run over a MOT-format sequence and judged against its ground truth.

What a people counter is judged by, from one pass of the agent's own perception code:
tracking (HOTA/MOTA/IDF1 via TrackEval and motmetrics), counts per line against crossings
derived from the ground-truth tracks, dwell per zone against ground-truth visits, and
floor-position error against the ground truth's world coordinates where it has them.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from edge.agent.detector_profile import detector_plan
from edge.agent.perception import CameraPerception
from edge.agent.video import end_of_video, run_video
from edge.analytics.events import Direction, ZoneEventKind
from edge.evaluation.metrics import TrackingScores, evaluate_tracking, iou_xywh
from edge.evaluation.mot import MotSequence
from edge.evaluation.reference_counts import (
    WalkedFrames,
    count_crossings,
    debounced_crossings,
    line_crossings,
    monitored_visits,
    walked_paths,
)
from edge.inference.factory import create_detector, create_embedder, detect_workers_for, overlapped_threads
from edge.sources.base import SourceSpec
from edge.sources.factory import open_source
from shared.config.site import Line, SiteConfig, Space, Zone

# A prediction stands for a ground-truth person in the floor-position check at this overlap.
FLOOR_MATCH_IOU = 0.5


@dataclass(frozen=True)
class SequenceRun:
    """What the pipeline produced; `mot.world` holds each box's floor point (NaN without calibration)."""

    mot: MotSequence
    # (frame, line id, direction, track id) of every crossing, in order.
    crossings: list[tuple[int, str, Direction, int]]
    # Completed visits' dwell per zone, seconds (visits open at the end are closed there).
    dwell_s: dict[str, list[float]]
    frames: int
    fps: float
    wall_s: float


def run_sequence(
    site: SiteConfig,
    camera_id: str,
    source: str | None = None,
    *,
    fps: float | None = None,
    threads: int | None = None,
    progress: bool = False,
) -> SequenceRun:
    """Run one camera's perception (detector, tracker, analytics) over every frame of `source`.

    `fps` is the sequence's real rate where the camera's `fps_hint` is not (another recording
    of the same view): the tracker's lifetimes and every dwell time are counted in it.
    """
    camera = site.camera(camera_id)
    spec = SourceSpec(
        camera.id, source or camera.source, crop=camera.crop, fps_hint=fps or camera.fps_hint, stream=camera.stream
    )
    frame_source = open_source(spec, "opencv")
    threads = overlapped_threads(threads)
    embedder = create_embedder(threads=threads) if site.tracking.reid else None
    perception = CameraPerception.from_config(site, camera.id, frame_source.fps, embedder)
    rows: list[list[float]] = []
    crossings: list[tuple[int, str, Direction, int]] = []
    dwell: dict[str, list[float]] = {z.id: [] for z in site.zones if z.camera == camera.id}
    frames = 0
    last = None
    started = time.perf_counter()
    with frame_source:
        plan = detector_plan(site, camera.id, source=source)
        detector = plan.load(lambda p: create_detector(profile=p, threads=threads))
        ahead = detect_workers_for([detector])
        for step in run_video(frame_source, detector, perception, progress=progress, detect_ahead=ahead):
            frames += 1
            last = step.frame
            number = step.frame.index + 1
            det = step.facts.detections
            for (x1, y1, x2, y2), conf, tid, (fx, fy) in zip(
                det.xyxy, det.confidence, det.tracker_id, step.facts.floor_points, strict=True
            ):
                rows.append([number, tid, x1, y1, x2 - x1, y2 - y1, conf, fx, fy])
            crossings += [(number, e.line_id, e.direction, e.track_id) for e in step.facts.line_events]
            _add_exits(dwell, step.facts.zone_events)
        end = end_of_video(perception, last)
        crossings += [(frames, e.line_id, e.direction, e.track_id) for e in end.line_events]
        _add_exits(dwell, end.zone_events)
    return SequenceRun(
        mot=MotSequence.from_array(np.array(rows, dtype=np.float64).reshape(-1, 9)),
        crossings=crossings,
        dwell_s=dwell,
        frames=frames,
        fps=float(frame_source.fps),
        wall_s=time.perf_counter() - started,
    )


def _add_exits(dwell: dict[str, list[float]], events: list[Any]) -> None:
    for event in events:
        if event.kind is ZoneEventKind.EXIT and event.dwell_s is not None:
            dwell[event.zone_id].append(float(event.dwell_s))


@dataclass(frozen=True)
class LineAccuracy:
    line_id: str
    # Ground-truth tracks through the line's own debounce (settle time, dead band).
    reference: dict[str, int]
    predicted: dict[str, int]
    # Every step of a ground-truth track through the segment, jitter on the line included.
    geometric: dict[str, int]

    @property
    def error(self) -> dict[str, int]:
        """Predicted minus reference, per direction."""
        return {d: self.predicted[d] - self.reference[d] for d in self.reference}


@dataclass(frozen=True)
class ZoneAccuracy:
    zone_id: str
    reference_visits: int
    predicted_visits: int
    # None without visits.
    reference_mean_dwell_s: float | None
    predicted_mean_dwell_s: float | None
    # Person-seconds in the zone: what occupancy-time totals are built from.
    reference_total_s: float
    predicted_total_s: float

    @property
    def visits_error_pct(self) -> float | None:
        return _relative_pct(self.predicted_visits, self.reference_visits)

    @property
    def person_seconds_error_pct(self) -> float | None:
        return _relative_pct(self.predicted_total_s, self.reference_total_s)


def _relative_pct(predicted: float, reference: float) -> float | None:
    return None if reference == 0 else 100.0 * (predicted - reference) / reference


def _abs_pct(pairs: list[tuple[float, float]]) -> float | None:
    """Σ |predicted − reference| / Σ reference, in percent, over (predicted, reference) pairs."""
    reference = sum(r for _, r in pairs)
    return None if reference == 0 else 100.0 * sum(abs(p - r) for p, r in pairs) / reference


def _accuracy(pairs: list[tuple[float, float]]) -> float | None:
    """1 − Σ |predicted − reference| / Σ reference over (predicted, reference) pairs."""
    pct = _abs_pct(pairs)
    return None if pct is None else 1.0 - pct / 100.0


@dataclass(frozen=True)
class FloorAccuracy:
    # Predictions matched to ground truth with world coordinates (IoU >= FLOOR_MATCH_IOU).
    matched: int
    mean_m: float | None
    median_m: float | None
    p90_m: float | None


@dataclass(frozen=True)
class SequenceReport:
    camera_id: str
    frames: int
    fps: float
    wall_s: float
    tracking: TrackingScores
    lines: list[LineAccuracy]
    zones: list[ZoneAccuracy]
    floor: FloorAccuracy
    # Lines and zones drawn on the floor: ground truth is judged in image space only.
    skipped: list[str] = field(default_factory=list)

    @property
    def count_accuracy(self) -> float | None:
        """1 − Σ|predicted − reference| / Σ reference over every line and direction."""
        return _accuracy([(line.predicted[d], n) for line in self.lines for d, n in line.reference.items()])

    @property
    def geometric_count_accuracy(self) -> float | None:
        """`count_accuracy` against every step of a ground-truth track through the segment.

        No debounce on the yardstick: a line setting that only moved the reference along
        with the prediction gains here nothing.
        """
        return _accuracy([(line.predicted[d], n) for line in self.lines for d, n in line.geometric.items()])

    @property
    def zones_person_seconds_error_pct(self) -> float | None:
        """Person-seconds summed over every zone, predicted against reference."""
        return _relative_pct(sum(z.predicted_total_s for z in self.zones), sum(z.reference_total_s for z in self.zones))

    @property
    def zones_visits_error_pct(self) -> float | None:
        """Visits summed over every zone, predicted against reference."""
        return _relative_pct(sum(z.predicted_visits for z in self.zones), sum(z.reference_visits for z in self.zones))

    @property
    def zones_person_seconds_abs_error_pct(self) -> float | None:
        """Σ |predicted − reference| person-seconds over the zones, as a share of the reference's sum.

        The signed sum lets one zone's surplus hide another's shortfall; this one cannot.
        """
        return _abs_pct([(z.predicted_total_s, z.reference_total_s) for z in self.zones])

    @property
    def zones_visits_abs_error_pct(self) -> float | None:
        """Σ |predicted − reference| visits over the zones, as a share of the reference's sum."""
        return _abs_pct([(z.predicted_visits, z.reference_visits) for z in self.zones])

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for line, raw in zip(self.lines, out["lines"], strict=True):
            raw["error"] = line.error
        for zone, raw in zip(self.zones, out["zones"], strict=True):
            raw["visits_error_pct"] = zone.visits_error_pct
            raw["person_seconds_error_pct"] = zone.person_seconds_error_pct
        out["count_accuracy"] = self.count_accuracy
        out["geometric_count_accuracy"] = self.geometric_count_accuracy
        out["zones_person_seconds_error_pct"] = self.zones_person_seconds_error_pct
        out["zones_person_seconds_abs_error_pct"] = self.zones_person_seconds_abs_error_pct
        out["zones_visits_error_pct"] = self.zones_visits_error_pct
        out["zones_visits_abs_error_pct"] = self.zones_visits_abs_error_pct
        return out


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def floor_accuracy(gt: MotSequence, pred: MotSequence) -> FloorAccuracy:
    """Distance between each matched prediction's floor point and its ground truth's world point."""
    has_world = np.asarray(np.isfinite(gt.world).all(axis=1) & ~(gt.world == -1).all(axis=1))
    gt = gt.select(has_world)
    pred = pred.select(np.asarray(np.isfinite(pred.world).all(axis=1)))
    errors: list[NDArray[np.float64]] = []
    for frame in np.intersect1d(gt.frame, pred.frame):
        g, p = gt.select(gt.frame == frame), pred.select(pred.frame == frame)
        iou = iou_xywh(p.xywh, g.xywh)
        rows, cols = linear_sum_assignment(-iou)
        keep = iou[rows, cols] >= FLOOR_MATCH_IOU
        errors.append(np.linalg.norm(p.world[rows[keep]] - g.world[cols[keep]], axis=1))
    dist = np.concatenate(errors) if errors else np.zeros(0)
    if not len(dist):
        return FloorAccuracy(0, None, None, None)
    return FloorAccuracy(len(dist), float(dist.mean()), float(np.median(dist)), float(np.percentile(dist, 90)))


_Shape = TypeVar("_Shape", Line, Zone)


def _image_space(shapes: list[_Shape], camera_id: str, kind: str, skipped: list[str]) -> list[_Shape]:
    """The camera's lines or zones drawn in image space; floor-space ones are noted in `skipped`."""
    mine = [s for s in shapes if s.camera == camera_id]
    skipped += [f"{kind} {s.id} (floor space)" for s in mine if s.space is not Space.IMAGE]
    return [s for s in mine if s.space is Space.IMAGE]


def evaluate_sequence(
    run: SequenceRun,
    gt: MotSequence,
    site: SiteConfig,
    camera_id: str,
    gt_fps: float,
    *,
    scored: SequenceReport | None = None,
    mot20: bool = False,
) -> SequenceReport:
    """Judge a run over the frames it processed (a shorter run is judged on its part of the ground truth).

    `scored`: a report of this same run whose tracking and floor scores are taken as they
    are, so judging another set of the pass's lines and zones costs only their references.
    `mot20`: score tracking by MOT20's rules (`evaluate_tracking`).
    """
    gt = gt.select(gt.frame <= run.frames)
    # Counts and visits are judged on every identity's whole path (see `walked_paths`);
    # boxes and floor points only where the ground truth scores them.
    paths = walked_paths(gt, site.camera(camera_id))
    walked = WalkedFrames.of(paths, run.frames)
    skipped: list[str] = []
    counted = Counter((line_id, direction) for _, line_id, direction, _ in run.crossings)
    lines = []
    for line in _image_space(site.lines, camera_id, "line", skipped):
        reference = count_crossings(debounced_crossings(walked, line, gt_fps))
        geometric = count_crossings(line_crossings(paths, *line.points))
        lines.append(
            LineAccuracy(
                line.id,
                {d.value: n for d, n in reference.items()},
                {d.value: counted[line.id, d] for d in Direction},
                {d.value: n for d, n in geometric.items()},
            )
        )
    zones = []
    for zone in _image_space(site.zones, camera_id, "zone", skipped):
        visits = [v.dwell_s for v in monitored_visits(walked, zone, gt_fps)]
        dwelt = run.dwell_s.get(zone.id, [])
        zones.append(
            ZoneAccuracy(
                zone.id, len(visits), len(dwelt), _mean(visits), _mean(dwelt), float(sum(visits)), float(sum(dwelt))
            )
        )
    return SequenceReport(
        camera_id=camera_id,
        frames=run.frames,
        fps=run.fps,
        wall_s=run.wall_s,
        tracking=evaluate_tracking(gt, run.mot, num_frames=run.frames, mot20=mot20)
        if scored is None
        else scored.tracking,
        lines=lines,
        zones=zones,
        floor=floor_accuracy(gt.select(gt.confidence > 0), run.mot) if scored is None else scored.floor,
        skipped=skipped,
    )


def counts_over_time(
    run: SequenceRun, gt: MotSequence, site: SiteConfig, camera_id: str, gt_fps: float
) -> dict[str, tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """Per image-space line: cumulative crossings (both directions) per frame, reference and predicted."""
    frames = np.arange(1, run.frames + 1)
    walked = WalkedFrames.of(walked_paths(gt.select(gt.frame <= run.frames), site.camera(camera_id)), run.frames)
    out = {}
    for line in _image_space(site.lines, camera_id, "line", []):
        ref = np.array([c.frame for c in debounced_crossings(walked, line, gt_fps)], dtype=np.int64)
        pred = np.array([f for f, ln, _, _ in run.crossings if ln == line.id], dtype=np.int64)
        out[line.id] = (
            np.searchsorted(np.sort(ref), frames, side="right"),
            np.searchsorted(np.sort(pred), frames, side="right"),
        )
    return out
