#!/usr/bin/env bash
# hush's main job on a fresh machine (README.md): installs what is missing, builds,
# initialises a single-manager cluster on the embedded SQLite store and serves it
# in the foreground. Ctrl-C stops it cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE_DIR=${HUSH_STATE_DIR:-/var/lib/hush/manager}
LISTEN=${HUSH_LISTEN:-127.0.0.1:4242}

need=()
for pkg in libfuse2 fuse ca-certificates; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing Debian packages: ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
[ -d node_modules ] || { echo "== npm ci"; npm ci --no-audit --no-fund; }
echo "== build"
npm run --silent build

hush() { node dist/cli/main.js "$@"; }
export HUSH_STATE_DIR="$STATE_DIR"
if [ ! -f "$STATE_DIR/keyring.json" ]; then
  echo "== initialising a cluster in $STATE_DIR (listening on $LISTEN)"
  hush manager init --listen "$LISTEN"
fi
cat <<MSG
== starting the manager (Ctrl-C to stop). In another shell, try:
     export HUSH_STATE_DIR=$STATE_DIR
     printf 's3cret' | node $(pwd)/dist/cli/main.js secret create demo_password -
     node $(pwd)/dist/cli/main.js secret ls
MSG
exec node dist/cli/main.js manager run
