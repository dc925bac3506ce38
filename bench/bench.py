#!/usr/bin/python3
"""End-to-end benchmark of handoffd: how close does it come to a bare consumer?

Run by `meson test --benchmark` (or `ninja benchmark`), or by hand:

    /usr/bin/python3 bench/bench.py --broker BUILD/tools/hf-broker \\
        --daemon BUILD/daemon/handoffd --gen BUILD/tools/hf-gen \\
        --bare BUILD/bench/hf-bare-consumer --config bench/bench.yaml --schemas schemas

Phases (see bench/README.md for the method):
  0. hf-broker with many partitions; hf-gen pre-produces the traffic of N contacts
     (HF_BENCH_CONTACTS, default 100000; HF_BENCH_ACCOUNTS companies, default
     10000, 1-8 known contacts each) to the seven input topics;
  a. hf-bare-consumer reads all of it: records/s from its first record to its last;
  b. handoffd reads the same input from the start with --exit-when-idle: input
     events/s over the same first-to-last window (from its summary);
  c. the ratio b / a;
  d. a second broker and a fresh daemon; hf-gen --live at a fixed rate; the
     handoffs are read back with python3-kafka, decoded with python3-avro, and
     emitted_at - qualified_at gives the event -> handoff latency;
  e. the daemon's peak RSS from its summary;
  h. with --ctl: hf-gen writes the same input to a file (--output) and
     `handoffctl backtest` replays it through the rules and a variant (high_intent
     needing 30 points more), both in one process: its runtime and input
     records/s beside (b)'s rate.
Completeness is checked, not assumed: the bare consumer must see every record,
the daemon must consume every input record plus every record it re-keyed through
a repartition topic (none when one instance owns every partition), with no
offset gaps.  Exit status 1 if a check fails; the figures are printed anyway.

Environment: HF_BENCH_CONTACTS (people to pre-produce), HF_BENCH_LIVE_RATE
(events/s of the live phase, default 2000), HF_BENCH_LIVE_CONTACTS (default
4000), HF_BENCH_PERF=1 (record phase b with `perf record -g`), HF_BENCH_KEEP=1
(keep the work directory), HF_BENCH_BASELINE_DAEMON=PATH (also run phase b with
another build of handoffd, e.g. the commit before a change, and compare the two
rates measured in this run: (b0)), HF_BENCH_BASELINE_CONFIG=PATH (the rules file of
the baseline's runs, when it does not read this build's).
"""

import argparse
import io
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

INPUT_KEYS = ["web_visits", "form_submissions", "identity", "content_downloads",
              "webinar_attendance", "email_engagement", "sales_activity"]
DEFAULT_TOPICS = {
    "web_visits": "mkt.web.visits", "form_submissions": "mkt.form.submissions",
    "identity": "mkt.identity", "content_downloads": "mkt.content.downloads",
    "webinar_attendance": "mkt.webinar.attendance", "email_engagement": "mkt.email.engagement",
    "sales_activity": "sales.activity", "conversation_ready": "handoff.conversation-ready",
}
MOCK_PARTITION_BYTES = 5 * 1024 * 1024  # librdkafka mock: oldest records dropped beyond this
RECORD_OVERHEAD_BYTES = 70              # key + record header, roughly, per record
KAFKA_API_VERSION = (2, 3, 0)           # what the mock's ApiVersions reports; see tests/lib

SEED = 42
START_MS = 1700000000000  # 2023-11-14: deterministic event times for the backlog
LIVE_PARTITIONS = 8


class BenchError(Exception):
    pass


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


class Procs:
    """Every process the benchmark starts; all are stopped at the end."""

    def __init__(self):
        self.procs = []

    def start(self, argv, stdout, stderr):
        p = subprocess.Popen(argv, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL)
        self.procs.append(p)
        return p

    def stop(self, p, timeout=30):
        """SIGTERM, then SIGKILL after @timeout s.  Returns the exit status."""
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=30)
        return p.returncode

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                self.stop(p, timeout=10)


def run(argv, timeout, what, stdout_path=None, stderr_path=None):
    """Runs @argv to completion within @timeout s; returns its stdout text."""
    out = open(stdout_path, "wb") if stdout_path else subprocess.PIPE
    err = open(stderr_path, "wb") if stderr_path else None
    try:
        r = subprocess.run(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchError("%s did not finish within %d s" % (what, timeout))
    finally:
        if stdout_path:
            out.close()
        if stderr_path:
            err.close()
    text = open(stdout_path).read() if stdout_path else r.stdout.decode()
    if r.returncode != 0:
        raise BenchError("%s exited with status %d%s" % (
            what, r.returncode, " (see %s)" % stderr_path if stderr_path else ""))
    return text


def wait_for(predicate, timeout, what, step=0.1):
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / step) + 2):
        v = predicate()
        if v:
            return v
        if time.monotonic() > deadline:
            break
        time.sleep(step)
    raise BenchError("timed out after %d s waiting for %s" % (timeout, what))


def derive_config(template, path, state_dir, app_id=None, partitions=None, commit_interval=None,
                  member_updates=None):
    """A copy of the bench config with this run's state dir (and for the live
    phase another app id and partition count), so that the state and the e-mail
    hash key of a run stay in its work directory."""
    text = open(template).read()
    text, n = re.subn(r"(?m)^(\s+path:).*$", r"\1 %s" % state_dir, text, count=1)
    if n != 1:
        raise BenchError("%s: no state.path line to replace" % template)
    if app_id:
        text, n = re.subn(r"(?m)^(\s+id:).*$", r"\1 %s" % app_id, text, count=1)
        if n != 1:
            raise BenchError("%s: no app.id line to replace" % template)
    if partitions:
        text, n = re.subn(r"(?m)^(\s+partitions:).*$", r"\1 %d" % partitions, text, count=1)
        if n != 1:
            raise BenchError("%s: no kafka.partitions line to replace" % template)
    if commit_interval:
        text, n = re.subn(r"(?m)^(\s+commit_interval:).*$", r"\1 %s" % commit_interval, text, count=1)
        if n != 1:
            raise BenchError("%s: no state.commit_interval line to replace" % template)
    if member_updates:
        text, n = re.subn(r"(?m)^(\s+member_updates:).*$", r"\1 %s" % member_updates, text, count=1)
        if n != 1:
            raise BenchError("%s: no accounts.member_updates line to replace" % template)
    with open(path, "w") as f:
        f.write(text)
    return path


