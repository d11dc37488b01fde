"""`mallflow config validate FILE...`"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from shared.config import ConfigError, load_site_config


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("config", help="validate site configuration files")
    csub = p.add_subparsers(dest="config_command", required=True)
    v = csub.add_parser("validate", help="check site YAML files and report every problem")
    v.add_argument("files", nargs="+", type=Path)
    v.set_defaults(handler=_validate)


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
