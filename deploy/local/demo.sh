#!/usr/bin/env bash
# The README's demo command: set up, start Kafka + PostgreSQL, then `mallflow demo` on the
# split-view PETS09 site (two cameras cut from vtest.avi): edge → in-process sink → cloud
# ingest and stitching → the embedded SQLite database, a printed summary, and the dashboard
# on 127.0.0.1 (Ctrl-C stops it). Arguments go to `mallflow demo`, e.g.
#   deploy/local/demo.sh --bootstrap 127.0.0.1:9092 --db postgresql://mallflow:mallflow@127.0.0.1:5433/mallflow
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source deploy/local/env.sh
deploy/local/setup.sh
deploy/local/services.sh up
exec .venv/bin/mallflow demo "$@"
