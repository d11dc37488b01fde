#!/usr/bin/env bash
# The README's demo command: set up, start Kafka + PostgreSQL, run the edge agent on
# PETS09-S2L1 (vtest.avi) with deploy/examples/pets09.yaml publishing to Kafka, consume the
# events into the embedded SQLite database (MALLFLOW_DB_URL selects PostgreSQL instead) and
# print the site's numbers.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source deploy/local/env.sh
deploy/local/setup.sh
deploy/local/services.sh up
echo "[demo] edge agent: cam-main of site pets09 -> Kafka ${MALLFLOW_KAFKA_BOOTSTRAP_SERVERS}"
.venv/bin/mallflow edge run --config deploy/examples/pets09.yaml --edge-id demo-edge --metrics-port 0 "$@"
echo "[demo] cloud consumer: Kafka -> ${MALLFLOW_DB_URL:-embedded SQLite}"
.venv/bin/mallflow cloud run --config deploy/examples/pets09.yaml --metrics-port 0 --idle-exit 5
.venv/bin/mallflow cloud report --config deploy/examples/pets09.yaml
