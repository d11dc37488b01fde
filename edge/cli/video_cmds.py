"""`mallflow track VIDEO --out FILE` and `mallflow analyze VIDEO ... --json`: tools for one video.

Installers use them to check a camera's lines and zones before a site goes live; the
evaluation uses `track` output as MOTChallenge results.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.cli.errors import UsageError
from shared.cli.numbers import frame_rate, seconds
from shared.config.detector import DEFAULT_PRESET, INPUT_STRIDE, PRESETS
from shared.config.site import SiteConfig

if TYPE_CHECKING:
    from edge.agent.perception import CameraPerception
    from edge.agent.video import VideoStep
    from edge.sources.base import FrameSource

# Not edge.sources.factory.BACKENDS: importing edge modules here would load torch and
# onnxruntime for every `mallflow --help`.
SOURCE_BACKENDS = ("auto", "gstreamer", "opencv")

CAMERA_ID = "video"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    t = sub.add_parser("track", help="track people in one video and write MOTChallenge rows")
    _common(t)
    t.add_argument("--out", required=True, type=Path, help="MOT file to write (frame,id,x,y,w,h,conf,-1,-1,-1)")
    t.add_argument(
        "--fill-gaps",
        type=seconds,
        default=0.0,
        metavar="SECONDS",
        help="after the run, fill each track's gaps of at most this long by interpolation, as MOTChallenge "
        "trackers do offline (default 0: only what the live agent reports)",
    )
    t.set_defaults(handler=_track)

    a = sub.add_parser("analyze", help="count line crossings and zone visits in one video")
    _common(a)
    a.add_argument(
        "--line", action="append", default=[], metavar="NAME=x1,y1,x2,y2", help="counting line (pixels); repeatable"
    )
    a.add_argument(
        "--zone", action="append", default=[], metavar="NAME=x1,y1,x2,y2,x3,y3,...", help="zone polygon; repeatable"
    )
    a.add_argument(
        "--still",
        type=seconds,
        default=60.0,
        metavar="SECONDS",
        help="name tracks that stay within a quarter of their height of one spot this long: a person waiting, or "
        "an object the detector takes for one, to leave out with --coverage (default 60; 0: off)",
    )
    a.add_argument("--json", action="store_true", help="print one JSON object (default: a readable summary)")
    a.set_defaults(handler=_analyze)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("video", help="video file, folder of images (MOTChallenge: SEQ or SEQ/img1) or any source URI")
    p.add_argument(
        "--fps",
        type=frame_rate,
        default=None,
        help="true frame rate (default: the one the video states; needed when it states none or a wrong one)",
    )
    p.add_argument("--source-backend", choices=SOURCE_BACKENDS, default="auto")
    p.add_argument(
        "--detector",
        choices=sorted(PRESETS),
        default=DEFAULT_PRESET,
        help=f"detector profile (default {DEFAULT_PRESET}; site files can define their own)",
    )
    p.add_argument(
        "--input-size",
        type=_input_size,
        default=None,
        metavar="H,W",
        help="detector input (multiples of 32; default: fitted to the video's frame, so people keep their size in "
        "the network on a large frame)",
    )
    p.add_argument(
        "--coverage",
        default=None,
        metavar="x1,y1,x2,y2,x3,y3,...",
        help="polygon (pixels) of the part of the scene to report: people whose feet stand outside it are tracked "
        "but left out (default: the whole frame)",
    )
    p.add_argument("--no-reid", action="store_true", help="track without OSNet appearance (faster, more ID switches)")
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="ONNX Runtime threads per model (default: half the cores each: detection of the next frames runs "
        "beside tracking)",
    )
    p.add_argument("--progress", action="store_true", help="show a progress bar on stderr")


def _input_size(text: str) -> tuple[int, int]:
    h, sep, w = text.partition(",")
    try:
        size = (int(h), int(w))
    except ValueError:
        size = (0, 0)
    if not sep or min(size) <= 0 or size[0] % INPUT_STRIDE or size[1] % INPUT_STRIDE:
        raise argparse.ArgumentTypeError(f"must be HEIGHT,WIDTH in positive multiples of {INPUT_STRIDE}, got {text!r}")
    return size


def _numbers(text: str, what: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise ValueError(f"{what}: coordinates must be comma-separated numbers, got {text!r}") from None


def _named(spec: str, what: str) -> tuple[str, list[float]]:
    name, sep, coords = spec.partition("=")
    if not sep or not name:
        raise ValueError(f"{what} {spec!r} must look like NAME=x1,y1,...")
    return name, _numbers(coords, f"{what} {name!r}")


def parse_lines(specs: list[str]) -> list[dict[str, Any]]:
    lines = []
    for spec in specs:
        name, v = _named(spec, "--line")
        if len(v) != 4:
            raise ValueError(f"--line {name!r} needs 4 numbers x1,y1,x2,y2, got {len(v)}")
        lines.append({"id": name, "camera": CAMERA_ID, "points": [v[:2], v[2:]]})
    return lines


def parse_coverage(spec: str | None) -> dict[str, Any] | None:
    if spec is None:
        return None
    v = _numbers(spec, "--coverage")
    if len(v) < 6 or len(v) % 2:
        raise ValueError(f"--coverage needs an even number (>= 6) of coordinates, got {len(v)}")
    return {"polygon": [v[i : i + 2] for i in range(0, len(v), 2)]}


def parse_zones(specs: list[str]) -> list[dict[str, Any]]:
    zones = []
    for spec in specs:
        name, v = _named(spec, "--zone")
        if len(v) < 6 or len(v) % 2:
            raise ValueError(f"--zone {name!r} needs an even number (>= 6) of coordinates, got {len(v)}")
        zones.append({"id": name, "camera": CAMERA_ID, "polygon": [v[i : i + 2] for i in range(0, len(v), 2)]})
    return zones


def video_site(
    video: str,
    fps: float | None,
    lines: list[str],
    zones: list[str],
    reid: bool,
    detector: str = DEFAULT_PRESET,
    coverage: str | None = None,
    input_size: tuple[int, int] | None = None,
) -> SiteConfig:
    """A one-camera site around a single video, so the tools run the agent's exact code."""
    camera = {"id": CAMERA_ID, "source": video, "floor": "floor", "fps_hint": fps, "coverage": parse_coverage(coverage)}
    return SiteConfig.model_validate(
        {
            "site": {"id": "adhoc"},
            "floors": [{"id": "floor"}],
            "cameras": [camera],
            "lines": parse_lines(lines),
            "zones": parse_zones(zones),
            "detector": detector if input_size is None else {"preset": detector, "input_size": input_size},
            "tracking": {"reid": reid},
        }
    )


