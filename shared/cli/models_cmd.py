"""`mallflow models list|verify|fetch`"""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from shared.assets.download import FetchError
from shared.assets.models import MODELS, ModelNotFoundError, ModelState, check_model, fetch_model
from shared.cli.plugins import register_plugins
from shared.paths import model_dir


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("models", help="list, verify and fetch model files (MALLFLOW_MODEL_DIR)")
    msub = p.add_subparsers(dest="models_command", required=True)
    msub.add_parser("list", help="the models Mallflow needs and their state").set_defaults(handler=_list)
    msub.add_parser("verify", help="exit non-zero unless every model is present with its sha256").set_defaults(
        handler=_verify
    )
    f = msub.add_parser("fetch", help="download missing models from their official release URLs")
    f.add_argument("names", nargs="*", help="models to fetch (default: all missing)")
    f.set_defaults(handler=_fetch)
    # Subcommands that need an engine (e.g. build-engine, from the edge) join through entry points.
    register_plugins(msub, "mallflow.models")


def _list(args: argparse.Namespace) -> int:
    table = Table(title=f"models in {model_dir()}", show_lines=True)
    for col in ("name", "file", "state", "role", "input", "sha256", "source", "licence"):
        table.add_column(col, overflow="fold")
    for spec in MODELS.values():
        table.add_row(
            spec.name,
            spec.filename,
            check_model(spec).value,
            spec.role,
            spec.input_shape,
            spec.sha256,
            spec.url or spec.how_to_obtain,
            spec.licence,
        )
    Console(width=max(160, Console().width)).print(table)
    return 0


def _verify(args: argparse.Namespace) -> int:
    bad = 0
    for spec in MODELS.values():
        state = check_model(spec)
        print(f"{spec.filename}: {state.value}")
        bad += state is not ModelState.OK
    return 1 if bad else 0


def _fetch(args: argparse.Namespace) -> int:
    names = args.names or [n for n, s in MODELS.items() if check_model(s) is not ModelState.OK]
    failed = 0
    for name in names:
        spec = MODELS.get(name)
        if spec is None:
            raise ValueError(f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}")
        try:
            print(f"{name}: fetched to {fetch_model(spec)}")
        except (FetchError, ModelNotFoundError) as exc:
            print(f"{name}: {exc}")
            failed += 1
    return 1 if failed else 0
