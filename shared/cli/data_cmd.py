"""`mallflow data fetch`"""

from __future__ import annotations

import argparse

from shared.assets.datasets import fetch_vtest


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("data", help="obtain sample footage (MALLFLOW_DATA_DIR)")
    dsub = p.add_subparsers(dest="data_command", required=True)
    dsub.add_parser("fetch", help="get vtest.avi (PETS09-S2L1) from Debian's opencv-doc").set_defaults(handler=_fetch)


def _fetch(args: argparse.Namespace) -> int:
    print(fetch_vtest())
    return 0