def _video_site(args: argparse.Namespace, lines: list[str], zones: list[str]) -> SiteConfig:
    return video_site(
        args.video, args.fps, lines, zones, not args.no_reid, args.detector, args.coverage, args.input_size
    )


def _steps(args: argparse.Namespace, site: SiteConfig) -> tuple[FrameSource, CameraPerception, Iterator[VideoStep]]:
    from edge.agent.detector_profile import detector_plan
    from edge.agent.perception import CameraPerception
    from edge.agent.video import run_video
    from edge.inference.factory import create_detector, create_embedder, detect_workers_for, overlapped_threads
    from edge.sources.base import SourceError, SourceSpec
    from edge.sources.factory import open_source
    from shared.video_files import stated_frame_count

    spec = SourceSpec(CAMERA_ID, args.video, fps_hint=args.fps)
    try:
        source = open_source(spec, args.source_backend)
    except SourceError as exc:
        raise UsageError(str(exc)) from None
    plan = detector_plan(site, CAMERA_ID)
    if plan.profile.input_size != site.detector_of(CAMERA_ID).input_size:
        h, w = plan.profile.input_size
        print(f"detector input {h}x{w}, fitted to the video's frame (--input-size sets it)", file=sys.stderr)
    threads = overlapped_threads(args.threads)
    detector = plan.load(lambda p: create_detector(profile=p, threads=threads))
    embedder = create_embedder(threads=threads) if site.tracking.reid else None
    perception = CameraPerception.from_config(site, CAMERA_ID, source.fps, embedder)
    stated = None if spec.is_live else stated_frame_count(spec.path)
    ahead = detect_workers_for([detector])
    steps = run_video(source, detector, perception, progress=args.progress, total=stated, detect_ahead=ahead)
    return source, perception, _until_source_fails(steps, args.video, stated)


