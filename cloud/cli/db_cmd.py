"""`mallflow db upgrade|downgrade|current`"""

from __future__ import annotations

import argparse

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
