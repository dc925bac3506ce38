#!/usr/bin/env bash
# Installs what is missing, builds, and runs handoffd's main job on its embedded
# Kafka broker with sample traffic: you watch handoffs, SLA breaches (and dead
# letters) happen, one line each, and get a summary and the outcomes table at the
# end.
#
#   scripts/demo.sh [--contacts N] [--rate EVENTS_PER_S] [--seed N]
set -euo pipefail
cd "$(dirname "$0")/.."

contacts=3000 rate=3000 seed=7
while [ $# -gt 0 ]; do
  case $1 in
    --contacts) contacts=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    *) echo "usage: scripts/demo.sh [--contacts N] [--rate EVENTS_PER_S] [--seed N]" >&2; exit 2 ;;
  esac
done

scripts/deps.sh
echo "building..." >&2
scripts/build.sh build

work=$(mktemp -d /tmp/handoff-demo.XXXXXX)
daemon_pid=
cleanup() {
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# SLA clocks run in business hours (config/handoff.yaml: accept within 4 business
# hours, first touch within 8).  So that the demo shows them running out within a
# minute, the daemon's wall clock is simulated: it starts on Monday 09:00 New York
# time and runs 3600 times as fast (one real second is one hour).
sim_start=$(TZ=America/New_York date -d 'last monday 09:00' +%s%3N)
export HANDOFF_CLOCK="${sim_start}@$(date +%s%3N)x3600"

# The daemon runs the mock cluster in-process and stops 20 s after the traffic
# ends (twenty simulated hours: into Tuesday's business hours, when the clocks of
# Monday afternoon's handoffs run out).
build/daemon/handoffd -c config/handoff.yaml --embedded --state "$work/state" \
  --exit-when-idle 20 --progress 5 >"$work/daemon.out" 2> >(tee "$work/daemon.log" >&2) &
daemon_pid=$!

addr=
for _ in $(seq 1 100); do
  addr=$(sed -n 's/^embedded Kafka .* at //p' "$work/daemon.out")
  [ -n "$addr" ] && break
  kill -0 "$daemon_pid" 2>/dev/null || { echo "handoffd did not start" >&2; exit 1; }
  sleep 0.2
done
[ -n "$addr" ] || { echo "handoffd did not report its broker" >&2; exit 1; }
# Joining the consumer group takes a few seconds on the mock cluster.
for _ in $(seq 1 150); do
  grep -q "assigned" "$work/daemon.log" && break
  sleep 0.2
done

echo "== producing live sample traffic: $contacts people at $rate events/s (seed $seed)" >&2
build/tools/hf-gen -c config/handoff.yaml --brokers "$addr" --contacts "$contacts" \
  --rate "$rate" --live --seed "$seed" --bad-rate 0.001

# Bounded wait for the daemon to drain and stop by itself.
for _ in $(seq 1 600); do
  kill -0 "$daemon_pid" 2>/dev/null || break
  sleep 0.1
done
wait "$daemon_pid" || true
daemon_pid=
sleep 0.2
cat "$work/daemon.out" | grep -v '^embedded Kafka'
echo
build/tools/handoffctl outcomes --state "$work/state"