def _until_source_fails(steps: Iterator[VideoStep], video: str, stated: int | None) -> Iterator[VideoStep]:
    """`steps`, with a source that fails or a live stream that ends on the way made a clear error,
    and a file that ends well before the frames its header states named in a warning."""
    from edge.sources.base import SourceError

    frames = 0
    try:
        for step in steps:
            frames += 1
            yield step
    except SourceError as exc:
        raise UsageError(f"{exc}, after {frames} frames") from None
    if stated is not None and stated - frames > max(2, stated // 50):
        # Still a result: what was readable is real footage; the user learns the rest is missing.
        print(
            f"warning: {video} ended after {frames} frames, its header states {stated}: "
            "the file may be truncated or damaged",
            file=sys.stderr,
        )


def _track(args: argparse.Namespace) -> int:
    site = _video_site(args, [], [])

    from edge.evaluation.mot_writer import MotWriter

    source, _, steps = _steps(args, site)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with source, args.out.open("w") as out:
        writer = MotWriter(out, max_missing=int(args.fill_gaps * source.fps + 1e-9))
        try:
            for step in steps:
                writer.write(step.frame.index + 1, step.facts.detections)
        finally:
            # What was tracked before a source failed (or the run was stopped) is kept.
            writer.close()
    return 0


def _analyze(args: argparse.Namespace) -> int:
    # Lines and zones are checked before the models' libraries load: a typo is told at once.
    site = _video_site(args, args.line, args.zone)

    import numpy as np

    from edge.agent.video import end_of_video
    from edge.analytics.events import Direction, ZoneEventKind
    from edge.analytics.still import StillTracks

    source, perception, steps = _steps(args, site)
    still = StillTracks(args.still) if args.still > 0 else None
    first_ns: int | None = None
    counts = {line.id: {d.value: 0 for d in Direction} for line in site.lines}
    dwell: dict[str, list[float]] = {zone.id: [] for zone in site.zones}
    track_ids: set[int] = set()
    frames = 0
    last = None
    # A live stream that ends (or a source that fails) still reports what was seen, then the error.
    stopped: UsageError | None = None
    with source:
        try:
            for step in steps:
                frames += 1
                last = step.frame
                first_ns = step.frame.capture_time_ns if first_ns is None else first_ns
                track_ids.update(int(t) for t in step.facts.detections.tracker_id)
                if still is not None:
                    still.update(step.facts.detections, step.frame.capture_time_ns)
                for crossing in step.facts.line_events:
                    counts[crossing.line_id][crossing.direction.value] += 1
                for event in step.facts.zone_events:
                    if event.kind is ZoneEventKind.EXIT and event.dwell_s is not None:
                        dwell[event.zone_id].append(round(event.dwell_s, 3))
        except UsageError as exc:
            stopped = exc
        end = end_of_video(perception, last)
        for crossing in end.line_events:
            counts[crossing.line_id][crossing.direction.value] += 1
        for event in end.zone_events:
            if event.dwell_s is not None:
                dwell[event.zone_id].append(round(event.dwell_s, 3))
    # (spell, seconds from the video's first frame to its start)
    still_found = [
        (spell, (spell.start_ns - (first_ns or 0)) / 1e9) for spell in (still.spells() if still is not None else [])
    ]
    result = {
        "frames": frames,
        "fps": float(source.fps),
        "tracks": len(track_ids),
        "lines": counts,
        "zones": {zone: {"visits": len(values), "dwell_seconds": values} for zone, values in dwell.items()},
        "still": [
            {
                "track_id": spell.track_id,
                "from_s": round(from_s, 3),
                "seconds": round(spell.seconds, 3),
                "at": [round(v, 1) for v in spell.spot],
            }
            for spell, from_s in still_found
        ],
    }
    if args.json:
        json.dump(result, sys.stdout)
        sys.stdout.write("\n")
    else:
        print(f"{frames} frames at {source.fps:g} fps, {len(track_ids)} tracks")
        for name, c in counts.items():
            print(f"line {name}: in {c['in']}, out {c['out']}")
        for name, values in dwell.items():
            mean = float(np.mean(values)) if values else 0.0
            print(f"zone {name}: {len(values)} visits, mean dwell {mean:.1f} s")
        for spell, from_s in still_found:
            x, y = spell.spot
            print(
                f"still: track {spell.track_id} stayed at ({x:.0f}, {y:.0f}) for {spell.seconds:.1f} s from "
                f"{from_s:.1f} s: a person waiting, or an object taken for one (leave it out with --coverage)"
            )
    if stopped is not None:
        raise stopped
    return 0
