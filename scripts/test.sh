#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite twice: a normal
# build, then one built with AddressSanitizer + UndefinedBehaviorSanitizer.
# The last line reads "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh || { echo "dependency installation failed"; echo "0 passed, 1 failed"; exit 1; }

run_suite() { # name builddir "suites" [meson options...]
  local name=$1 dir=$2 suites=() s; shift 2
  for s in $1; do suites+=(--suite "$s"); done; shift
  rm -f "$dir/meson-logs/testlog.json"
  echo "== $name: building $dir"
  if ! scripts/build.sh "$dir" -Dtests=enabled "$@"; then
    echo "== $name: BUILD FAILED (the error is above)"
    return 1
  fi
  echo "== $name: testing"
  meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 2 "${suites[@]}"
}

status=0
# The repository checks (install step, self-explaining files) do not depend on the
# build: they run once, with the release build.
run_suite "release" build "repo unit fuzz integration oracle e2e" || status=1
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite "asan+ubsan" build-asan "unit fuzz integration oracle e2e" \
  -Db_sanitize=address,undefined -Db_lundef=false || status=1

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
