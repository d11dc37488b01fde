#!/usr/bin/env bash
# The README's test command: set up, start Kafka + PostgreSQL, run the suite and linters.
# Extra arguments go to pytest (e.g. deploy/local/test.sh -k config).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source deploy/local/env.sh
deploy/local/setup.sh
deploy/local/services.sh up
# Integration tests fail instead of skipping when a service is missing.
export MALLFLOW_REQUIRE_SERVICES=1
mkdir -p test-artifacts
rc=0
.venv/bin/python -m pytest "$@" || rc=$?
echo "[test] ruff + mypy"
.venv/bin/ruff check . || rc=1
.venv/bin/mypy || rc=1
exit $rc
