#!/usr/bin/env bash
# The test command (README.md): installs what a fresh Debian machine lacks, builds,
# checks the generated protocol code, and runs every test with node's test runner.
# Needs root (FUSE mounts, apt-get) like CI.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in libfuse2 fuse sqlite3 ca-certificates; do
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
echo "== generated protocol code is up to date"
node scripts/gen-proto.mjs --check

echo "== tests"
# Every test secret carries this run's mark; the leak scan, last, looks for it on disk.
export HUSH_TEST_RUN=${HUSH_TEST_RUN:-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')}
mapfile -t files < <(find dist -name '*.test.js' -not -path '*/node_modules/*' -not -name 'leak-scan.test.js' | sort)
files+=(dist/integration/leak-scan.test.js)
node --test --test-concurrency=1 --test-reporter=spec --test-reporter-destination=stdout "${files[@]}"
