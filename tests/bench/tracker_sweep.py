"""Tracker and detector-threshold sweep on PETS09-S2L1, one setting changed at a time.

    .venv/bin/python tests/bench/tracker_sweep.py [--detector pedestrian] [--input-size H,W] [--canvas SCALE]
        [--degrade dim|blur|jpeg|all] [--placements LINES,ZONES[,SEED]] [--stride N] [--rate-up N]
        [--only NAME ...]

Each detector profile's boxes (at the lowest score any setting uses) and the OSNet vector
of every box are computed once and cached; each setting then replays them through the
agent's own CameraPerception (gate → BoT-SORT with those vectors → line counters and zone
monitors), so a run costs the tracker alone and equals the real pipeline's tracks (the
ReID schedule picks from the precomputed vectors exactly the ones the embedder would
compute). Every row is judged by the code behind `mallflow eval sequence` on the lines and
zones of tests/support/pets09_geometry.py: MOTA/IDF1 (motmetrics), HOTA (TrackEval), line
count accuracy 1 − Σ|error| / Σ truth over every line and direction, and zone
person-seconds and visit errors summed over the zones (in brackets: the sum of each zone's
absolute error, which cannot cancel, and the worst zone).

`--stride 3` keeps every third frame (PETS09 at 2.3 fps instead of 7, the ground truth
thinned alike), as an agent that thins a loaded camera's frames or a slow camera delivers.

`--rate-up 4` replays PETS09 motion-interpolated to 28 fps (tests/bench/frame_rate_up.py, made
once into the cache), as a mall camera streams: people move a quarter as far between frames,
and every setting counted in frames meets four times as many of them.

`--placements 200,100` judges on 200 lines and 100 zones thrown at random over the frame
(edge/evaluation/placements.py, seeded) instead of the thirteen hand-drawn lines: most cross
no walking path, some run along one, at every angle and length, as an installer might
draw them. A setting that only suits the hand-drawn lines shows here.

Settings are picked from a plateau: the table shows each parameter's neighbours, so a
value whose neighbours score as well is preferred over a lone best point.

`--canvas 2` pads every frame onto a grey canvas twice its size (the image at the top
left, so the ground truth, lines, zones and homography stay as they are): people take a
quarter of the area they did, as on a wider or higher camera, and the detector sees them
at half the size. It shows how a setting holds up on footage with smaller people, and
`--input-size` what a larger detector input buys back there.

`--degrade dim|blur|jpeg|all` runs the detector on worse pictures than PETS09's daylight:
a dim interior at high gain (a third of the light, sensor noise), soft focus, a starved
stream's compression blocks, or all three. Detector scores fall on such footage, so it shows
whether the tracker's score gates (`high`, `new`) sit on a plateau that survives it or on
PETS09's own confidence level.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "bench"))

from frame_rate_up import rate_up  # noqa: E402
from support.pets09_geometry import lines_config, zones_config  # noqa: E402

from edge.agent.perception import CameraPerception  # noqa: E402
from edge.agent.video import end_of_video  # noqa: E402
from edge.analytics.events import Direction, ZoneEventKind  # noqa: E402
from edge.evaluation.mot import MotSequence  # noqa: E402
from edge.evaluation.placements import random_lines, random_zones  # noqa: E402
from edge.evaluation.sequence import SequenceReport, SequenceRun, evaluate_sequence  # noqa: E402
from edge.frames import Frame  # noqa: E402
from edge.inference.factory import create_detector, create_embedder  # noqa: E402
from edge.inference.precomputed import PrecomputedEmbedder  # noqa: E402
from edge.sources.base import SourceSpec  # noqa: E402
from edge.sources.factory import open_source  # noqa: E402
from shared.assets.datasets import fetch_vtest  # noqa: E402
from shared.config import SiteConfig, load_site_config  # noqa: E402
from shared.config.detector import PRESETS  # noqa: E402
from shared.paths import cache_dir  # noqa: E402

GT = ROOT.parent / "shared" / "data" / "PETS09-S2L1" / "gt" / "gt.txt"
FPS = 7.0
CAMERA = "cam-main"
LOWEST_SCORE = 0.05
PETS09_SIZE = (768, 576)


@dataclass(frozen=True)
class Row:
    """One setting moved from the base: overrides of the site's tracking, detector, lines, zones and camera."""

    name: str
    tracking: dict[str, Any] = field(default_factory=dict)
    detector: dict[str, Any] = field(default_factory=dict)
    line: dict[str, Any] = field(default_factory=dict)
    zone: dict[str, Any] = field(default_factory=dict)
    camera: dict[str, Any] = field(default_factory=dict)


