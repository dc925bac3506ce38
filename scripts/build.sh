#!/usr/bin/env bash
# Configures (once) and builds a build directory.
#
#   scripts/build.sh DIR [meson options...]
#
# Quiet when all goes well; when meson or ninja fails, their output (the error
# included) is shown and the script exits non-zero, so the demo and the tests
# stop with the reason instead of silently.
set -uo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: scripts/build.sh DIR [meson options...]" >&2; exit 2; }
dir=$1; shift
log=$(mktemp)
trap 'rm -f "$log"' EXIT

if [ ! -f "$dir/build.ninja" ]; then
  if ! meson setup "$dir" "$@" >"$log" 2>&1; then
    cat "$log" >&2
    echo "scripts/build.sh: meson setup $dir failed (full log: $dir/meson-logs/meson-log.txt)" >&2
    exit 1
  fi
fi
if ! ninja -C "$dir" >"$log" 2>&1; then
  cat "$log" >&2
  echo "scripts/build.sh: the build in $dir failed" >&2
  exit 1
fi
