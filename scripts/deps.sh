#!/usr/bin/env bash
# Installs the Debian 12 packages handoff needs, if any are missing.  Idempotent.
#
#   scripts/deps.sh          install what is missing (apt-get, through sudo when not root)
#   scripts/deps.sh --list   print the package names, one a line
#
# Every package that the build, the tests, the demo and the benchmarks use is named
# here: tests/repo/check_deps.py (a test of the suite) traces each meson dependency,
# each program and each imported Python module to its Debian package and fails when
# one is missing from this list.
set -euo pipefail

packages=(
  # build
  build-essential meson ninja-build pkg-config
  librdkafka-dev librocksdb-dev libavro-dev libyaml-dev libssl-dev
  # the service: HTTP endpoints (libmicrohttpd), systemd readiness and watchdog
  libmicrohttpd-dev libsystemd-dev
  # business calendars read the system's time zones (/usr/share/zoneinfo)
  tzdata
  # tests: unit (cmocka, jansson), integration and end-to-end (Debian's python3
  # with an independent Avro and Kafka client), the repository checks (git)
  libcmocka-dev libjansson-dev python3 python3-avro python3-kafka git
  # tests of the service: Prometheus' promtool checks /metrics, systemd-analyze the unit,
  # a headless chromium renders the dashboard (tests/integration/test_dashboard.py)
  prometheus systemd chromium
  # benchmarks: bench/bench.py records a profile with perf when asked (HF_BENCH_PERF=1)
  linux-perf
  # clang and its runtime: the fuzz targets under libFuzzer (tests/fuzz/*.c)
  clang libclang-rt-14-dev
)

if [ "${1:-}" = "--list" ]; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}" >&2
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
