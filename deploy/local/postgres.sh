#!/usr/bin/env bash
# Local PostgreSQL cluster "mallflow" (Debian's postgresql package) on 127.0.0.1.
#   deploy/local/postgres.sh start|stop|status|dsn
# Creates role and database `mallflow` (password `mallflow`) on first start.
# MALLFLOW_PG_CLUSTER and MALLFLOW_PG_PORT name another cluster (fault commands restart their
# own, never the shared one).
set -euo pipefail
PORT=${MALLFLOW_PG_PORT:-5433}
CLUSTER=${MALLFLOW_PG_CLUSTER:-mallflow}
log() { echo "[postgres] $*" >&2; }

pg_version() {
  local v
  v=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1)
  [ -n "$v" ] || { log "PostgreSQL is not installed: apt-get install postgresql"; exit 1; }
  echo "$v"
}

as_postgres() { runuser -u postgres -- "$@"; }

start() {
  local v; v=$(pg_version)
  if ! pg_lsclusters -h | awk '{print $2}' | grep -qx "$CLUSTER"; then
    log "creating cluster $v/$CLUSTER on port $PORT"
    pg_createcluster "$v" "$CLUSTER" -p "$PORT" -- --auth-local=peer --auth-host=scram-sha-256 >/dev/null
    cat >> "/etc/postgresql/$v/$CLUSTER/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
fsync = on
max_connections = 200
shared_buffers = 256MB
CONF
  fi
  if ! pg_lsclusters -h | awk -v c="$CLUSTER" '$2==c {print $4}' | grep -qx online; then
    log "starting cluster $v/$CLUSTER"
    pg_ctlcluster "$v" "$CLUSTER" start
  fi
  for _ in $(seq 1 60); do
    pg_isready -q -h 127.0.0.1 -p "$PORT" && break
    sleep 0.5
  done
  pg_isready -q -h 127.0.0.1 -p "$PORT" || { log "not accepting connections on $PORT"; exit 1; }
  as_postgres psql -q -p "$PORT" -tAc "SELECT 1 FROM pg_roles WHERE rolname='mallflow'" | grep -q 1 \
    || as_postgres psql -q -p "$PORT" -c "CREATE ROLE mallflow LOGIN CREATEDB PASSWORD 'mallflow'"
  # Tests and benchmarks drop their databases WITH (FORCE); an autovacuum worker analysing a
  # freshly filled table there belongs to no role, and only pg_signal_backend may end it.
  as_postgres psql -q -p "$PORT" -c "GRANT pg_signal_backend TO mallflow"
  as_postgres psql -q -p "$PORT" -tAc "SELECT 1 FROM pg_database WHERE datname='mallflow'" | grep -q 1 \
    || as_postgres createdb -p "$PORT" -O mallflow mallflow
  log "up on 127.0.0.1:$PORT ($(dsn))"
}

stop() {
  local v; v=$(pg_version)
  if pg_lsclusters -h | awk -v c="$CLUSTER" '$2==c {print $4}' | grep -qx online; then
    pg_ctlcluster "$v" "$CLUSTER" stop -m fast
  fi
}

status() {
  if pg_isready -q -h 127.0.0.1 -p "$PORT"; then echo "postgres: up on 127.0.0.1:$PORT"; else echo "postgres: down"; return 1; fi
}

dsn() { echo "postgresql+psycopg://mallflow:mallflow@127.0.0.1:$PORT/mallflow"; }

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  dsn) dsn ;;
  *) echo "usage: $0 start|stop|status|dsn" >&2; exit 2 ;;
esac