def config_topics(path):
    """Input and handoff topic names: the defaults unless the file renames them."""
    topics = dict(DEFAULT_TOPICS)
    text = open(path).read()
    m = re.search(r"(?m)^topics:\s*\n((?:[ \t]+.*\n?)+)", text)
    if m:
        for line in m.group(1).splitlines():
            kv = re.match(r"\s+(\w+):\s*([^\s#]+)", line)
            if kv and kv.group(1) in topics:
                topics[kv.group(1)] = kv.group(2).strip("\"'")
    return topics


def config_partitions(path):
    m = re.search(r"(?m)^\s+partitions:\s*(\d+)", open(path).read())
    if not m:
        raise BenchError("%s: no kafka.partitions" % path)
    return int(m.group(1))


def start_broker(procs, binary, config, partitions, workdir, name):
    addr_file = os.path.join(workdir, name + ".addr")
    p = procs.start([binary, "-c", config, "--partitions", str(partitions),
                     "--address-file", addr_file],
                    stdout=subprocess.DEVNULL,
                    stderr=open(os.path.join(workdir, name + ".log"), "wb"))

    def ready():
        if p.poll() is not None:
            raise BenchError("hf-broker exited with status %d" % p.returncode)
        if os.path.exists(addr_file):
            return open(addr_file).read().strip()
        return None

    return p, wait_for(ready, 30, "hf-broker's address")


def parse_summary(text):
    """The figures of handoffd's exit summary."""
    s = {}
    m = re.search(r"this run: (\d+) records consumed, (\d+) events folded, (\d+) handoffs"
                  r"(?: in ([\d.]+) s \((\d+) records/s\))?", text)
    if not m:
        raise BenchError("no 'this run:' line in the daemon's summary:\n" + text)
    s["consumed"], s["folded"], s["handoffs"] = int(m.group(1)), int(m.group(2)), int(m.group(3))
    s["seconds"] = float(m.group(4)) if m.group(4) else 0.0
    s["records_per_s"] = int(m.group(5)) if m.group(5) else 0
    m = re.search(r"re-keyed (\d+)", text)
    s["rekeyed_all"] = int(m.group(1)) if m else 0
    # Only records re-keyed to a partition another instance owns take the hop
    # through a repartition topic (and are consumed a second time).
    m = re.search(r"\((\d+) through repartition topics\)", text)
    s["rekeyed"] = int(m.group(1)) if m else 0
    m = re.search(r"duplicates dropped (\d+)", text)
    s["duplicates"] = int(m.group(1)) if m else 0
    m = re.search(r"peak RSS: ([\d.]+) MiB", text)
    s["peak_rss_mib"] = float(m.group(1)) if m else None
    m = re.search(r"dead letters: (\d+)(.*)", text)
    s["dead_letters"] = int(m.group(1)) if m else 0
    s["dead_letter_detail"] = m.group(2).strip() if m else ""
    m = re.search(r"(?m)^handoffs: (\d+)(.*)$", text)
    s["handoff_detail"] = m.group(2).strip() if m else ""
    m = re.search(r"accounts: (\d+) member updates, (\d+) rosters, (\d+) merges", text)
    s["member_updates"], s["rosters"], s["merges"] = (int(x) for x in m.groups()) if m else (0, 0, 0)
    m = re.search(r"time: (\d+) commits took (\d+) ms \(longest (\d+) ms\); waiting on lagging "
                  r"partitions (\d+) ms", text)
    s["commits"], s["commit_ms"], s["commit_max_ms"], s["wait_ms"] = \
        (int(x) for x in m.groups()) if m else (0, 0, 0, 0)
    m = re.search(r"sales feedback: (\d+) applied; SLA breaches (\d+)", text)
    s["feedback"], s["breaches"] = (int(x) for x in m.groups()) if m else (0, 0)
    m = re.search(r"offset gaps[^:]*: (\d+)", text)
    s["offset_gaps"] = int(m.group(1)) if m else 0
    m = re.search(r"(?m)^late: (\d+)(.*)$", text)
    s["late"], s["late_detail"] = (int(m.group(1)), m.group(2).strip()) if m else (0, "")
    return s


