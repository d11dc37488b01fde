#!/usr/bin/env bash
# Start, check or stop the local stack: Kafka (KRaft) and PostgreSQL on 127.0.0.1.
#   deploy/local/services.sh up|down|status
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source deploy/local/env.sh
case "${1:-}" in
  up)
    deploy/local/kafka.sh start
    deploy/local/postgres.sh start
    .venv/bin/mallflow topics create --bootstrap "$MALLFLOW_KAFKA_BOOTSTRAP_SERVERS"
    ;;
  down)
    deploy/local/kafka.sh stop
    deploy/local/postgres.sh stop
    ;;
  status)
    rc=0
    deploy/local/kafka.sh status || rc=1
    deploy/local/postgres.sh status || rc=1
    exit $rc
    ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
