"""`mallflow db upgrade|downgrade|current|retention`"""

from __future__ import annotations

import argparse
from pathlib import Path

from alembic import command


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("db", help="database migrations (SQLite by default, PostgreSQL by --db URL)")
    p.add_argument("--db", default=None, help="SQLAlchemy URL (default MALLFLOW_DB_URL or the embedded SQLite)")
    dsub = p.add_subparsers(dest="db_command", required=True)
    up = dsub.add_parser("upgrade", help="migrate to a revision (default head)")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(handler=_upgrade)
    down = dsub.add_parser("downgrade", help="migrate down to a revision (e.g. -1 or base)")
    down.add_argument("revision")
    down.set_defaults(handler=_downgrade)
    dsub.add_parser("current", help="show the current revision").set_defaults(handler=_current)
    ret = dsub.add_parser("retention", help="delete what the sites' retention settings say is too old")
    ret.add_argument("--config", action="append", required=True, type=Path, help="site YAML (repeatable)")
    # SUPPRESS: without --db here, the group's `mallflow db --db URL retention` stays in force.
    ret.add_argument("--db", default=argparse.SUPPRESS, help="SQLAlchemy URL (as for `mallflow db`)")
    ret.set_defaults(handler=_retention)


def _upgrade(args: argparse.Namespace) -> int:
    from cloud.storage.migrate import upgrade

    upgrade(args.db, args.revision)
    return 0


def _downgrade(args: argparse.Namespace) -> int:
    from cloud.storage.migrate import downgrade

    downgrade(args.db, args.revision)
    return 0


def _current(args: argparse.Namespace) -> int:
    from cloud.storage.migrate import alembic_config

    command.current(alembic_config(args.db), verbose=False)
    return 0


def _retention(args: argparse.Namespace) -> int:
    import dataclasses
    import time

    from cloud.analytics.retention import apply_retention
    from cloud.storage import create_db_engine, session_factory
    from shared.config import load_site_config

    sites = [load_site_config(path) for path in args.config]
    engine = create_db_engine(args.db)
    now_ns = time.time_ns()
    try:
        for site in sites:
            # One transaction per site: a failure keeps what earlier sites already did.
            with session_factory(engine).begin() as session:
                result = apply_retention(session, site, now_ns)
            counts = ", ".join(f"{name} {value}" for name, value in dataclasses.asdict(result).items())
            print(f"{site.site.id}: {counts}")
    finally:
        engine.dispose()
    return 0
