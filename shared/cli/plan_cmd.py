"""`mallflow plan --config SITE.yaml --floor ID --out PLAN.png`: a floor plan from the calibration.

For sites without an architect's plan: the cameras' fields of view on a metre grid, at the
floor's `pixels_per_metre`, its pixel (0, 0) at the extent's corner. Prints the YAML the
floor needs to show it under the site map.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from shared.cli.errors import UsageError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("plan", help="draw a floor plan from the site's calibration (what its cameras see)")
    p.add_argument("--config", type=Path, required=True, help="site YAML")
    p.add_argument("--floor", default=None, help="floor id (default: the site's first floor)")
    p.add_argument("--out", type=Path, required=True, help="PNG to write")
    p.set_defaults(handler=_plan)


def _plan(args: argparse.Namespace) -> int:
    from shared.config import ConfigError, load_site_config
    from shared.geometry.plan_image import encode_png, render_plan

    try:
        site = load_site_config(args.config)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    floor_id = args.floor or site.floors[0].id
    if floor_id not in {f.id for f in site.floors}:
        raise UsageError(f"site {site.site.id!r} has no floor {floor_id!r} (floors: {[f.id for f in site.floors]})")
    try:
        plan = render_plan(site, floor_id)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    try:
        args.out.write_bytes(encode_png(plan))
    except OSError as exc:
        raise UsageError(f"cannot write {args.out}: {exc.strerror}") from None
    height, width = plan.image.shape[:2]
    print(f"wrote {args.out}: {width}x{height} px; the floor's YAML:")
    print(f"    plan_image: {args.out.name}")
    print(f"    pixels_per_metre: {plan.pixels_per_metre:g}")
    print(f"    origin: [{plan.origin[0]:g}, {plan.origin[1]:g}]")
    return 0
