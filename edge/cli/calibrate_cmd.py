"""`mallflow calibrate --config SITE --camera ID --out overlay.png`: check a camera's calibration on its picture.

For installers: one frame from the camera, faces blurred like every image that leaves the
edge, with the floor's 1 m grid, the lines, zones and exits drawn over it, and a table of
each calibration point's error in metres. `mallflow config check` gives the same warnings
without a camera at hand.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from edge.cli.video_cmds import SOURCE_BACKENDS
from shared.cli.errors import UsageError

if TYPE_CHECKING:
    from shared.config.detector import DetectorProfile
    from shared.config.site import Camera
    from shared.geometry.calibration import CameraCheck


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "calibrate",
        help="draw a camera's floor grid, lines, zones and exits on its frame; print its calibration errors",
    )
    p.add_argument("--config", required=True, type=Path, help="site YAML")
    p.add_argument("--camera", required=True, metavar="ID", help="the camera to check")
    p.add_argument("--out", required=True, type=Path, help="PNG to write (faces blurred)")
    p.add_argument("--source-backend", choices=SOURCE_BACKENDS, default="auto")
    p.add_argument("--threads", type=int, default=None, help="ONNX Runtime threads (default: all cores)")
    p.set_defaults(handler=_calibrate)


def _calibrate(args: argparse.Namespace) -> int:
    from edge.agent.detector_profile import detector_plan
    from edge.calibration.overlay import draw_overlay
    from shared.config import load_site_config
    from shared.geometry.calibration import check_camera

    site = load_site_config(args.config)
    camera = _camera(site.cameras, args.camera, args.config)
    # Everything that can be wrong with the command line fails before the camera is opened.
    _check_output(args.out)
    frame = _first_frame(camera, args.source_backend)
    check = check_camera(camera, (frame.shape[1], frame.shape[0]))
    declared = site.detector_of(camera.id)
    fitted = declared.for_frame(frame.shape[:2])
    blurred, people, faces = _blurred(frame, fitted, args.threads)
    _write_png(args.out, draw_overlay(blurred, site, camera, check))
    for line in _report(check):
        print(line)
    how = "faces and head regions" if faces else "head regions only (face model unavailable)"
    print(f"wrote {args.out}: {people} people found, {how} blurred")
    if fitted != declared and detector_plan(site, camera.id).per_frame:
        # onnxruntime fits a live camera at its first frame; engines built ahead for one size do not.
        h, w = fitted.input_size
        print(
            f"detector input: {frame.shape[1]}x{frame.shape[0]} frames run at {h}x{w} on onnxruntime (fitted at the "
            f"first frame); for TensorRT or DeepStream give this camera detector.input_size: [{h}, {w}]"
        )
    return 0


def _camera(cameras: list[Camera], camera_id: str, where: Path) -> Camera:
    known = {c.id: c for c in cameras}
    camera = known.get(camera_id)
    if camera is None:
        raise UsageError(f"{where}: no camera {camera_id!r} (cameras: {', '.join(known)})")
    if camera.homography is None:
        raise UsageError(
            f"{where}: camera {camera_id!r} has no homography, so there is no calibration to check: add "
            "homography.image_points and floor_points (4 or more pairs, 6 or more to check them)"
        )
    return camera


def _check_output(out: Path) -> None:
    if out.suffix.lower() != ".png":
        raise UsageError(f"--out {out}: must end in .png (lossless, so thin grid lines stay sharp)")
    if out.is_dir():
        raise UsageError(f"--out {out} is a directory; give a file name ending in .png")
    parent = out.parent
    if not parent.is_dir():
        raise UsageError(f"--out {out}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise UsageError(f"--out {out}: not writable")


def _first_frame(camera: Camera, backend: str) -> NDArray[np.uint8]:
    from edge.sources.base import SourceError, SourceSpec
    from edge.sources.factory import open_source

    # One frame is read, so the rate does not matter; without a hint a source stating none would be refused.
    spec = SourceSpec(camera.id, camera.source, crop=camera.crop, fps_hint=camera.fps_hint or 1.0, stream=camera.stream)
    try:
        with open_source(spec, backend) as source:
            frame = next(iter(source), None)
    except SourceError as exc:
        raise UsageError(f"{exc} (is the camera up, and its source in the site file right?)") from None
    if frame is None:
        raise UsageError(f"camera {camera.id}: {spec.display_uri} ended before its first frame")
    return frame.image


def _blurred(
    frame: NDArray[np.uint8], profile: DetectorProfile, threads: int | None
) -> tuple[NDArray[np.uint8], int, bool]:
    """The frame with faces blurred as the agent blurs snapshots; the people found; whether faces were detected."""
    from edge.inference.factory import create_detector
    from edge.privacy.snapshots import default_blurrer

    # The site's own detector for this camera: the people the blur must cover are the ones it finds.
    people = create_detector(profile=profile, threads=threads).detect([frame])[0][:, :4]
    blurrer = default_blurrer()
    return blurrer.blur(frame, people), len(people), blurrer.detector is not None


def _write_png(out: Path, image: NDArray[np.uint8]) -> None:
    import cv2

    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise UsageError(f"could not encode the overlay as PNG for {out}")
    try:
        out.write_bytes(np.asarray(data).tobytes())
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot write it: {exc.strerror or exc}") from None


def _report(check: CameraCheck) -> list[str]:
    """The printed table: each calibration point's image pixel, floor point given and fitted, and error."""
    lines = [
        f"camera {check.camera_id}: calibration points (image: pixels of the full frame; floor: metres)",
        f"{'#':>3}  {'image px':<16}{'floor m given':<22}{'floor m fitted':<22}{'error m':>8}",
    ]
    for p in check.points:
        fitted = f"({p.fitted[0]:.3f}, {p.fitted[1]:.3f})" if p.fitted is not None else "beyond horizon"
        lines.append(
            f"{p.index:>3}  {f'({p.image[0]:g}, {p.image[1]:g})':<16}"
            f"{f'({p.floor[0]:.3f}, {p.floor[1]:.3f})':<22}{fitted:<22}{p.error_m:>8.3f}"
        )
    lines.append(check.summary())
    lines += [f"warning: {w}" for w in check.warnings] or ["no warnings"]
    return lines
