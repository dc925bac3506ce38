#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite twice, at once: a
# normal build and one built with AddressSanitizer + UndefinedBehaviorSanitizer.
# The last line reads "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh || { echo "dependency installation failed"; echo "0 passed, 1 failed"; exit 1; }

build_one() { # name builddir [meson options...]
  local name=$1 dir=$2; shift 2
  rm -f "$dir/meson-logs/testlog.json"
  echo "== $name: building $dir"
  if ! scripts/build.sh "$dir" -Dtests=enabled "$@"; then
    echo "== $name: BUILD FAILED (the error is above)"
    return 1
  fi
}

test_one() { # name builddir "suites"
  local name=$1 dir=$2 suites=() s
  for s in $3; do suites+=(--suite "$s"); done
  echo "== $name: testing"
  meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 2 "${suites[@]}"
}

sanitizers() {
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$@"
}

status=0
# Both builds first (they use both cores), then both test runs at once: the
# integration tests spend most of their time waiting for the broker's group
# protocol and the daemons' timers, not computing (each run is one core's work at
# most), and every test picks free ports, so the two runs do not meet.  Each run's
# output is shown whole once it is done, release first.
built_release=0 built_asan=0
build_one "release" build && built_release=1
build_one "asan+ubsan" build-asan -Db_sanitize=address,undefined -Db_lundef=false && built_asan=1
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
echo "== testing both builds at once (about 18 minutes); each run's output follows when it is done"
# The repository checks (install step, self-explaining files) do not depend on the
# build: they run once, with the release build.
if [ $built_release = 1 ]; then
  test_one "release" build "repo unit fuzz integration oracle e2e" >"$logs/release" 2>&1 &
  release_pid=$!
fi
if [ $built_asan = 1 ]; then
  sanitizers test_one "asan+ubsan" build-asan "unit fuzz integration oracle e2e" >"$logs/asan" 2>&1 &
  asan_pid=$!
fi
if [ $built_release = 1 ]; then
  wait "$release_pid" || status=1
  cat "$logs/release"
else
  status=1
fi
if [ $built_asan = 1 ]; then
  wait "$asan_pid" || status=1
  cat "$logs/asan"
else
  status=1
fi

# Count every test of both runs from meson's machine-readable logs.
/usr/bin/python3 - build/meson-logs/testlog.json build-asan/meson-logs/testlog.json <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        failed += 1          # the build of this run failed: count it
        continue
    for line in lines:
        if not line.strip():
            continue
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if failed else 0)
PY
py=$?
[ $status -eq 0 ] && [ $py -eq 0 ]
