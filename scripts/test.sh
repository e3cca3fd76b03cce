#!/usr/bin/env bash
# The test command (README.md): installs what a fresh Debian machine lacks, builds,
# checks the generated protocol code, and runs every test with node's test runner.
# Needs root (FUSE mounts, apt-get) like CI.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
# libasan8, libubsan1: the sanitizer run of the native FUSE engine (scripts/asan-engine.sh).
# etcd-server, etcd-client, openssl: the etcd store backend's tests run a real 3-member cluster (manager/store/testdata/etcd-cluster.ts).
for pkg in libfuse2 fuse libfuse-dev pkg-config sqlite3 ca-certificates libasan8 libubsan1 openssl etcd-server etcd-client; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

echo "== npm ci"
npm ci --no-audit --no-fund
echo "== build"
npm run --silent build
# Both native addons are part of the product: a missing one fails the run here, not as skipped tests.
for addon in common/native/build/Release/hush_sys.node fs/native/build/Release/hush_fs_engine.node; do
  [ -f "$addon" ] || { echo "error: $addon was not built by npm ci (see its output above)"; exit 1; }
done
echo "== generated protocol code is up to date"
node scripts/gen-proto.mjs --check

echo "== tests"
# Every test secret carries this run's mark; the leak scan, run on its own after the rest, looks
# for it on disk. Each run also reports its tests by tier (unit, integration, containers, systemd).
export HUSH_TEST_RUN=${HUSH_TEST_RUN:-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')}
tiers=$(mktemp -d)
trap 'rm -rf "$tiers"' EXIT
run_tests() { # run_tests NAME FILE...
  local name=$1
  shift
  node --test --test-concurrency=1 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=./scripts/tier-reporter.mjs --test-reporter-destination="$tiers/$name.json" "$@"
}
mapfile -t files < <(find dist -name '*.test.js' -not -name 'leak-scan.test.js' | sort)
status=0
run_tests suite "${files[@]}" || status=$?
echo "== the native FUSE engine under AddressSanitizer + UBSan"
bash scripts/asan-engine.sh || status=$?
run_tests leak-scan dist/integration/leak-scan.test.js || status=$?
node scripts/tier-summary.mjs "$tiers"/*.json
exit $status
