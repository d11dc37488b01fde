# Sourced by the local scripts: defaults for where models, data and services are.
# Anything already set in the environment wins.
_mf_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export MALLFLOW_CACHE_DIR=${MALLFLOW_CACHE_DIR:-$HOME/.cache/mallflow}
# ../shared beside the checkout carries the models on development and CI machines.
if [ -z "${MALLFLOW_MODEL_DIR:-}" ] && [ -d "$_mf_root/../shared/models" ]; then
  MALLFLOW_MODEL_DIR=$(cd "$_mf_root/../shared/models" && pwd)
  export MALLFLOW_MODEL_DIR
fi
export MALLFLOW_KAFKA_BOOTSTRAP_SERVERS=${MALLFLOW_KAFKA_BOOTSTRAP_SERVERS:-127.0.0.1:${MALLFLOW_KAFKA_PORT:-9092}}
export MALLFLOW_PG_URL=${MALLFLOW_PG_URL:-postgresql+psycopg://mallflow:mallflow@127.0.0.1:${MALLFLOW_PG_PORT:-5433}/mallflow}
