#!/usr/bin/env bash
# A local playground: a Kafka broker for this machine (hf-broker), handoffd on it,
# and sample traffic, left running in the background so that you can look around
# with handoffctl (the script prints what to type next).
#
#   scripts/local.sh start [--contacts N] [--rate EVENTS_PER_S] [--seed N] [--real-clock]
#   scripts/local.sh status
#   scripts/local.sh stop
#
# Everything lives in $HANDOFF_LOCAL (default /tmp/handoff-local): the broker's
# address, the daemon's state directory and both logs.  SLA clocks run in business
# hours; unless --real-clock is given the daemon's wall clock is simulated
# (HANDOFF_CLOCK), starting on Monday 09:00 New York time and running 3600 times as
# fast, so that the clocks of the handoffs run out within a minute and breaches show.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${HANDOFF_LOCAL:-/tmp/handoff-local}
config=config/handoff.yaml

running() { [ -f "$dir/$1.pid" ] && kill -0 "$(cat "$dir/$1.pid")" 2>/dev/null; }

stop() {
  local name
  for name in handoffd broker; do
    if running "$name"; then
      kill "$(cat "$dir/$name.pid")"
      # bounded wait: handoffd commits and leaves the group first
      for _ in $(seq 1 100); do running "$name" || break; sleep 0.1; done
      echo "stopped $name"
    fi
    rm -f "$dir/$name.pid"
  done
}

status() {
  local name
  for name in broker handoffd; do
    if running "$name"; then echo "$name: running (pid $(cat "$dir/$name.pid"))"
    else echo "$name: not running"; fi
  done
  [ -f "$dir/broker.address" ] && echo "broker address: $(cat "$dir/broker.address")"
  echo "state: $dir/state, logs: $dir/broker.log $dir/handoffd.log"
}

start() {
  local contacts=2000 rate=2000 seed=7 real_clock=0
  while [ $# -gt 0 ]; do
    case $1 in
      --contacts) contacts=$2; shift 2 ;;
      --rate) rate=$2; shift 2 ;;
      --seed) seed=$2; shift 2 ;;
      --real-clock) real_clock=1; shift ;;
      *) echo "usage: scripts/local.sh start [--contacts N] [--rate EVENTS_PER_S] [--seed N] [--real-clock]" >&2
         exit 2 ;;
    esac
  done
  if running broker || running handoffd; then
    echo "already running (scripts/local.sh stop first):" >&2
    status >&2
    exit 1
  fi
  scripts/deps.sh
  scripts/build.sh build
  rm -rf "$dir"
  mkdir -p "$dir"

  echo "== starting hf-broker (librdkafka's mock cluster, in the background)"
  build/tools/hf-broker -c "$config" --address-file "$dir/broker.address" \
    >/dev/null 2>"$dir/broker.log" &
  echo $! >"$dir/broker.pid"
  for _ in $(seq 1 100); do
    [ -s "$dir/broker.address" ] && break
    running broker || { cat "$dir/broker.log" >&2; echo "hf-broker did not start" >&2; exit 1; }
    sleep 0.1
  done
  [ -s "$dir/broker.address" ] || { echo "hf-broker did not report its address" >&2; stop; exit 1; }
  local broker
  broker=$(cat "$dir/broker.address")
  echo "   broker at $broker"

  if [ "$real_clock" -eq 0 ]; then
    local sim_start
    sim_start=$(TZ=America/New_York date -d 'last monday 09:00' +%s%3N)
    export HANDOFF_CLOCK="${sim_start}@$(date +%s%3N)x3600"
    echo "   the daemon's clock is simulated: Monday 09:00 New York time, one real second is one hour"
  fi
  echo "== starting handoffd (in the background; log: $dir/handoffd.log)"
  build/daemon/handoffd -c "$config" --brokers "$broker" --state "$dir/state" --progress 10 \
    >"$dir/handoffd.out" 2>"$dir/handoffd.log" &
  echo $! >"$dir/handoffd.pid"
  # Joining the consumer group takes a few seconds on the mock cluster.
  for _ in $(seq 1 200); do
    grep -q "assigned" "$dir/handoffd.log" 2>/dev/null && break
    running handoffd || { cat "$dir/handoffd.log" >&2; echo "handoffd stopped" >&2; stop; exit 1; }
    sleep 0.1
  done
  grep -q "assigned" "$dir/handoffd.log" || { echo "handoffd did not join its group in 20 s" >&2; stop; exit 1; }

  echo "== producing sample traffic: $contacts people at $rate events/s (seed $seed)"
  build/tools/hf-gen -c "$config" --brokers "$broker" --contacts "$contacts" --rate "$rate" \
    --live --seed "$seed" --bad-rate 0.001
  sleep 2
  local handoffs breaches
  handoffs=$(grep -cE ' handoff +(contact|account) ' "$dir/handoffd.log" || true)
  breaches=$(grep -c ' SLA breach ' "$dir/handoffd.log" || true)
  cat <<EOF

broker and handoffd keep running in the background ($handoffs handoff and $breaches breach log
lines so far; more breaches come as the simulated hours pass). Try:

  build/tools/handoffctl consume --brokers $broker --topic handoff.conversation-ready --max 1
  build/tools/handoffctl consume --brokers $broker --topic handoff.sla-breach --max 5
  build/tools/handoffctl consume --brokers $broker --topic handoff.lifecycle --max 5
  build/tools/handoffctl dump -c $config --state $dir/state accounts | head -3
  build/tools/handoffctl dump -c $config --state $dir/state contacts --id <a contact id from a handoff>
  build/tools/handoffctl outcomes --state $dir/state
  tail -f $dir/handoffd.log                 # handoffs and breaches as they happen
  kill -HUP $(cat "$dir/handoffd.pid")      # reload $config (rejected, with its errors, if invalid)
  scripts/local.sh stop                     # stop handoffd (it commits first) and the broker
EOF
}

case ${1:-} in
  start) shift; start "$@" ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: scripts/local.sh start [--contacts N] [--rate EVENTS_PER_S] [--seed N] [--real-clock] | status | stop" >&2
     exit 2 ;;
esac
