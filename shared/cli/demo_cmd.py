"""`mallflow demo`: the example site end to end on one machine, then its dashboard.

Embedded by default (edge → in-process sink → cloud ingest and stitching → SQLite);
with --bootstrap the same envelopes go through Kafka and the cloud consumer group.
"""

from __future__ import annotations

import argparse
import secrets
import time
from pathlib import Path

from shared.cli.errors import UsageError

# The split-view PETS09 site: two cameras cut from vtest.avi with a blind strip, so
# that cross-camera stitching really happens.
EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "deploy" / "examples"
DEFAULT_CONFIG = EXAMPLES_DIR / "pets09-split.yaml"
HOUR_NS = 3600 * 1_000_000_000


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="run the example site end to end, print its numbers and serve the dashboard")
    p.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG, help="site YAML (default: the split-view PETS09 site)"
    )
    p.add_argument("--db", default=None, help="SQLAlchemy URL (default MALLFLOW_DB_URL or the embedded SQLite)")
    p.add_argument("--bootstrap", default=None, help="go through this Kafka broker instead of in process")
    p.add_argument("--edge-id", default="demo-edge")
    p.add_argument("--keep", action="store_true", help="keep the site's data of earlier demo runs")
    p.add_argument("--no-serve", action="store_true", help="exit after processing instead of serving the dashboard")
    p.add_argument("--host", default="127.0.0.1", help="dashboard address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="dashboard port (default 8000)")
    p.add_argument("--idle-exit", type=float, default=5.0, help="with --bootstrap: stop consuming after this idle time")
    p.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    from shared.config import load_site_config
    from shared.embedded import DemoOptions, load_halves

    if not args.config.is_file():
        raise UsageError(f"site config {args.config} does not exist (pass --config SITE.yaml)")
    if not 0 < args.port < 65536:
        raise UsageError(f"--port must be 1-65535, got {args.port}")
    site = load_site_config(args.config)
    options = DemoOptions(
        config=args.config,
        db_url=args.db,
        bootstrap=args.bootstrap,
        edge_id=args.edge_id,
    )
    edge, cloud = load_halves()
    if not args.keep:
        # Each run starts from an empty site, so its numbers are this run's alone.
        cloud.reset(options)
    started = time.time_ns()
    if args.bootstrap is None:
        print(f"[demo] {site.site.id}: edge → in process → cloud ({args.db or 'embedded database'})")
        with cloud.ingest(options) as handler:
            reports = edge.run(options, handler)
    else:
        print(f"[demo] {site.site.id}: edge → Kafka {args.bootstrap}")
        reports = edge.run(options, None)
        print(f"[demo] cloud consumer: Kafka → {args.db or 'embedded database'}")
        print(cloud.consume(options, args.idle_exit))
    for line in reports:
        print(f"[demo] {line}")
    # Events carry the video's own clock (start + frame time), which runs ahead of the
    # wall clock when frames decode faster than real time; hourly rollups count from
    # the hour's start. Whole hours around the run hold all of it.
    cloud.summary(options, started // HOUR_NS * HOUR_NS, (time.time_ns() // HOUR_NS + 2) * HOUR_NS)
    if args.no_serve:
        return 0
    # A key for this session only: the dashboard link carries it in the URL fragment,
    # which browsers never send to a server.
    key = secrets.token_urlsafe(24)
    print(f"[demo] dashboard: http://{args.host}:{args.port}/#site={site.site.id}&key={key}  (Ctrl-C to stop)")
    cloud.serve(options, args.host, args.port, key)
    return 0
