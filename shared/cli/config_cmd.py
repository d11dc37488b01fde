"""`mallflow config validate FILE...` and `mallflow config check FILE...`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from shared.config import ConfigError, load_site_config
from shared.config.advice import settings_warnings
from shared.config.site import Camera
from shared.video_files import frame_size


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("config", help="validate site configuration files")
    csub = p.add_subparsers(dest="config_command", required=True)
    v = csub.add_parser("validate", help="check site YAML files and report every problem")
    v.add_argument("files", nargs="+", type=Path)
    v.set_defaults(handler=_validate)
    c = csub.add_parser(
        "check",
        help="validate site YAML files, then warn where a camera's calibration error or floor coverage, or a zone's "
        "exit grace against the tracker's buffer, looks wrong",
    )
    c.add_argument("files", nargs="+", type=Path)
    c.set_defaults(handler=_check)


def _validate(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.files:
        try:
            cfg = load_site_config(path)
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            failed += 1
            continue
        print(
            f"{path}: ok (site {cfg.site.id}: {len(cfg.floors)} floors, {len(cfg.cameras)} cameras, "
            f"{len(cfg.lines)} lines, {len(cfg.zones)} zones, {len(cfg.topology)} topology links)"
        )
    return 1 if failed else 0


def _check(args: argparse.Namespace) -> int:
    # Imported here: the geometry loads OpenCV, which no other `mallflow` command should pay for at start.
    from shared.geometry.calibration import check_camera

    problems = 0
    for path in args.files:
        try:
            cfg = load_site_config(path)
        except ConfigError as exc:
            print(exc, file=sys.stderr)
            problems += 1
            continue
        print(f"{path}: site {cfg.site.id}")
        advice = settings_warnings(cfg)
        for warning in advice:
            print(f"  warning: {warning}")
        problems += len(advice)
        for camera in cfg.cameras:
            if camera.homography is None:
                print(f"  {camera.id}: no homography (image-space lines and zones only; nothing to check)")
                continue
            size, unknown = _frame_size(camera)
            check = check_camera(camera, size)
            print(f"  {camera.id}: {check.summary()}")
            if size is None:
                print(f"  {camera.id}: floor coverage not checked: {unknown}")
            for warning in check.warnings:
                print(f"  warning: {warning}")
            problems += len(check.warnings)
    return 1 if problems else 0


def _frame_size(camera: Camera) -> tuple[tuple[int, int] | None, str]:
    """The camera's frame size in pixels, or None and why it is unknown.

    A crop says it; a video file's header does. A live camera is not opened here (this runs
    anywhere, without its network or credentials): `mallflow calibrate` checks it on a frame.
    """
    if camera.crop is not None:
        x0, y0, x1, y1 = camera.crop
        return (x1 - x0, y1 - y0), ""
    path = camera.source.removeprefix("file://")
    if "://" in path or path.isdigit() or path.startswith("/dev/"):
        return None, f"a live source; `mallflow calibrate --camera {camera.id}` checks it on a frame"
    if not os.path.isfile(path):
        return None, f"video file {path} not found"
    size = frame_size(path)
    if size is None:
        return None, f"cannot read the frame size of {path}"
    return size, ""
