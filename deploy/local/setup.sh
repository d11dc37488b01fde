#!/usr/bin/env bash
# Idempotent setup on a fresh Debian machine: system packages, the .venv with
# Mallflow installed (editable, with dev tools), Kafka jars and the sample video.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
# shellcheck source=deploy/local/env.sh
source deploy/local/env.sh
log() { echo "[setup] $*" >&2; }

apt_packages=(
  postgresql openjdk-17-jre-headless maven
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-libav
  python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0
  # The tests' RTSP cameras (tests/support/rtsp_server.py): h264parse (bad), x264enc (ugly),
  # GstRtspServer through PyGObject
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gir1.2-gst-rtsp-server-1.0 libgstrtspserver-1.0-0
  libgl1 libglib2.0-0
  chromium chromium-driver
)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

PYTHON=${PYTHON:-python3}
$PYTHON -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { log "Python >= 3.11 required"; exit 1; }
[ -x .venv/bin/python ] || { log "creating .venv"; $PYTHON -m venv .venv; }
stamp=.venv/.mallflow-deps
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "installing Python dependencies into .venv (first run downloads torch for boxmot: a few minutes)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev]"
  echo "$want" > "$stamp"
fi

# GStreamer's Python bindings come from Debian (PyGObject needs girepository to
# build); the system `gi` matches the venv's CPython ABI, so link just that package.
site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
abi=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
if [ -d /usr/lib/python3/dist-packages/gi ] && ls /usr/lib/python3/dist-packages/gi/_gi"$abi" >/dev/null 2>&1; then
  ln -sfn /usr/lib/python3/dist-packages/gi "$site/gi"
else
  log "system gi does not match this Python ($abi): the GStreamer source is unavailable, OpenCV is used"
fi

deploy/local/kafka.sh install
.venv/bin/mallflow data fetch >/dev/null
if ! .venv/bin/mallflow models verify >/dev/null; then
  log "models missing in ${MALLFLOW_MODEL_DIR:-$MALLFLOW_CACHE_DIR/models}; trying official downloads"
  .venv/bin/mallflow models fetch || log "set MALLFLOW_MODEL_DIR to a folder with the models (see: mallflow models list)"
fi
log "ready"
