#!/usr/bin/env bash
# The native FUSE engine (fs/native) under AddressSanitizer and UndefinedBehaviorSanitizer: builds the
# addon with -fsanitize=address,undefined into a temporary copy of the package (the product's own build
# is left alone), runs the engine's tests (fs/engines/native.test.js: the view scenarios, the random
# sequence, the addon's own; fs/engines/native-ll.test.js: the same on the low-level variant) there with libasan preloaded into node, and fails on a failed test or on
# any sanitizer report, from any process. Run by scripts/test.sh after the build; needs what it needs
# (root, /dev/fuse, dist/ and both addons built, gcc's libasan and libubsan).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

libasan=$(gcc -print-file-name=libasan.so)
[ -f "$libasan" ] || { echo "asan: gcc has no libasan.so (the libasan8 package)"; exit 1; }
[ -f "$(gcc -print-file-name=libubsan.so)" ] || { echo "asan: gcc has no libubsan.so (the libubsan1 package)"; exit 1; }
node_gyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
nodedir=$(npm config get nodedir)

work=$(mktemp -d /tmp/hush-asan.XXXXXX)
trap 'rm -rf "$work"' EXIT
pkg=$work/pkg
reports=$work/reports
mkdir -p "$pkg/common/native/build/Release" "$pkg/fs/native" "$reports"
cp package.json "$pkg/"
cp common/native/binding.gyp "$pkg/common/native/"
cp common/native/build/Release/hush_sys.node "$pkg/common/native/build/Release/"
cp fs/native/binding.gyp fs/native/*.[ch] "$pkg/fs/native/"
cp -r dist "$pkg/dist"
ln -s "$root/node_modules" "$pkg/node_modules"

echo "== asan: building fs/native with -fsanitize=address,undefined"
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g"
gyp_args=(rebuild --directory "$pkg/fs/native")
[ -n "$nodedir" ] && [ "$nodedir" != undefined ] && gyp_args+=("--nodedir=$nodedir")
if ! CFLAGS="$san" LDFLAGS="$san" node "$node_gyp" "${gyp_args[@]}" >"$work/build.log" 2>&1; then
  cat "$work/build.log"
  echo "asan: the sanitizer build failed"
  exit 1
fi
symbols=$(nm -D "$pkg/fs/native/build/Release/hush_fs_engine.node")
grep -q __asan_init <<<"$symbols" || { echo "asan: the addon was built without -fsanitize=address"; exit 1; }
grep -q __ubsan_handle <<<"$symbols" || { echo "asan: the addon was built without -fsanitize=undefined"; exit 1; }

echo "== asan: the native engine's tests under ASan + UBSan"
status=0
(
  cd "$pkg"
  # Every process the tests start inherits these (a child that mounts loads the engine too), and every
  # report goes to a file of $reports. detect_leaks=0: node, bash, fusermount... leave allocations at
  # exit that LeakSanitizer reports (and so does the engine, by design, for a handle whose RELEASE never
  # came). handle_sigbus=0: a test expects a child (python3 touching a revoked mapping) to die of
  # SIGBUS. quarantine_size_mb=16 (not 256): the tests fork thousands of children (ls), and each fork
  # copies the page tables of the whole quarantine; it halves the run.
  export LD_PRELOAD=$libasan
  export ASAN_OPTIONS="detect_leaks=0:handle_sigbus=0:quarantine_size_mb=16:abort_on_error=1:halt_on_error=1:log_path=$reports/asan"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan"
  node --test --test-concurrency=1 dist/fs/engines/native.test.js dist/fs/engines/native-ll.test.js
) >"$work/test.log" 2>&1 || status=$?
if compgen -G "$reports/*" >/dev/null; then
  for report in "$reports"/*; do
    echo "---- $(basename "$report")"
    cat "$report"
  done
  echo "asan: FAILED: sanitizer reports above"
  exit 1
fi
# UBSan's runtime (a library of its own) may print to stderr, in the tests' output, instead.
if grep -qE 'runtime error:|ERROR: [A-Za-z]+Sanitizer' "$work/test.log"; then
  cat "$work/test.log"
  echo "asan: FAILED: sanitizer reports in the output above"
  exit 1
fi
if [ "$status" -ne 0 ]; then
  cat "$work/test.log"
  echo "asan: FAILED: the engine's tests failed under the sanitizers (exit $status)"
  exit 1
fi
grep -E '^# (tests|pass|fail|skipped)' "$work/test.log" | tr '\n' ' '
echo
echo "asan: the native engine's tests passed with no sanitizer report"
