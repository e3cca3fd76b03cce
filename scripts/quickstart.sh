#!/usr/bin/env bash
# hush's main job on a fresh machine (README.md), as root: installs what is missing,
# builds, initialises a single-node cluster on the embedded SQLite store (or reuses
# the one from a previous run), starts a manager and an agent serving the secrets
# at /run/secrets (or --mount DIR), with per-task anchors for containers in /run/hush
# (or --anchors DIR), creates a demo secret and service, and stays in the foreground.
# Ctrl-C stops everything cleanly: the mount, the anchor binds and the processes go.
#
#   bash scripts/quickstart.sh [--mount DIR] [--anchors DIR] [--state DIR] [--port N]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

MOUNT=/run/secrets
ANCHORS=/run/hush
STATE=/var/lib/hush
PORT=4242
while [ $# -gt 0 ]; do
  case "$1" in
    --mount) MOUNT=$2; shift 2 ;;
    --anchors) ANCHORS=$2; shift 2 ;;
    --state) STATE=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "quickstart: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

say() { printf '[hush] %s\n' "$*"; }
[ "$(id -u)" -eq 0 ] || { echo "quickstart: run as root (FUSE mount with allow_other, state in $STATE)" >&2; exit 1; }

if [ "${HUSH_QUICKSTART_SKIP_SETUP:-}" != 1 ]; then
  need=()
  for pkg in libfuse2 fuse libfuse-dev pkg-config ca-certificates; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
  done
  if [ ${#need[@]} -gt 0 ]; then
    say "installing Debian packages: ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  [ -d node_modules ] || { say "installing npm dependencies (npm ci)"; npm ci --no-audit --no-fund >/dev/null; }
  say "building"
  npm run --silent build
fi

hush() { node "$ROOT/dist/cli/main.js" "$@"; }
export HUSH_STATE_DIR="$STATE/manager"
AGENT_STATE="$STATE/agent"
LOGS="$STATE/logs"
mkdir -p "$LOGS"
chmod 700 "$STATE" "$LOGS"

manager_pid=''
agent_pid=''
stop() {
  local code=$1
  trap - INT TERM EXIT
  say "stopping"
  [ -n "$agent_pid" ] && kill -TERM "$agent_pid" 2>/dev/null && wait "$agent_pid" 2>/dev/null || true
  [ -n "$manager_pid" ] && kill -TERM "$manager_pid" 2>/dev/null && wait "$manager_pid" 2>/dev/null || true
  local mnt i
  mnt=$(realpath -m "$MOUNT")
  for i in $(seq 50); do grep -qs " $mnt fuse" /proc/mounts || break; sleep 0.1; done
  if grep -qs " $mnt fuse" /proc/mounts; then
    say "warning: $MOUNT is still mounted"
    exit 1
  fi
  anc=$(realpath -m "$ANCHORS")
  if grep -qs " $anc/[^ ]* fuse" /proc/mounts; then
    say "warning: anchors are still bound under $ANCHORS"
    exit 1
  fi
  say "stopped: agent and manager gone, $MOUNT unmounted"
  exit "$code"
}
trap 'stop 0' INT TERM
trap 'stop $?' EXIT

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then say "timed out waiting for $what (logs in $LOGS)"; exit 1; fi
    sleep 0.1
  done
}

if [ ! -f "$HUSH_STATE_DIR/keyring.json" ]; then
  say "initialising a cluster in $HUSH_STATE_DIR (embedded SQLite store)"
  hush manager init --listen "127.0.0.1:$PORT" >"$LOGS/init.txt"
else
  say "reusing the cluster in $HUSH_STATE_DIR"
fi

say "starting the manager on 127.0.0.1:$PORT (log: $LOGS/manager.log)"
hush manager run --state-dir "$HUSH_STATE_DIR" --listen "127.0.0.1:$PORT" >>"$LOGS/manager.log" 2>&1 &
manager_pid=$!
wait_for 20 "the manager" hush manager status

say "starting the agent, serving $MOUNT (log: $LOGS/agent.log)"
token=$(hush join-token worker -q)
hush agent run --manager "127.0.0.1:$PORT" --token "$token" --state-dir "$AGENT_STATE" \
  --mount "$MOUNT" --anchors "$ANCHORS" --hostname "$(hostname)" >>"$LOGS/agent.log" 2>&1 &
agent_pid=$!
wait_for 20 "the agent to join" hush agent status --state-dir "$AGENT_STATE"

if ! hush secret inspect demo_password >/dev/null 2>&1; then
  say "creating secret demo_password"
  head -c 12 /dev/urandom | base64 | tr -d '\n' | hush secret create demo_password - >/dev/null
fi
if ! hush service inspect demo >/dev/null 2>&1; then
  say "creating service demo (uses demo_password)"
  hush service create --name demo --secret demo_password >/dev/null
fi
wait_for 20 "the demo secret on $MOUNT" test -r "$MOUNT/demo/demo_password"
wait_for 10 "the demo task's anchor in $ANCHORS" test -r "$ANCHORS/demo.1/secrets/demo_password"
say "anchor for containers: $ANCHORS/demo.1 (--mount type=bind,source=$ANCHORS/demo.1,target=/run/hush,readonly,bind-propagation=rslave)"
say "ready: $MOUNT/demo/demo_password is served from the agent's memory"

cat <<MSG

Try, in another shell (as root):

  export HUSH_STATE_DIR=$HUSH_STATE_DIR
  alias hush='node $ROOT/dist/cli/main.js'
  ls -l $MOUNT/demo/ && cat $MOUNT/demo/demo_password
  printf 'rotated' | hush secret update demo_password -     # the file changes, no restart
  hush service rm demo                                      # the file vanishes at once
  hush agent status --state-dir $AGENT_STATE

Ctrl-C here stops the agent (unmounting $MOUNT) and the manager.
MSG

# Stay in the foreground until Ctrl-C or until a daemon dies.
while kill -0 "$manager_pid" 2>/dev/null && kill -0 "$agent_pid" 2>/dev/null; do sleep 0.5; done
say "a daemon exited on its own (see $LOGS)"
exit 1
