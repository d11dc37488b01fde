#!/usr/bin/env bash
# Local Apache Kafka (KRaft, single node) from the official jars on Maven Central.
#   deploy/local/kafka.sh install|start|stop|status|reset
# State lives under $MALLFLOW_CACHE_DIR (default ~/.cache/mallflow), never in the repo.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
KAFKA_VERSION=${KAFKA_VERSION:-4.1.1}
PORT=${MALLFLOW_KAFKA_PORT:-9092}
CONTROLLER_PORT=${MALLFLOW_KAFKA_CONTROLLER_PORT:-19093}
cache=${MALLFLOW_CACHE_DIR:-$HOME/.cache/mallflow}
libs=$cache/kafka/$KAFKA_VERSION/libs
run=$cache/run/kafka-$PORT
pidfile=$run/kafka.pid

log() { echo "[kafka] $*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

install() {
  if [ -f "$libs/.complete" ]; then return 0; fi
  command -v java >/dev/null || { log "java not found: install openjdk-17-jre-headless"; exit 1; }
  command -v mvn >/dev/null || { log "mvn not found: install maven"; exit 1; }
  log "fetching Kafka $KAFKA_VERSION jars from Maven Central into $libs"
  mkdir -p "$libs"
  mvn -q -B -Dstyle.color=never -f "$here/kafka/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DoutputDirectory="$libs" -DincludeScope=runtime
  touch "$libs/.complete"
}

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

start() {
  install
  if running && port_open "$PORT"; then log "already running on 127.0.0.1:$PORT"; return 0; fi
  mkdir -p "$run/data" "$run/logs"
  sed -e "s#@PORT@#$PORT#g" -e "s#@CONTROLLER_PORT@#$CONTROLLER_PORT#g" -e "s#@DATA_DIR@#$run/data#g" \
    "$here/kafka/server.properties.in" > "$run/server.properties"
  local cp="$libs/*"
  if [ ! -f "$run/data/meta.properties" ]; then
    local cluster_id
    cluster_id=$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
    log "formatting storage (cluster $cluster_id)"
    java -cp "$cp" -Dlog4j2.configurationFile="$here/kafka/log4j2.properties" -Dkafka.logs.dir="$run/logs" \
      kafka.tools.StorageTool format -t "$cluster_id" -c "$run/server.properties" >"$run/logs/format.log" 2>&1
  fi
  log "starting broker on 127.0.0.1:$PORT"
  nohup java -Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$here/kafka/log4j2.properties" -Dkafka.logs.dir="$run/logs" \
    -cp "$cp" kafka.Kafka "$run/server.properties" >"$run/logs/stdout.log" 2>&1 &
  echo $! > "$pidfile"
  for _ in $(seq 1 120); do
    if port_open "$PORT"; then log "up"; return 0; fi
    if ! running; then log "broker exited; see $run/logs"; tail -n 30 "$run/logs/stdout.log" "$run/logs/server.log" >&2 || true; exit 1; fi
    sleep 0.5
  done
  log "broker did not open port $PORT within 60 s; see $run/logs"; exit 1
}

stop() {
  if running; then
    local pid; pid=$(cat "$pidfile")
    log "stopping (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

status() {
  if running && port_open "$PORT"; then echo "kafka: up on 127.0.0.1:$PORT (pid $(cat "$pidfile"))"; else echo "kafka: down"; return 1; fi
}

reset() { stop; rm -rf "$run"; log "state removed"; }

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  reset) reset ;;
  *) echo "usage: $0 install|start|stop|status|reset" >&2; exit 2 ;;
esac
