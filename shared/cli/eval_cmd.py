"""`mallflow eval`: one command group, filled by the edge (tracking, devkit, sequence,
gt-tracklets) and the cloud (stitching) through the `mallflow.eval` entry points, so
this module imports neither."""

from __future__ import annotations

import argparse

from shared.cli.plugins import register_plugins


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "eval", help="accuracy against ground truth (tracking, counts, dwell, floor position, stitching)"
    )
    esub = p.add_subparsers(dest="eval_command", required=True)
    register_plugins(esub, "mallflow.eval")