def percentile(sorted_values, q):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, int(-(-q * len(sorted_values) // 100)) - 1))
    return sorted_values[k]


def read_handoffs(address, topic, schema_path, expect, timeout):
    """Every ConversationReady on @topic, decoded:
    [(qualified_at_ms, emitted_at_ms, rule, entity_type)]."""
    import avro.io
    import avro.schema
    from kafka import KafkaConsumer, TopicPartition

    schema = avro.schema.parse(open(schema_path).read())
    reader = avro.io.DatumReader(schema)
    c = KafkaConsumer(bootstrap_servers=address, group_id=None, enable_auto_commit=False,
                      auto_offset_reset="earliest", api_version=KAFKA_API_VERSION,
                      consumer_timeout_ms=1000, request_timeout_ms=20000)
    try:
        parts = wait_for(lambda: c.partitions_for_topic(topic) or c.topics() and None,
                         30, "metadata of " + topic, step=0.5)
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        ends = c.end_offsets(tps)
        out = []
        deadline = time.monotonic() + timeout
        for _ in range(100000):
            if len(out) >= expect and all(c.position(tp) >= ends[tp] for tp in tps):
                break
            if time.monotonic() > deadline:
                break
            for _tp, msgs in c.poll(timeout_ms=500, max_records=5000).items():
                for m in msgs:
                    v = m.value
                    if v[:2] != b"\xc3\x01":
                        raise BenchError("a handoff that is not single-object Avro")
                    rec = reader.read(avro.io.BinaryDecoder(io.BytesIO(v[10:])))
                    out.append((to_ms(rec["qualified_at"]), to_ms(rec["emitted_at"]),
                                rec["rule"], rec["entity_type"]))
        return out
    finally:
        c.close()


def to_ms(v):
    """python3-avro turns timestamp-millis into an aware datetime; back to ms."""
    if isinstance(v, int):
        return v
    return int(round(v.timestamp() * 1000))


def fmt_int(n):
    return "{:,}".format(int(n))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--broker", required=True)
    ap.add_argument("--daemon", required=True)
    ap.add_argument("--gen", required=True)
    ap.add_argument("--bare", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--schemas", required=True)
    ap.add_argument("--contacts", type=int,
                    default=int(os.environ.get("HF_BENCH_CONTACTS", "100000")))
    ap.add_argument("--accounts", type=int,
                    default=int(os.environ.get("HF_BENCH_ACCOUNTS", "10000")),
                    help="companies the known contacts fill, 1-8 each")
    ap.add_argument("--compare-commit-interval",
                    default=os.environ.get("HF_BENCH_COMPARE_COMMIT_INTERVAL", "1s"),
                    help="also run (b) with this state.commit_interval ('' to skip)")
    ap.add_argument("--compare-member-updates",
                    default=os.environ.get("HF_BENCH_COMPARE_MEMBER_UPDATES", "every_event"),
                    help="also run (b) with this accounts.member_updates ('' to skip)")
    ap.add_argument("--live-rate", type=int,
                    default=int(os.environ.get("HF_BENCH_LIVE_RATE", "2000")))
    ap.add_argument("--live-contacts", type=int,
                    default=int(os.environ.get("HF_BENCH_LIVE_CONTACTS", "4000")))
    ap.add_argument("--baseline-daemon", default=os.environ.get("HF_BENCH_BASELINE_DAEMON"),
                    help="also run (b) with this other handoffd binary on the same input and "
                         "report the rate of this one relative to it")
    ap.add_argument("--baseline-config", default=os.environ.get("HF_BENCH_BASELINE_CONFIG"),
                    help="the rules file of the baseline's runs (b0), when the baseline does not "
                         "read this build's (default: --config)")
    ap.add_argument("--http-load", help="hf-http-load: also measure what the HTTP server costs "
                                        "(f) and how fast it answers journey lookups (g)")
    ap.add_argument("--ctl", help="handoffctl, for the contact ids (g) looks up")
    ap.add_argument("--results", help="also write the figures as JSON here")
    args = ap.parse_args()

    workdir = tempfile.mkdtemp(prefix="hf-bench-")
    procs = Procs()
    failures = []
    results = {"contacts": args.contacts, "accounts": args.accounts}
    mci = re.search(r"(?m)^\s+commit_interval:\s*(\S+)", open(args.config).read())
    results["commit_interval"] = mci.group(1) if mci else "default"
    started = time.monotonic()
    try:
        bench(args, workdir, procs, failures, results)
    except BenchError as e:
        failures.append(str(e))
    finally:
        procs.stop_all()
        results["wall_s"] = round(time.monotonic() - started, 1)
        if results.get("phases_done"):
            print_table(results, failures)
        with open(os.path.join(workdir, "results.json"), "w") as f:
            json.dump({"results": results, "failures": failures}, f, indent=2)
        if args.results:
            with open(args.results, "w") as f:
                json.dump({"results": results, "failures": failures}, f, indent=2)
        if os.environ.get("HF_BENCH_KEEP") or failures:
            log("work directory kept: " + workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    for f in failures:
        print("FAILED: " + f)
    return 1 if failures else 0


def bench(args, workdir, procs, failures, results):
    topics = config_topics(args.config)
    inputs = [topics[k] for k in INPUT_KEYS]
    partitions = config_partitions(args.config)
    results["partitions"] = partitions
    results["phases_done"] = []

    # ---- 0: broker and backlog --------------------------------------------------
    cfg = derive_config(args.config, os.path.join(workdir, "bench.yaml"),
                        os.path.join(workdir, "state"))
    broker, address = start_broker(procs, args.broker, cfg, partitions, workdir, "broker")
    log("broker at %s, %d partitions per topic" % (address, partitions))
    report_path = os.path.join(workdir, "gen.json")
    log("pre-producing the traffic of %d contacts" % args.contacts)
    t0 = time.monotonic()
    run([args.gen, "-c", cfg, "--brokers", address, "--seed", str(SEED),
         "--contacts", str(args.contacts), "--accounts", str(args.accounts),
         "--start-ms", str(START_MS), "--days", "30",
         "--report", report_path],
        600, "hf-gen", stdout_path=os.path.join(workdir, "gen.out"),
        stderr_path=os.path.join(workdir, "gen.log"))
    gen = json.load(open(report_path))
    expected = gen["records"]
    results["input_records"] = expected
    results["input_events"] = gen["events"]
    results["input_value_bytes"] = gen["value_bytes"]
    results["hand_raisers_generated"] = gen["hand_raisers"]
    results["produce_s"] = round(time.monotonic() - t0, 1)
    fullest = max((t["value_bytes"] + RECORD_OVERHEAD_BYTES * t["records"])
                  for t in gen["topics"].values()) / partitions
    results["fullest_partition_mib"] = round(fullest / 1048576, 2)
    if fullest > 0.85 * MOCK_PARTITION_BYTES:
        log("warning: ~%.1f MiB per partition is close to the mock's 5 MiB: raise "
            "kafka.partitions in %s" % (fullest / 1048576, args.config))
    results["phases_done"].append("produce")

    # ---- a: bare consumer ---------------------------------------------------------
    log("(a) bare consumer over %s records" % fmt_int(expected))
    out = run([args.bare, "--brokers", address, "--expect", str(expected), "--idle", "10"]
              + inputs, 300, "hf-bare-consumer",
              stderr_path=os.path.join(workdir, "bare.log"))
    m = re.search(r"records (\d+) bytes (\d+) seconds ([\d.]+) rate (\d+)", out)
    if not m:
        raise BenchError("unexpected hf-bare-consumer output: " + out)
    bare_records, bare_s, bare_rate = int(m.group(1)), float(m.group(3)), int(m.group(4))
    results["bare"] = {"records": bare_records, "seconds": bare_s, "records_per_s": bare_rate}
    if bare_records != expected:
        failures.append("bare consumer saw %d of %d records" % (bare_records, expected))
    results["phases_done"].append("bare")

    # ---- b: the daemon over the same input ---------------------------------------
    log("(b) handoffd over the same input")
    s = backlog_run(args.daemon, cfg, address, workdir, "daemon", expected, bare_rate, failures,
                    perf=bool(os.environ.get("HF_BENCH_PERF")))
    results["daemon"] = s
    results["ratio"] = s["ratio"]
    results["phases_done"].append("daemon")

    # ---- h: handoffctl backtest on the same input, from a file ---------------------
    if args.ctl:
        backtest_phase(args, cfg, workdir, expected, s, failures, results)

    # ---- b' and b'': the same input with one setting changed ---------------------------
    # What a setting costs, in the same run: (b') commits more often (each commit
    # rewrites every entity that changed since the last one); (b'') sends contacts'
    # summaries to accounts another way (every_event: per event, exact and slower).
    def compare(label, name, key, setting, value):
        log("(%s) handoffd again, %s %s" % (label, setting, value))
        c = derive_config(args.config, os.path.join(workdir, "bench-%s.yaml" % name),
                          os.path.join(workdir, "state-%s" % name), **{key: value})
        r = backlog_run(args.daemon, c, address, workdir, "daemon-" + name, expected, bare_rate,
                        failures)
        if r["handoffs"] != s["handoffs"]:
            log("note: (%s) made %d handoffs, (b) %d" % (label, r["handoffs"], s["handoffs"]))
        rate = s.get("input_events_per_s")
        return dict(r, rate_vs_b=round(r["input_events_per_s"] / rate, 3) if rate else None)

    if args.compare_commit_interval:
        results["daemon_compare"] = dict(
            compare("b'", "ci", "commit_interval", "state.commit_interval", args.compare_commit_interval),
            commit_interval=args.compare_commit_interval)
    if args.compare_member_updates:
        results["daemon_member_updates"] = dict(
            compare("b''", "mu", "member_updates", "accounts.member_updates", args.compare_member_updates),
            mode=args.compare_member_updates)

    # ---- b0: another build of handoffd over the same input ----------------------------
    # A change's cost, as a ratio measured in the same run on the same input: the
    # other binary (say, the build of the commit before a refactor) reads the same
    # backlog with its own empty store.
    if args.baseline_daemon:
        # Order matters on a shared machine (a later run finds warmer caches), so the two
        # builds run A B B A: this build's (b) above, the baseline twice, this build
        # once more; each rate is the mean of its two runs.
        runs = []
        for i, (binary, who) in enumerate([(args.baseline_daemon, "base"),
                                           (args.baseline_daemon, "base"),
                                           (args.daemon, "this")]):
            log("(b0) %s handoffd %s over the same input (%d of 3)" % (
                "baseline" if who == "base" else "this", binary, i + 1))
            template = args.baseline_config if who == "base" and args.baseline_config else args.config
            cfg0 = derive_config(template, os.path.join(workdir, "bench-b0-%d.yaml" % i),
                                 os.path.join(workdir, "state-b0-%d" % i))
            runs.append((who, backlog_run(binary, cfg0, address, workdir, "daemon-b0-%d" % i,
                                          expected, bare_rate, failures)))
        base = [r for who, r in runs if who == "base"]
        this = [s] + [r for who, r in runs if who == "this"]
        base_rate = sum(r["input_events_per_s"] for r in base) / len(base)
        this_rate = sum(r["input_events_per_s"] for r in this) / len(this)
        results["daemon_baseline"] = dict(
            base[0], binary=args.baseline_daemon,
            input_events_per_s=round(base_rate), ratio=round(base_rate / bare_rate, 4) if bare_rate else None,
            runs=[r["input_events_per_s"] for r in base], this_runs=[r["input_events_per_s"] for r in this],
            speedup=round(this_rate / base_rate, 3) if base_rate else None)
        # The same input folded must give the same counts; decisions may differ
        # between builds (that is often the point of the change), so a difference
        # there is reported, not failed.
        for k in ("folded", "duplicates", "dead_letters"):
            if base[0][k] != s[k]:
                failures.append("baseline handoffd gave %s %d, this one %d: not the same input "
                                "folded" % (k, base[0][k], s[k]))
        for k in ("handoffs", "member_updates", "breaches"):
            if base[0][k] != s[k]:
                log("note: %s %d with the baseline, %d with this build" % (k, base[0][k], s[k]))
    # ---- f: what the HTTP server costs ------------------------------------------------
    if args.http_load:
        http_phase(args, workdir, address, expected, bare_rate, failures, results)
    procs.stop(broker)

    # ---- d: live latency ------------------------------------------------------------
    log("(d) live phase: %d events/s from %d contacts" % (args.live_rate, args.live_contacts))
    live_cfg = derive_config(args.config, os.path.join(workdir, "live.yaml"),
                             os.path.join(workdir, "live-state"),
                             app_id="handoff-bench-live", partitions=LIVE_PARTITIONS)
    broker2, address2 = start_broker(procs, args.broker, live_cfg, LIVE_PARTITIONS, workdir,
                                     "broker-live")
    daemon_log = os.path.join(workdir, "daemon-live.log")
    daemon_out = os.path.join(workdir, "daemon-live.out")
    daemon = procs.start([args.daemon, "-c", live_cfg, "--brokers", address2,
                          "--log-level", "info", "--exit-when-idle", "5"],
                         stdout=open(daemon_out, "wb"), stderr=open(daemon_log, "wb"))

    def assigned():
        if daemon.poll() is not None:
            raise BenchError("live handoffd exited early with status %d" % daemon.returncode)
        return " assigned " in open(daemon_log, errors="replace").read()

    wait_for(assigned, 60, "the live daemon's partition assignment")
    # The reference: the same live records read by a bare consumer with the daemon's
    # fetch wait, latency = receipt - producer CreateTime.
    bare_log = os.path.join(workdir, "bare-live.log")
    bare_out = os.path.join(workdir, "bare-live.out")
    bare = procs.start([args.bare, "--brokers", address2, "--latency", "--idle", "8",
                        "-X", "fetch.wait.max.ms=10"] + inputs,
                       stdout=open(bare_out, "wb"), stderr=open(bare_log, "wb"))

    def bare_assigned():
        if bare.poll() is not None:
            raise BenchError("live hf-bare-consumer exited early with status %d" % bare.returncode)
        return "assigned" in open(bare_log, errors="replace").read()

    wait_for(bare_assigned, 60, "the live bare consumer's partition assignment")
    live_start_ms = int(time.time() * 1000)
    live_report = os.path.join(workdir, "gen-live.json")
    run([args.gen, "-c", live_cfg, "--brokers", address2, "--seed", str(SEED + 1), "--live",
         "--rate", str(args.live_rate), "--contacts", str(args.live_contacts),
         "--report", live_report],
        300, "hf-gen --live", stderr_path=os.path.join(workdir, "gen-live.log"))
    try:
        daemon.wait(timeout=120)
    except subprocess.TimeoutExpired:
        raise BenchError("the live daemon did not go idle within 120 s")
    if daemon.returncode != 0:
        raise BenchError("live handoffd exited with status %d (see %s)" % (daemon.returncode,
                                                                           daemon_log))
    try:
        bare.wait(timeout=120)
    except subprocess.TimeoutExpired:
        raise BenchError("the live bare consumer did not go idle within 120 s")
    live = parse_summary(open(daemon_out).read())
    live_gen = json.load(open(live_report))
    m = re.search(r"records (\d+) .*\nlatency_ms p50 (\d+) p99 (\d+) max (\d+)",
                  open(bare_out).read())
    if not m:
        raise BenchError("no latency from the live bare consumer (see %s)" % bare_log)
    if int(m.group(1)) != live_gen["records"]:
        failures.append("the live bare consumer saw %s of %d records" % (m.group(1),
                                                                         live_gen["records"]))
    bare_latency = {"p50_ms": int(m.group(2)), "p99_ms": int(m.group(3)),
                    "max_ms": int(m.group(4))}
    if live["consumed"] != live_gen["records"] + live["rekeyed"]:
        failures.append("live handoffd consumed %d records, expected %d + %d re-keyed" % (
            live["consumed"], live_gen["records"], live["rekeyed"]))
    handoffs = read_handoffs(address2, topics["conversation_ready"],
                             os.path.join(args.schemas, "ConversationReady.avsc"),
                             live["handoffs"], 60)
    if len(handoffs) < live["handoffs"]:
        failures.append("read %d handoffs back, the live daemon reported %d" % (
            len(handoffs), live["handoffs"]))
    lat = sorted(e - q for q, e, _rule, _t in handoffs if q >= live_start_ms)
    # account handoffs wait for the commit that carries their members' summaries
    lat_by_type = {}
    for q, e, _rule, t in handoffs:
        if q >= live_start_ms:
            lat_by_type.setdefault(t, []).append(e - q)
    by_type = {t: {"n": len(v), "p50_ms": percentile(sorted(v), 50), "p99_ms": percentile(sorted(v), 99)}
               for t, v in lat_by_type.items()}
    by_rule = {}
    for _q, _e, rule, _t in handoffs:
        by_rule[rule] = by_rule.get(rule, 0) + 1
    results["live"] = {
        "rate": args.live_rate, "contacts": args.live_contacts, "records": live_gen["records"],
        "handoffs": len(handoffs), "by_rule": by_rule, "measured": len(lat),
        "p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99),
        "max_ms": lat[-1] if lat else None,
        "by_entity_type": by_type,
        "peak_rss_mib": live["peak_rss_mib"],
        "late": live["late"], "late_detail": live["late_detail"],
        "broker_path": bare_latency,
    }
    if not lat:
        failures.append("no live handoff to measure latency on")
    results["phases_done"].append("live")
    procs.stop(broker2)


def backlog_run(binary, cfg, address, workdir, name, expected, bare_rate, failures, perf=False,
                beside=None):
    """One handoffd over the pre-produced backlog, from an empty store: its summary's
    figures, its input rate and its ratio to the bare consumer; completeness checked.
    @beside(stop_event), if given, runs on a thread while the daemon does."""
    argv = [binary, "-c", cfg, "--brokers", address, "--log-level", "warn",
            "--exit-when-idle", "5"]
    if perf:
        perf_data = os.path.join(workdir, "perf.data")
        argv = ["perf", "record", "-g", "-o", perf_data, "--"] + argv
        log("recording a profile to " + perf_data)
    stop = threading.Event()
    side = threading.Thread(target=beside, args=(stop,), daemon=True) if beside else None
    if side:
        side.start()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        text = run(argv, 900, name, stdout_path=os.path.join(workdir, name + ".out"),
                   stderr_path=os.path.join(workdir, name + ".log"))
    finally:
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        stop.set()
        if side:
            side.join(60)
    # CPU the daemon spent (user + system): a cost that scheduling noise on a shared
    # machine moves far less than the wall-clock rate
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    s = parse_summary(text)
    # The summary's seconds are rounded to 0.1 s; its records/s is exact.
    secs = s["consumed"] / s["records_per_s"] if s["records_per_s"] else s["seconds"]
    rate = expected / secs if secs > 0 else 0.0
    if s["consumed"] != expected + s["rekeyed"]:
        failures.append("%s consumed %d records, expected %d input + %d re-keyed = %d" % (
            name, s["consumed"], expected, s["rekeyed"], expected + s["rekeyed"]))
    if s["offset_gaps"]:
        failures.append("%s skipped %d records (offset gaps): the broker dropped them; "
                        "raise kafka.partitions" % (name, s["offset_gaps"]))
    return dict(s, seconds=round(secs, 3), input_events_per_s=round(rate),
                ratio=round(rate / bare_rate, 4) if bare_rate else None, cpu_s=round(cpu_s, 3),
                cpu_us_per_event=round(cpu_s * 1e6 / expected, 3) if expected else None)


def backtest_phase(args, cfg, workdir, expected, daemon, failures, results):
    """(h) The same input written to a file by hf-gen --output, replayed by
    `handoffctl backtest` through the bench rules (baseline) and a variant: its
    runtime from start to report, input records/s, and that rate over (b)'s."""
    path = os.path.join(workdir, "records.bin")
    log("(h) the same input to a file, then handoffctl backtest over it")
    run([args.gen, "-c", cfg, "--seed", str(SEED), "--contacts", str(args.contacts),
         "--accounts", str(args.accounts), "--start-ms", str(START_MS), "--days", "30",
         "--quiet", "--output", path], 600, "hf-gen --output")
    text = open(cfg).read()
    variant_text, n = re.subn(r"(- name: high_intent\n\s+min_score: )(\d+)",
                              lambda m: m.group(1) + str(int(m.group(2)) + 30), text, count=1)
    if n != 1:
        raise BenchError("%s: no high_intent rule with a min_score" % cfg)
    variant = os.path.join(workdir, "bench-variant.yaml")
    with open(variant, "w") as f:
        f.write(variant_text)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    out = run([args.ctl, "backtest", "--baseline", cfg, "--rules", variant, "--input", path,
               "--json"], 900, "handoffctl backtest",
              stdout_path=os.path.join(workdir, "backtest.json"),
              stderr_path=os.path.join(workdir, "backtest.log"))
    secs = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    rep = json.loads(out)
    if rep["records"] != expected:
        failures.append("handoffctl backtest replayed %d records of %d" % (rep["records"], expected))
    if rep["baseline"]["handoffs"] != daemon["handoffs"]:
        log("note: (h) made %d handoffs with the bench rules, (b) %d" % (
            rep["baseline"]["handoffs"], daemon["handoffs"]))
    rate = expected / secs if secs > 0 else 0.0
    d_rate = daemon.get("input_events_per_s")
    results["backtest"] = {
        "seconds": round(secs, 2), "records_per_s": round(rate),
        "vs_daemon": round(rate / d_rate, 3) if d_rate else None,
        "cpu_s": round((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), 2),
        "handoffs": [rep["baseline"]["handoffs"], rep["proposed"]["handoffs"]],
        "only_baseline": sum(len(r["only_baseline"]) for r in rep["rules"]),
        "only_proposed": sum(len(r["only_proposed"]) for r in rep["rules"]),
        "file_mb": round(os.path.getsize(path) / 1e6, 1),
    }
    os.remove(path)
    results["phases_done"].append("backtest")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def with_http(cfg_path, listen):
    """The bench config with http.listen set (this build's only: older builds lack the key)."""
    with open(cfg_path, "a") as f:
        f.write("\nhttp:\n  listen: %s\n" % json.dumps(listen))
    return cfg_path


def http_phase(args, workdir, address, expected, bare_rate, failures, results):
    """(f) the same backlog with the HTTP server off, and on with /metrics scraped every
    second (A B B A, mean rates); (g) once more with journey lookups hammered the whole
    run: the lookup rate, its latency, and what it costs the daemon."""
    rates = {"off": [], "on": []}
    cpu = {"off": [], "on": []}
    scrapes = []
    for i, mode in enumerate(["off", "on", "on", "off"]):
        port = free_port()
        cfg = with_http(derive_config(args.config, os.path.join(workdir, "bench-f%d.yaml" % i),
                                      os.path.join(workdir, "state-f%d" % i)),
                        "off" if mode == "off" else "127.0.0.1:%d" % port)

        def scrape(stop, port=port):
            for _ in range(900):  # one a second, bounded
                if stop.wait(1.0):
                    return
                try:
                    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
                        scrapes.append(len(r.read()))
                except OSError:
                    pass  # not listening yet, or gone
        log("(f) handoffd with the HTTP server %s (%d of 4)" % (
            "off" if mode == "off" else "on, /metrics scraped every second", i + 1))
        s = backlog_run(args.daemon, cfg, address, workdir, "daemon-f%d" % i, expected, bare_rate,
                        failures, beside=None if mode == "off" else scrape)
        rates[mode].append(s["input_events_per_s"])
        cpu[mode].append(s["cpu_us_per_event"])
    off, on = sum(rates["off"]) / 2, sum(rates["on"]) / 2
    cpu_off, cpu_on = sum(cpu["off"]) / 2, sum(cpu["on"]) / 2
    results["http"] = {"off": rates["off"], "on": rates["on"], "scrapes": len(scrapes),
                       "cpu_off": cpu["off"], "cpu_on": cpu["on"],
                       "cpu_on_vs_off": round(cpu_on / cpu_off, 4) if cpu_off else None,
                       "metrics_bytes": max(scrapes) if scrapes else 0,
                       "on_vs_off": round(on / off, 4) if off else None}

    # g: lookups of contacts the backlog holds, the whole run
    ids = []
    state = os.path.join(workdir, "state-f0")
    if args.ctl and os.path.isdir(state):
        # streamed, and cut short: the whole dump is a gigabyte of JSON, and a parent
        # that held it would pass its peak RSS on to the daemons it starts later
        # (getrusage's ru_maxrss survives exec)
        dump = subprocess.Popen([args.ctl, "dump", "-c", os.path.join(workdir, "bench-f0.yaml"),
                                 "--state", state, "contacts"], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        for line in dump.stdout:
            m = re.match(r'\{"contact_id":\s*"([^"]+)"', line)
            if m:
                ids.append(m.group(1))
            if len(ids) >= 20000:
                break
        dump.kill()
        dump.wait(30)
    if not ids:
        failures.append("no contact ids to look up (handoffctl dump of the (f) run's store)")
        return
    paths = os.path.join(workdir, "lookup-paths.txt")
    with open(paths, "w") as f:
        f.write("".join("/v1/contacts/%s\n" % i for i in ids))
    port = free_port()
    # commits every second, so that lookups during the run find committed journeys
    cfg = with_http(derive_config(args.config, os.path.join(workdir, "bench-g.yaml"),
                                  os.path.join(workdir, "state-g"), commit_interval="1s"),
                    "127.0.0.1:%d" % port)
    load = {}

    def hammer(stop):
        # wait until the daemon is ready (assigned, consuming), then load it while it
        # reads the backlog (bounded)
        for _ in range(600):
            if stop.is_set():
                return
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/readyz" % port, timeout=2).read()
                break
            except OSError:  # refused, or 503 while not ready
                time.sleep(0.05)
        if stop.wait(1.5):  # the first commit
            return
        out = subprocess.run([args.http_load, "127.0.0.1:%d" % port, paths, "--connections", "4",
                              "--seconds", "4"], capture_output=True, text=True, timeout=120)
        m = re.search(r"requests (\d+) seconds ([\d.]+) rate (\d+) p50_us (\d+) p99_us (\d+) max_us (\d+) "
                      r"status_2xx (\d+) status_3xx (\d+) status_4xx (\d+) status_5xx (\d+) errors (\d+)",
                      out.stdout)
        if m:
            keys = ["requests", "seconds", "rate", "p50_us", "p99_us", "max_us", "s2xx", "s3xx", "s4xx",
                    "s5xx", "errors"]
            load.update({k: float(v) if k == "seconds" else int(v) for k, v in zip(keys, m.groups())})
        else:
            load["error"] = (out.stdout + out.stderr).strip()[-300:]
    log("(g) handoffd with journey lookups of %d contacts on 4 connections during the run" % len(ids))
    s = backlog_run(args.daemon, cfg, address, workdir, "daemon-g", expected, bare_rate, failures,
                    beside=hammer)
    results["lookup"] = dict(load, daemon_input_events_per_s=s["input_events_per_s"],
                             ids=len(ids))
    if "error" in load or not load.get("requests"):
        failures.append("lookup load: %s" % load.get("error", "no requests answered"))
    elif load["s5xx"] or load["errors"]:
        failures.append("lookup load: %d answers 5xx, %d connection errors" % (load["s5xx"],
                                                                                load["errors"]))


def print_table(r, failures):
    d = r.get("daemon", {})
    b = r.get("bare", {})
    live = r.get("live", {})
    rows = []
    rows.append(("input", "%s contacts: %s records (%s events + duplicates), %.0f MB, "
                 "7 topics x %d partitions, pre-produced in %.1f s" % (
                     fmt_int(r["contacts"]), fmt_int(r.get("input_records", 0)),
                     fmt_int(r.get("input_events", 0)), r.get("input_value_bytes", 0) / 1e6,
                     r.get("partitions", 0), r.get("produce_s", 0))))
    if b:
        rows.append(("(a) bare consumer", "%s records/s  (%s records in %.2f s)" % (
            fmt_int(b["records_per_s"]), fmt_int(b["records"]), b["seconds"])))
    if d:
        rows.append(("(b) handoffd", "%s input events/s  (state.commit_interval %s; %s input + %s "
                     "repartitioned records in %.2f s; %s records/s consumed)" % (
                         fmt_int(d["input_events_per_s"]), r["commit_interval"], fmt_int(r["input_records"]),
                         fmt_int(d["rekeyed"]), d["seconds"], fmt_int(d["records_per_s"]))))
        rows.append(("", "folded %s, duplicates dropped %s, handoffs %s (%s), dead letters %s%s, "
                     "sales feedback applied %s, SLA breaches %s" % (
                         fmt_int(d["folded"]), fmt_int(d["duplicates"]), fmt_int(d["handoffs"]),
                         d["handoff_detail"].strip("()"), fmt_int(d["dead_letters"]),
                         " " + d["dead_letter_detail"] if d["dead_letter_detail"] else "",
                         fmt_int(d["feedback"]), fmt_int(d["breaches"]))))
        rows.append(("", "stage 3: %s member updates, %s rosters, %s merges (%s accounts)" % (
            fmt_int(d["member_updates"]), fmt_int(d["rosters"]), fmt_int(d["merges"]),
            fmt_int(r["accounts"]))))
        rows.append(("", "time: %d commits %s ms (longest %s ms), waiting on lagging partitions %s ms" % (
            d["commits"], fmt_int(d["commit_ms"]), fmt_int(d["commit_max_ms"]), fmt_int(d["wait_ms"]))))
    d2 = r.get("daemon_compare")
    if d2:
        rows.append(("(b') handoffd", "%s input events/s with state.commit_interval %s (ratio %.3f; "
                     "%s member updates, handoffs %s)" % (
                         fmt_int(d2["input_events_per_s"]), d2["commit_interval"], d2["ratio"] or 0,
                         fmt_int(d2["member_updates"]), fmt_int(d2["handoffs"]))))
    d3 = r.get("daemon_member_updates")
    if d3:
        rows.append(("(b'') handoffd", "%s input events/s with accounts.member_updates %s (ratio %.3f, "
                     "%.3f x (b); %s member updates, handoffs %s)" % (
                         fmt_int(d3["input_events_per_s"]), d3["mode"], d3["ratio"] or 0,
                         d3["rate_vs_b"] or 0, fmt_int(d3["member_updates"]), fmt_int(d3["handoffs"]))))
    d0 = r.get("daemon_baseline")
    if d0:
        rows.append(("(b0) baseline", "%s input events/s (ratio %.3f; runs %s; this build's runs %s) "
                     "with %s: this build runs at %.3f x the baseline's rate" % (
                         fmt_int(d0["input_events_per_s"]), d0["ratio"] or 0,
                         " ".join(fmt_int(x) for x in d0["runs"]),
                         " ".join(fmt_int(x) for x in d0["this_runs"]), d0["binary"],
                         d0["speedup"] or 0)))
    hp = r.get("http")
    if hp:
        rows.append(("(f) HTTP server", "on, /metrics scraped every second (%d scrapes, %s bytes): %s "
                     "input events/s; off: %s; on / off = %.3f (runs off %s, on %s)" % (
                         hp["scrapes"], fmt_int(hp["metrics_bytes"]),
                         fmt_int(sum(hp["on"]) / 2), fmt_int(sum(hp["off"]) / 2), hp["on_vs_off"] or 0,
                         " ".join(fmt_int(x) for x in hp["off"]), " ".join(fmt_int(x) for x in hp["on"]))))
        rows.append(("", "CPU per input event: on %.2f us, off %.2f us; on / off = %.3f (runs off %s, on %s)" % (
            sum(hp["cpu_on"]) / 2, sum(hp["cpu_off"]) / 2, hp["cpu_on_vs_off"] or 0,
            " ".join("%.2f" % x for x in hp["cpu_off"]), " ".join("%.2f" % x for x in hp["cpu_on"]))))
    lk = r.get("lookup")
    if lk and lk.get("requests"):
        rows.append(("(g) journey lookups", "%s requests/s during the backlog run (%s in %.1f s on 4 "
                     "connections, %d contacts): p50 %.2f ms, p99 %.2f ms, max %.1f ms; 2xx %s, 404 %s; "
                     "the daemon meanwhile %s input events/s" % (
                         fmt_int(lk["rate"]), fmt_int(lk["requests"]), lk["seconds"], lk["ids"],
                         lk["p50_us"] / 1000, lk["p99_us"] / 1000, lk["max_us"] / 1000,
                         fmt_int(lk["s2xx"]), fmt_int(lk["s4xx"]),
                         fmt_int(lk["daemon_input_events_per_s"]))))
    bt = r.get("backtest")
    if bt:
        rows.append(("(h) handoffctl backtest", "%s input records/s over two rules files in one process "
                     "(%s records, %.1f MB file, in %.2f s from start to report, CPU %.1f s for both "
                     "files, (b) %.1f s): %.3f x (b)'s %s input events/s; "
                     "handoffs %s under the bench rules, %s under the variant (%d only under the first, "
                     "%d only under the variant)" % (
                         fmt_int(bt["records_per_s"]), fmt_int(r["input_records"]), bt["file_mb"],
                         bt["seconds"], bt["cpu_s"], d.get("cpu_s", 0), bt["vs_daemon"] or 0,
                         fmt_int(d.get("input_events_per_s", 0)), fmt_int(bt["handoffs"][0]),
                         fmt_int(bt["handoffs"][1]), bt["only_baseline"], bt["only_proposed"])))
    if r.get("ratio") is not None:
        rows.append(("(c) ratio b / a", "%.3f  (target >= 0.1: %s)" % (
            r["ratio"], "met" if r["ratio"] >= 0.1 else "NOT met")))
    if live:
        p50 = live["p50_ms"]
        p99 = live["p99_ms"]
        rows.append(("(d) event -> handoff", "p50 %s ms, p99 %s ms, max %s ms  (%d handoffs at %s "
                     "events/s live; %s)" % (p50, p99, live["max_ms"], live["measured"],
                                             fmt_int(live["rate"]),
                                             ", ".join("%s=%d" % kv for kv in
                                                       sorted(live["by_rule"].items())))))
        for t, v in sorted(live.get("by_entity_type", {}).items()):
            rows.append(("    %s" % t, "p50 %s ms, p99 %s ms  (%d handoffs)" % (v["p50_ms"], v["p99_ms"], v["n"])))
        rows.append(("    late records", "%s of %s live records folded later than ordering.allowed_lateness %s" % (
            fmt_int(live.get("late", 0)), fmt_int(live["records"]), live.get("late_detail", ""))))
        bp = live["broker_path"]
        rows.append(("    reference", "producer -> bare consumer (same records, same fetch wait): "
                     "p50 %d ms, p99 %d ms, max %d ms" % (bp["p50_ms"], bp["p99_ms"],
                                                          bp["max_ms"])))
    if d:
        rows.append(("(e) peak RSS handoffd", "%.1f MiB (backlog run)%s" % (
            d["peak_rss_mib"] or 0,
            "; %.1f MiB (live run)" % live["peak_rss_mib"] if live.get("peak_rss_mib") else "")))
    checks = []
    if b:
        checks.append("bare consumer saw %s of %s records" % (fmt_int(b["records"]),
                                                                fmt_int(r["input_records"])))
    if d:
        checks.append("handoffd consumed %s = %s input + %s re-keyed, offset gaps %d" % (
            fmt_int(d["consumed"]), fmt_int(r["input_records"]), fmt_int(d["rekeyed"]),
            d["offset_gaps"]))
    rows.append(("checks", "; ".join(checks) + ("; FAILED" if failures else "; all passed")))
    rows.append(("wall time", "%.0f s" % r["wall_s"]))
    width = max(len(k) for k, _ in rows)
    print()
    print("== handoff end-to-end benchmark ==")
    for k, v in rows:
        print("%-*s  %s" % (width, k, v))
    print(flush=True)


if __name__ == "__main__":
    sys.exit(main())
