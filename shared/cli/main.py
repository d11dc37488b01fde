"""Entry point of the `mallflow` console command.

Each subcommand group registers itself through the `mallflow.commands` entry-point
group (see pyproject.toml), so this module imports neither `edge` nor `cloud` and a
slow import (torch, onnxruntime) happens only when that subcommand runs.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from shared.cli.errors import UsageError
from shared.cli.plugins import register_plugins
from shared.config import ConfigError

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mallflow", description="Mallflow: edge-cloud people analytics for shopping malls."
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    register_plugins(sub, "mallflow.commands")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler: Handler = args.handler
    try:
        return handler(args)
    except (ConfigError, UsageError, FileNotFoundError, ValueError) as exc:
        print(f"mallflow {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
