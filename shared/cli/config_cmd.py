"""`mallflow config validate FILE...` and `mallflow config check FILE...`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from shared.config import ConfigError, load_site_config
from shared.config.advice import settings_warnings
from shared.config.detector import DetectorProfile
from shared.video_files import camera_frame_size


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
            size, unknown = camera_frame_size(camera)
            profile = cfg.detector_of(camera.id)
            print(f"  {camera.id} detector: {_detector_input(profile, size, unknown)}")
            if margin := profile.resolved_foot_margin():
                print(
                    f"  {camera.id} feet: {margin:g} of each box's height above its bottom edge (detector.foot_margin)"
                )
            if camera.homography is None:
                print(f"  {camera.id}: no homography (image-space lines and zones only; nothing to check)")
                continue
            check = check_camera(camera, size)
            print(f"  {camera.id}: {check.summary()}")
            if size is None:
                print(f"  {camera.id}: floor coverage not checked: {unknown}")
            for warning in check.warnings:
                print(f"  warning: {warning}")
            problems += len(check.warnings)
    return 1 if problems else 0


def _detector_input(declared: DetectorProfile, size: tuple[int, int] | None, unknown: str) -> str:
    """The input size the camera's detector runs at, and where it comes from."""
    h, w = declared.input_size
    text = f"{declared.model} at {h}x{w}"
    if not declared.fit_to_frame:
        return text + " (the profile's input_size)"
    if size is None:
        fh, fw = declared.for_frame((1080, 1920)).input_size
        return text + (
            f" until its first frame ({unknown}): onnxruntime fits it then (1920x1080: {fh}x{fw}); "
            "TensorRT and DeepStream keep it unless detector.input_size says otherwise"
        )
    fitted = declared.for_frame((size[1], size[0]))
    if fitted == declared:
        return text
    fh, fw = fitted.input_size
    return f"{declared.model} at {fh}x{fw}, fitted to its {size[0]}x{size[1]} frame"