# Plaza floor boxes around the one the example site declares (x <= 5.5, y <= 7.5 m).
COVERAGE_BOXES = ((4.5, 6.5), (5.0, 7.0), (5.5, 7.5), (6.0, 8.0), (7.0, 9.0))


def _floor_box(x_max: float, y_max: float) -> dict[str, Any]:
    """Coverage of the plaza floor up to x_max, y_max metres (the ground truth's area ends at 4.7 / 6.6)."""
    return {"space": "floor", "polygon": [(-22.0, -18.0), (x_max, -18.0), (x_max, y_max), (-22.0, y_max)]}


GRID: list[Row] = [
    Row("base"),
    *[Row(f"score {v}", detector={"score_threshold": v}) for v in (0.05, 0.2)],
    *[Row(f"high {v}", {"track_high_thresh": v}) for v in (0.2, 0.25, 0.35, 0.4, 0.5)],
    *[Row(f"low {v}", {"track_low_thresh": v}) for v in (0.05, 0.15)],
    *[Row(f"new {v}", {"new_track_thresh": v}) for v in (0.4, 0.5, 0.6, 0.8)],
    *[Row(f"match {v}", {"match_thresh": v}) for v in (0.85, 0.9, 0.99)],
    *[Row(f"appearance {v}", {"appearance_thresh": v}) for v in (0.15, 0.175, 0.2, 0.225, 0.3, 0.35)],
    *[Row(f"gate quantile {v}", {"appearance_gate_quantile": v}) for v in (0.01, 0.02, 0.1, 0.2)],
    Row("gate fixed", {"appearance_gate_quantile": None}),
    *[Row(f"proximity {v}", {"proximity_thresh": v}) for v in (0.6, 0.7, 0.8, 0.85, 0.95, 1.0)],
    *[Row(f"second match {v}", {"second_match_thresh": v}) for v in (0.2, 0.4, 0.5, 0.7)],
    *[Row(f"buffer {v}s", {"track_buffer_s": v}) for v in (1.5, 5.0)],
    *[Row(f"settle {v}s", line={"settle_s": v}) for v in (0.0, 0.1, 0.2, 0.4, 0.5, 0.7)],
    *[Row(f"enter {v}s", zone={"enter_s": v}) for v in (0.0, 0.2, 0.3, 0.5)],
    *[Row(f"dead band {v}px", line={"dead_band": v}) for v in (5.0, 10.0, 20.0)],
    *[
        Row(f"band {v} x height", line={"dead_band_height": v})
        for v in (0.0, 0.02, 0.03, 0.04, 0.07, 0.08, 0.1, 0.12, 0.15, 0.2)
    ],
    *[Row(f"foot margin {v}", detector={"foot_margin": v}) for v in (0.0, 0.01, 0.02, 0.04, 0.05)],
    Row("cmc none", {"cmc_method": "none"}),
    *[Row(f"association {v} fps", {"max_association_fps": v}) for v in (5.0, 10.0, 30.0)],
    Row("association 30.0 fps, coverage none", {"max_association_fps": 30.0}, camera={"coverage": None}),
    Row("no reid", {"reid": False}),
    *[Row(f"reid refresh {v}", {"reid_refresh_frames": v}) for v in (1, 3, 8, 10, 15)],
    *[Row(f"grace {v}s", zone={"exit_grace_s": v}) for v in (1.0, 1.5, 2.0, 2.5, 4.0, 5.0)],
    *[Row(f"handover {v}s", line={"handover_s": v}) for v in (0.0, 1.0, 1.25, 1.5, 2.5, 3.0, 4.0)],
    *[
        Row(f"handover reach {v} x height", line={"handover_height": v}, zone={"handover_height": v})
        for v in (0.0, 0.4, 0.5, 0.6, 0.9, 1.0, 1.25, 1.5)
    ],
    Row("coverage none", camera={"coverage": None}),
    *[Row(f"coverage x<={x} y<={y}", camera={"coverage": _floor_box(x, y)}) for x, y in COVERAGE_BOXES],
]


