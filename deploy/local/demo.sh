#!/usr/bin/env bash
# The README's demo command: set up, start Kafka + PostgreSQL, run the edge agent on
# PETS09-S2L1 (vtest.avi) with deploy/examples/pets09.yaml, then show what reached Kafka.
# Until the cloud side lands (issue 4) the demo ends at the events topic.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source deploy/local/env.sh
deploy/local/setup.sh
deploy/local/services.sh up
echo "[demo] edge agent: cam-main of site pets09 -> Kafka ${MALLFLOW_KAFKA_BOOTSTRAP_SERVERS}"
.venv/bin/mallflow edge run --config deploy/examples/pets09.yaml --edge-id demo-edge --metrics-port 0 "$@"
echo "[demo] events on the topic (all demo runs so far):"
.venv/bin/mallflow topics read
