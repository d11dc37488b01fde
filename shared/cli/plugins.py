"""Subcommands contributed by the edge and the cloud through entry points, and output both print."""

from __future__ import annotations

import argparse
import json
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any


def register_plugins(sub: argparse._SubParsersAction[argparse.ArgumentParser], group: str) -> None:
    """Let every `group` entry point add its subcommands, in name order (so `shared` imports neither half)."""
    for ep in sorted(entry_points(group=group), key=lambda e: e.name):
        ep.load()(sub)


def add_json_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", default=None, metavar="FILE", help="also write the numbers as JSON (- for stdout)")


def write_json(target: str | None, data: Any) -> None:
    """`--json` output: nothing without a target, stdout for `-`, else the file."""
    if target is None:
        return
    text = json.dumps(data, indent=2, default=str)
    if target == "-":
        print(text)
    else:
        Path(target).write_text(text + "\n", encoding="utf-8")