def _dim(image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    # Seeded per frame content so a cached run and a fresh one see the same noise.
    rng = np.random.default_rng(int(image[::64, ::64].sum()))
    dark = image.astype(np.float32) * 0.35 + rng.normal(0.0, 5.0, image.shape)
    return np.clip(dark, 0, 255).astype(np.uint8)


def _blur(image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    import cv2

    return np.asarray(cv2.GaussianBlur(image, (0, 0), 2.0), dtype=np.uint8)


def _jpeg(image: NDArray[np.uint8]) -> NDArray[np.uint8]:
    import cv2

    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 12])
    if not ok:
        raise RuntimeError("OpenCV could not JPEG-encode a frame")
    return np.asarray(cv2.imdecode(data, cv2.IMREAD_COLOR), dtype=np.uint8)


DEGRADATIONS = {
    "none": lambda image: image,
    "dim": _dim,
    "blur": _blur,
    "jpeg": _jpeg,
    "all": lambda image: _jpeg(_blur(_dim(image))),
}


@dataclass(frozen=True)
class Cached:
    frames: list[NDArray[np.uint8]]
    boxes: list[NDArray[np.float32]]
    embeddings: list[NDArray[np.float32]]
    reid_id: str
    fps: float = FPS

    def every(self, stride: int) -> Cached:
        """Every `stride`-th frame from the first, at the rate that leaves: an agent thinning a camera's frames."""
        pick = slice(None, None, stride)
        return Cached(self.frames[pick], self.boxes[pick], self.embeddings[pick], self.reid_id, self.fps / stride)


