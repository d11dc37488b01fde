"""`mallflow api [--db URL] [--port N]`: the query API and the dashboard."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("api", help="serve the query API and the dashboard")
    p.add_argument("--db", default=None, help="SQLAlchemy URL (default MALLFLOW_DB_URL or the embedded SQLite)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--api-keys-file", type=Path, default=None, help="ROLE:KEY lines (also read: MALLFLOW_API_KEYS)")
    p.add_argument("--anonymous-read", action="store_true", help="reads need no key (loopback addresses only)")
    p.add_argument("--cors-origin", action="append", default=[], help="allow this browser origin (repeatable)")
    p.set_defaults(handler=_api)


def _api(args: argparse.Namespace) -> int:
    from cloud.api.auth import ENV_VAR, KeyRing
    from cloud.api.server import serve
    from cloud.api.settings import ApiSettings

    if not 0 < args.port < 65536:
        raise ValueError(f"--port must be 1-65535, got {args.port}")
    settings = ApiSettings(
        keys=KeyRing.load(os.environ.get(ENV_VAR), args.api_keys_file),
        anonymous_read=args.anonymous_read,
        cors_origins=tuple(args.cors_origin),
    )
    print(f"Mallflow API on http://{args.host}:{args.port}/ (OpenAPI: /docs, /openapi.json)")
    serve(args.db, args.host, args.port, settings)
    return 0