def every_nth_frame(gt: MotSequence, stride: int) -> MotSequence:
    """The ground truth of frames 1, 1 + stride, 1 + 2 stride, ... numbered 1, 2, 3, ..."""
    kept = gt.select((gt.frame - 1) % stride == 0)
    return dataclasses.replace(kept, frame=(kept.frame - 1) // stride + 1)


def base_site(
    video: Path,
    detector: str,
    input_size: tuple[int, int] | None = None,
    nms_iou: float | None = None,
    placements: tuple[int, int, int] | None = None,
    fps: float = FPS,
) -> SiteConfig:
    """The example site on `video` at `fps` with the sweep's lines and zones: PETS09's hand-drawn
    ones, or `placements` = (lines, zones, seed) thrown at random over the frame."""
    import os

    os.environ.setdefault("MALLFLOW_DATA_DIR", str(video.parent))
    raw = load_site_config(ROOT / "deploy/examples/pets09.yaml").model_dump()
    raw["cameras"][0] |= {"source": str(video), "fps_hint": fps}
    lines, zones = None, None
    if placements is not None:
        n_lines, n_zones, seed = placements
        lines = random_lines(n_lines, *PETS09_SIZE, seed=seed)
        zones = random_zones(n_zones, *PETS09_SIZE, seed=seed)
    raw["lines"] = lines_config(CAMERA, lines, settle_s=0.25)
    raw["zones"] = zones_config(CAMERA, zones, enter_s=0.1)
    raw["detector"] = PRESETS[detector].model_dump() | ({} if input_size is None else {"input_size": input_size})
    if nms_iou is not None:
        raw["detector"]["nms_iou"] = nms_iou
    return SiteConfig.model_validate(raw)


def on_canvas(image: NDArray[np.uint8], scale: float) -> NDArray[np.uint8]:
    """`image` at the top left of a grey canvas `scale` times its size."""
    if scale == 1.0:
        return image
    h, w = image.shape[:2]
    canvas = np.full((round(h * scale), round(w * scale), 3), 114, dtype=np.uint8)
    canvas[:h, :w] = image
    return canvas


def detect_all(site: SiteConfig, canvas: float = 1.0, degrade: str = "none") -> Cached:
    """Boxes at LOWEST_SCORE and an embedding per box for every frame, cached per profile, canvas,
    degradation and frame rate."""
    profile = site.detector_of(CAMERA).model_copy(update={"score_threshold": LOWEST_SCORE})
    camera = site.camera(CAMERA)
    fps = camera.fps_hint or FPS
    variant = (
        f"{'' if canvas == 1.0 else f' canvas {canvas}'}{'' if degrade == 'none' else f' degrade {degrade}'}"
        f"{'' if fps == FPS else f' fps {fps:g}'}"
    )
    key = hashlib.sha256(f"{profile.key}{variant}".encode()).hexdigest()[:12]
    source = open_source(SourceSpec(CAMERA, camera.source, fps_hint=camera.fps_hint), "opencv")
    with source:
        frames = [on_canvas(DEGRADATIONS[degrade](frame.image), canvas) for frame in source]
    path = cache_dir() / "bench" / f"sweep-{profile.model}-{key}.npz"
    embedder = create_embedder()
    if path.is_file():
        data = np.load(path, allow_pickle=False)
        n = len(frames)
        boxes = [data[f"b{i}"] for i in range(n)]
        return Cached(frames, boxes, [data[f"e{i}"] for i in range(n)], embedder.model_id, fps)
    detector = create_detector(profile=profile)
    boxes, embs = [], []
    for image in frames:
        found = detector.detect([image])[0]
        boxes.append(found)
        embs.append(embedder.embed(image, found[:, :4]) if len(found) else np.zeros((0, embedder.dim), np.float32))
    path.parent.mkdir(parents=True, exist_ok=True)
    # Typed as Any: numpy's stub reads the keyword arrays as savez's `allow_pickle` flag.
    arrays: dict[str, Any] = {f"b{i}": b for i, b in enumerate(boxes)} | {f"e{i}": e for i, e in enumerate(embs)}
    np.savez(path, **arrays)
    return Cached(frames, boxes, embs, embedder.model_id, fps)


def replay(site: SiteConfig, cached: Cached) -> SequenceRun:
    embedder = PrecomputedEmbedder(cached.reid_id, cached.embeddings[0].shape[1] if cached.embeddings else 512)
    perception = CameraPerception.from_config(site, CAMERA, cached.fps, embedder if site.tracking.reid else None)
    rows: list[list[float]] = []
    crossings: list[tuple[int, str, Direction, int]] = []
    dwell: dict[str, list[float]] = {z.id: [] for z in site.zones}
    step_ns = round(1e9 / cached.fps)
    last = None
    for index, (image, boxes, embs) in enumerate(zip(cached.frames, cached.boxes, cached.embeddings, strict=True)):
        frame = Frame(CAMERA, index, index * step_ns, image)
        facts = perception.step(frame, boxes, embs if site.tracking.reid else None)
        last = frame
        det = facts.detections
        for (x1, y1, x2, y2), conf, tid in zip(det.xyxy, det.confidence, det.tracker_id, strict=True):
            rows.append([index + 1, tid, x1, y1, x2 - x1, y2 - y1, conf, np.nan, np.nan])
        zone_events = facts.zone_events
        line_events = facts.line_events
        if index == len(cached.frames) - 1:
            end = end_of_video(perception, last)
            line_events, zone_events = line_events + end.line_events, zone_events + end.zone_events
        crossings += [(index + 1, e.line_id, e.direction, e.track_id) for e in line_events]
        for event in zone_events:
            if event.kind is ZoneEventKind.EXIT and event.dwell_s is not None:
                dwell[event.zone_id].append(float(event.dwell_s))
    return SequenceRun(
        mot=MotSequence.from_array(np.array(rows, dtype=np.float64).reshape(-1, 9)),
        crossings=crossings,
        dwell_s=dwell,
        frames=len(cached.frames),
        fps=cached.fps,
        wall_s=0.0,
    )


def summary(report: SequenceReport) -> dict[str, float]:
    t = report.tracking
    return {
        "mota": t.mota,
        "idf1": t.idf1,
        "hota": t.hota,
        "ids": t.id_switches,
        "count": report.count_accuracy or 0.0,
        "geometric": report.geometric_count_accuracy or 0.0,
        "person_s": report.zones_person_seconds_error_pct or 0.0,
        "abs_s": report.zones_person_seconds_abs_error_pct or 0.0,
        "worst_s": max((z.person_seconds_error_pct or 0.0 for z in report.zones), key=abs),
        "visits": report.zones_visits_error_pct or 0.0,
        "abs_v": report.zones_visits_abs_error_pct or 0.0,
        "worst_v": max((z.visits_error_pct or 0.0 for z in report.zones), key=abs),
    }


def run_row(base: SiteConfig, cached: Cached, gt: MotSequence, row: Row) -> str:
    raw = base.model_dump()
    raw["tracking"] |= row.tracking
    raw["detector"] |= row.detector
    raw["lines"] = [ln | row.line for ln in raw["lines"]]
    raw["zones"] = [zn | row.zone for zn in raw["zones"]]
    raw["cameras"] = [cam | row.camera for cam in raw["cameras"]]
    site = SiteConfig.model_validate(raw)
    s = summary(evaluate_sequence(replay(site, cached), gt, site, CAMERA, gt_fps=cached.fps))
    return (
        f"{s['mota']:.1f} | {s['idf1']:.1f} | {s['hota']:.1f} | {s['ids']:.0f} | {s['count']:.3f} ({s['geometric']:.3f}) | "
        f"{s['person_s']:+.1f} % ({s['abs_s']:.1f}, {s['worst_s']:+.1f}) | "
        f"{s['visits']:+.1f} % ({s['abs_v']:.1f}, {s['worst_v']:+.1f})"
    )


def _size(text: str) -> tuple[int, int]:
    h, _, w = text.partition(",")
    return int(h), int(w)


def _placements(text: str) -> tuple[int, int, int]:
    parts = [int(v) for v in text.split(",")]
    if len(parts) not in (2, 3) or min(parts) < 0:
        raise argparse.ArgumentTypeError(f"expected LINES,ZONES[,SEED] of counts >= 0, got {text!r}")
    return parts[0], parts[1], parts[2] if len(parts) == 3 else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--detector", choices=sorted(PRESETS), default="pedestrian")
    parser.add_argument(
        "--input-size", type=_size, default=None, metavar="H,W", help="the detector's input size (multiples of 32)"
    )
    parser.add_argument("--nms-iou", type=float, default=None, help="the detector's NMS overlap threshold")
    parser.add_argument(
        "--canvas", type=float, default=1.0, help="pad frames onto a canvas this many times their size (>= 1)"
    )
    parser.add_argument(
        "--degrade", choices=sorted(DEGRADATIONS), default="none", help="run the detector on worse pictures"
    )
    parser.add_argument(
        "--placements",
        type=_placements,
        default=None,
        metavar="LINES,ZONES[,SEED]",
        help="judge on this many lines and zones at random positions instead of PETS09's hand-drawn ones",
    )
    parser.add_argument(
        "--stride", type=int, default=1, help="keep every N-th frame (the rate drops N-fold), as a loaded agent does"
    )
    parser.add_argument(
        "--rate-up",
        type=int,
        default=1,
        metavar="N",
        help="PETS09 motion-interpolated to N times its 7 fps (tests/bench/frame_rate_up.py), as a mall camera streams",
    )
    parser.add_argument("--only", nargs="*", default=None, help="row names to run (default: the whole grid)")
    parser.add_argument(
        "--set", nargs="*", default=[], metavar="KEY=VALUE", help="tracking overrides applied to the base first"
    )
    args = parser.parse_args()
    if args.canvas < 1.0:
        parser.error(f"--canvas must be >= 1, got {args.canvas}")
    if args.rate_up < 1:
        parser.error(f"--rate-up must be >= 1, got {args.rate_up}")
    video, truth = fetch_vtest(), GT
    if args.rate_up > 1:
        video, truth = rate_up(args.rate_up, cache_dir() / "bench" / f"pets09-x{args.rate_up}")
    base = base_site(video, args.detector, args.input_size, args.nms_iou, args.placements, FPS * args.rate_up)
    if args.set:
        raw = base.model_dump()
        for item in args.set:
            key, _, value = item.partition("=")
            raw["tracking"][key] = float(value) if value.replace(".", "", 1).isdigit() else value
        base = SiteConfig.model_validate(raw)
    if args.stride < 1:
        parser.error(f"--stride must be >= 1, got {args.stride}")
    cached = detect_all(base, args.canvas, args.degrade).every(args.stride)
    gt = every_nth_frame(MotSequence.load(truth), args.stride)
    print(
        f"detector {args.detector} on canvas x{args.canvas}, degraded {args.degrade}: "
        f"{base.detector_of(CAMERA).model_dump()}"
    )
    print(f"base tracking: {base.tracking.model_dump()}")
    print(
        "| setting | MOTA | IDF1 | HOTA | ID sw | count acc (vs geometry) | zone person-s (sum of each zone's |error|, worst zone) "
        "| zone visits (likewise) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for row in GRID:
        if args.only is not None and row.name not in args.only:
            continue
        print(f"| {row.name} | {run_row(base, cached, gt, row)} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
