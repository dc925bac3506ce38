"""The oracle: one recorded input gives the same decisions however it is read.

hf-gen makes the journeys of 20,000 people (a fixed seed and start, 30 days, one
batch, so the records come out in event-time order across every topic, with a
share of repeated and of bad records) on 12 partitions per topic.  It is produced
once, before any daemon runs, into one namespace, and read there by:

  (a1) one daemon reading the backlog to its end;
  (a2) the same with fetches cut small (another interleaving of the partitions);
  (b)  one daemon killed with SIGKILL at random moments (a seeded random.Random),
       ten times, restarted on the same store each time, until it has read
       everything;
  (c)  three daemons of one consumer group, each with a store of its own: two
       start together, the third joins once a fifth of the backlog is in their
       stores (the group moves partitions to it), and the first is killed with
       SIGKILL half-way and restarted;

and, in a namespace of its own,

  (d)  hf-gen producing live (each record dated when it is sent) at a fixed rate
       while one daemon runs from the start with the shipped ordering settings
       (partitions run dry and fill again; a caught-up partition holds records of
       the last 5 s for at most 20 ms), then a fresh daemon reading the same log
       as a backlog.

Each run gets an empty store of its own; the e-mail hash key is shared, so states
compare.  The rules are the integration tests' (tests/fixtures/handoff-test.yaml),
which send member updates on every change, so no account decision depends on when
commits fall.  From each run one "decisions" object is taken: every entity's final
state (`handoffctl dump contacts|accounts|identities`, without the wall-clock
traces test_replay.py leaves out), the counters persisted with the state (without
those that describe the run rather than decide anything, see RUN_COUNTERS), and what
went out: the handoff ids (with the entity, rule and qualification time each names;
repeats of one id are allowed and counted), the lifecycle changes (entity, from, to,
cause, at), the SLA breach ids and the dead letters (reason, source topic, partition,
offset).  (a2) and (b) must equal (a1) exactly.  The live read (d) must equal the
backlog read of its log exactly when no record was late; records the daemon folded
late (it logs each, and fewer than 1 % may be) may change the entities they touch,
so those entities are left out of the comparison then (see touched()), and so are
the counters, which cannot be split by entity.  (c) must read everything and
dead-letter the same records; its other differences from (a1) are printed, not
asserted: across instances the order is not exact and a partition that moves starts
from its new owner's store (docs/ARCHITECTURE.md, "Determinism, and where it
stops").

(c) in more detail: the three daemons are slowed down together (Throttle) so that
reading the backlog lasts long enough for the late join and the kill to fall in the
middle of it.  The group has caught up when every partition is assigned to one
running daemon (its /metrics) whose store has read it to its end, twice in a row;
then all three stop at once, so that nothing moves on the way out.  Each entity is
taken from the store of the daemon that held its partition at the end (the others
may keep an older copy from before the partition moved); the counters are the sums
over the three stores.  A group whose stores stop moving fails after STALL_S.

Several runs share the namespace's output topics; each run's outputs are the
records past the end offsets taken before it started.  The single-instance runs
deliver between stages in memory, so (c) is the first to write to the repartition
topics, and runs last in that namespace.

Each run prints one figure line (records consumed, handoffs, entities compared,
differences, late records, wall time) and the first differences of each kind.
ORACLE_LOG_LEVEL=debug makes (c)'s daemons log what their partition group waits
for."""

import json
import os
import random
import re
import signal
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hftest as h  # noqa: E402
from hftest import T0  # noqa: E402
from hftest import shared_key, strip_wall_clock  # noqa: E402
from test_replay import small_fetches  # noqa: E402

NS = "oracle"
NS_LIVE = "oracle-live"
PARTITIONS = 12
CONTACTS = 20000
GEN_ARGS = ["--contacts", str(CONTACTS), "--seed", "31", "--start-ms", str(T0), "--days", "30",
            # one batch: every person's records merged into one event-time order
            "--batch", str(CONTACTS),
            "--dup-rate", "0.01", "--bad-rate", "0.001"]
LIVE_RATE = 20000  # records per second of the live run
KILLS = 10
STALL_S = 60  # (c): a group whose stores do not move for this long fails
KILL_SEED = 20260302

INPUTS = ["web_visits", "form_submissions", "content_downloads", "webinar_attendance", "email_engagement",
          "identity", "sales_activity"]
READ = INPUTS + ["by_anonymous", "by_contact", "by_account"]
# The store tables compared: the key of a row, and the topic whose partition of
# that key folds it (the instance holding that partition holds the entity).
TABLES = (("contacts", "contact_id", "by_contact"), ("accounts", "account_id", "by_account"),
          ("identities", "anonymous_id", "by_anonymous"))

# Counters of the metrics store that describe how a run went, not what it decided:
#  - consumed: records taken from every topic read, the repartition topics
#    included, so it grows with what instances send each other (and a partition
#    read again by a new owner counts again);
#  - commits: how often the commit interval came round;
#  - duplicates: repeated event ids dropped, which include what a stage sent again
#    after a crash of its instance (hf-gen's own repeats cannot be told apart);
#  - forwarded_remote: which of the re-keyed records crossed to another instance;
#  - late.<topic>: records that arrived after their partition stopped being
#    waited for (how the input arrived; on each run's figure line instead).
# Everything else is a decision and must agree: events folded; dead letters by
# reason; stitching (identified, relinked, buffered, evicted); records re-keyed
# (forwarded: every record a stage hands on, wherever it goes); member updates
# and rosters (the rules file sends them on every change, not once per commit,
# so they do not depend on when commits fall); merges and redirects; feedback
# applied; handoffs and lifecycle changes by rule and type; the outcome counters.
# The SLA counters (breaches, timers_fired and the SLA outcomes) run on the wall
# clock, but the input lies months in the past and no clock falls due within a
# run this short (accept within 4 h), so they must agree as well.
# Left out too: the time_to_accept and time_to_first_touch histograms of the
# outcomes, durations from a handoff's emitted_at (the wall clock when it was made)
# to the answer's event time: a backlog read makes its handoffs long after the
# events, a live read at once, so they are wall-clock traces like the SLA times
# test_replay.py strips from the states.
RUN_COUNTERS = {"consumed", "commits", "duplicates", "forwarded_remote"}
RUN_COUNTER_GROUPS = ("late.",)
WALL_CLOCK_COUNTERS = ("|time_to_accept|", "|time_to_first_touch|")


def run_dependent(name):
    return (name in RUN_COUNTERS or name.startswith(RUN_COUNTER_GROUPS)
            or any(w in name for w in WALL_CLOCK_COUNTERS))


def entity_partition(entity_id):
    return h.murmur2_partition(entity_id.encode("utf-8"), PARTITIONS)


def unprefixed(ns, name):
    """@name (a topic, or a counter named after one) without the namespace."""
    return name.replace(ns + ".", "")


class Decisions:
    """What one run decided, in a form two runs compare by."""

    def __init__(self, label):
        self.label = label
        self.states = {}  # (table, id) -> canonical JSON of the dump row
        self.counters = {}  # decisions among the counters (summed over the stores)
        self.raw = {}  # every counter, summed over the stores
        self.handoffs = {}  # handoff_id -> {(entity_type, entity_id, rule, qualified_at)}
        self.handoff_records = 0
        self.lifecycle = set()  # (entity_type, entity_id, from, to, cause, at)
        self.lifecycle_records = 0
        self.breaches = set()  # breach_id
        self.dlq = set()  # (reason, source topic, partition, offset)
        self.dlq_records = 0
        self.secs = 0.0

    @property
    def late(self):
        return sum(v for k, v in self.raw.items() if k.startswith("late."))

    def row(self, table, entity_id):
        s = self.states.get((table, entity_id))
        return h.avro_json_plain(json.loads(s)) if s else None


def decisions(label, env, marks, stores, owner=None):
    """The decisions of a run of @env whose outputs start at @marks (output_marks)
    and whose state is in @stores (state dirs).  With several stores, @owner maps
    (topic key, partition) to the store of the instance that held that partition
    last: an entity is taken from there (the others may hold an older copy, from
    before the partition moved)."""
    d = Decisions(label)
    for store in stores:
        for table, key, topic_key in TABLES:
            for row in env.dump(table, state_dir=store):
                eid = row[key]
                if owner is not None and owner[(topic_key, entity_partition(eid))] != store:
                    continue
                assert (table, eid) not in d.states, (table, eid)
                d.states[(table, eid)] = json.dumps(strip_wall_clock(row), sort_keys=True)
        for m in env.dump("metrics", state_dir=store):
            name = unprefixed(env.ns, m["name"])
            d.raw[name] = d.raw.get(name, 0) + m["value"]
    d.counters = {k: v for k, v in d.raw.items() if not run_dependent(k)}
    for _, x in env.decoded("conversation_ready", start=marks["conversation_ready"], timeout=120):
        d.handoff_records += 1
        d.handoffs.setdefault(x["handoff_id"], set()).add(
            (x["entity_type"], x["entity_id"], x["rule"], x["qualified_at"]))
    for _, x in env.decoded("lifecycle", start=marks["lifecycle"], timeout=120):
        d.lifecycle_records += 1
        d.lifecycle.add((x["entity_type"], x["entity_id"], x["from_stage"], x["to_stage"], x["cause"], x["at"]))
    for _, x in env.decoded("sla_breach", start=marks["sla_breach"], timeout=120):
        d.breaches.add(x["breach_id"])
    for _, x in env.decoded("dlq", start=marks["dlq"], timeout=120):
        d.dlq_records += 1
        d.dlq.add((x["error"], unprefixed(env.ns, x["topic"]), x["partition"], x["offset"]))
    return d


def json_diff(a, b, path="", out=None, limit=4):
    """The first @limit paths where JSON values @a and @b differ, as text."""
    out = [] if out is None else out
    if len(out) >= limit:
        return out
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append("%s.%s: %s" % (path, k, "missing" if k not in b else "added"))
            elif a[k] != b[k]:
                json_diff(a[k], b[k], "%s.%s" % (path, k), out, limit)
            if len(out) >= limit:
                break
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                json_diff(x, y, "%s[%d]" % (path, i), out, limit)
            if len(out) >= limit:
                break
    else:
        sa, sb = json.dumps(a), json.dumps(b)
        out.append("%s: %s -> %s" % (path or ".", sa[:160], sb[:160]))
    return out


def differences(want, got, skip=frozenset(), counters=True):
    """{kind: [text]} of every way @got differs from @want.  @skip: entity ids
    whose states and outputs are left out; @counters: whether the counters count."""
    out = {"state": [], "counter": [], "handoff": [], "lifecycle": [], "breach": [], "dead letter": []}
    for k in sorted(set(want.states) | set(got.states)):
        if k[1] in skip:
            continue
        a, b = want.states.get(k), got.states.get(k)
        if a == b:
            continue
        if a is None or b is None:
            out["state"].append("%s %s: only in %s" % (k[0], k[1], got.label if a is None else want.label))
        else:
            out["state"].append("%s %s: %s" % (k[0], k[1], "; ".join(json_diff(json.loads(a), json.loads(b)))))
    if counters:
        for k in sorted(set(want.counters) | set(got.counters)):
            if want.counters.get(k) != got.counters.get(k):
                out["counter"].append("%s: %s -> %s" % (k, want.counters.get(k), got.counters.get(k)))
    for hid in sorted(set(want.handoffs) | set(got.handoffs)):
        a, b = want.handoffs.get(hid, set()), got.handoffs.get(hid, set())
        if a == b or any(v[1] in skip for v in a | b):
            continue
        out["handoff"].append("%s: %s -> %s" % (hid, sorted(a) or "none", sorted(b) or "none"))
    for x in sorted(want.lifecycle ^ got.lifecycle):
        if x[1] not in skip:
            out["lifecycle"].append("%s %s" % ("only in " + (want.label if x in want.lifecycle else got.label), x))
    for x in sorted(want.breaches ^ got.breaches):
        out["breach"].append("%s only in %s" % (x, want.label if x in want.breaches else got.label))
    for x in sorted(want.dlq ^ got.dlq):
        out["dead letter"].append("%s only in %s" % (x, want.label if x in want.dlq else got.label))
    return out


def report(want, got, diffs, skip=frozenset(), late=None, shown=6):
    """Prints the run's figure line and its first differences; returns the count."""
    n = sum(len(v) for v in diffs.values())
    compared = sum(1 for k in set(want.states) | set(got.states) if k[1] not in skip)
    distinct = len(got.handoffs)
    print("oracle %-3s %7d records consumed, handoffs %d distinct (%d repeats), %d entities compared%s, "
          "%d differences, %d late, %.1f s" % (
              got.label, got.raw.get("consumed", 0), distinct, got.handoff_records - distinct, compared,
              " (%d left out)" % len(skip) if skip else "", n, got.late if late is None else late, got.secs))
    for kind, lines in diffs.items():
        if lines:
            by = {}
            for line in lines:
                by[line.split(" ", 1)[0]] = by.get(line.split(" ", 1)[0], 0) + 1
            print("  %d %s differences (%s vs %s%s), the first:" % (
                len(lines), kind, want.label, got.label,
                "; " + ", ".join("%s %d" % kv for kv in sorted(by.items())) if kind == "state" else ""))
            for line in lines[:shown]:
                print("    " + line[:600])
    sys.stdout.flush()
    return n


def offsets_of(env, store):
    """{(topic, partition): next offset} of a store; {} before it exists."""
    r = env.ctl("dump", "--state", store, "-c", env.config_path, "offsets")
    if r.returncode != 0:
        return {}
    return {(o["topic"], o["partition"]): o["next_offset"]
            for o in (json.loads(l) for l in r.stdout.splitlines() if l.strip())}


class Throttle:
    """Slows a run's daemons down, as a busy machine would: each one running is
    stopped (SIGSTOP) for @stop_ms out of every @run_ms + @stop_ms, so that a read
    that takes seconds at full speed lasts long enough for a group to move its
    partitions in the middle of it.  Stops well within the group's session
    timeout; bounded by @max_s; stop() lets every one run again."""

    def __init__(self, daemons, run_ms, stop_ms, max_s=600):
        self.daemons = daemons
        self.run_s, self.stop_s, self.max_s = run_ms / 1000.0, stop_ms / 1000.0, max_s
        self.halt = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _procs(self):
        return [d.proc for d in self.daemons if d.proc is not None and d.proc.running()]

    @staticmethod
    def _signal(procs, sig):
        for p in procs:
            try:
                os.kill(p.popen.pid, sig)
            except ProcessLookupError:
                pass

    def _loop(self):
        deadline = time.monotonic() + self.max_s
        for _ in range(int(self.max_s / (self.run_s + self.stop_s)) + 1):
            if self.halt.is_set() or time.monotonic() > deadline:
                break
            procs = self._procs()
            self._signal(procs, signal.SIGSTOP)
            try:
                self.halt.wait(self.stop_s)
            finally:
                self._signal(procs, signal.SIGCONT)
            self.halt.wait(self.run_s)

    def stop(self):
        self.halt.set()
        self.thread.join(10)
        self._signal(self._procs(), signal.SIGCONT)


class Oracle(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = h.Cluster([NS, NS_LIVE], partitions=PARTITIONS, name="oracle")
        cls.key = os.path.join(h.scratch_dir("oracle-key"), "email-hash.key")
        t0 = time.monotonic()
        env = cls.cluster.env(NS, config_edit=shared_key(cls.key))
        cls.produced = env.generate(*GEN_ARGS)
        print("oracle: %d records produced (%d people, %d partitions per topic) in %.1f s" % (
            cls.produced, CONTACTS, PARTITIONS, time.monotonic() - t0))
        try:
            cls.a1 = cls.read_backlog("a1", env)
        finally:
            env.close()
        report(cls.a1, cls.a1, differences(cls.a1, cls.a1))

    @classmethod
    def tearDownClass(cls):
        cls.cluster.stop()

    @classmethod
    def read_backlog(cls, label, env):
        """One daemon reads the namespace's backlog to its end."""
        t0 = time.monotonic()
        marks = env.output_marks()
        d = env.daemon("--exit-when-idle", "5", log_level="info")
        d.start()
        rc = d.wait_exit(600)
        if rc != 0:
            raise AssertionError("handoffd rc %s\n%s" % (rc, d.proc.tail()))
        s = h.Summary(d.proc.out)
        if s.consumed != cls.produced or s.gaps:
            raise AssertionError("read %d of %d records:\n%s" % (s.consumed, cls.produced, s.text))
        dec = decisions(label, env, marks, [env.state_dir])
        dec.secs = time.monotonic() - t0
        return dec

    def env(self, ns=NS, config_edit=None):
        """A fresh env (empty store) on namespace @ns; its daemons are killed when
        the test ends, so none stays in the group of the next."""
        e = self.cluster.env(ns, config_edit=config_edit)
        self.addCleanup(e.close)
        return e

    def check(self, got, skip=frozenset(), counters=True, late=None, ref=None):
        ref = ref or self.a1
        diffs = differences(ref, got, skip=skip, counters=counters)
        n = report(ref, got, diffs, skip=skip, late=late)
        self.assertGreater(len(ref.handoffs), 100, "test design: the input makes handoffs")
        self.assertGreater(len(ref.dlq), 0, "test design: the input has bad records")
        self.assertEqual(n, 0, "%s decided otherwise than %s (first differences above)" % (got.label, ref.label))

    # -- (a2) -------------------------------------------------------------------
    def test_a_backlog_read_again_in_small_fetches(self):
        env = self.env(config_edit=small_fetches(self.key))
        with open(env.config_path, encoding="utf-8") as f:
            self.assertIn("max.partition.fetch.bytes", f.read())
        self.check(self.read_backlog("a2", env))

    # -- (b) --------------------------------------------------------------------
    def test_b_killed_at_random_moments(self):
        t0 = time.monotonic()
        rnd = random.Random(KILL_SEED)
        env = self.env(config_edit=shared_key(self.key))
        marks = env.output_marks()
        inputs = {env.topics[k] for k in INPUTS}

        def committed():
            """Input records whose state the store holds."""
            return sum(off for (t, _), off in offsets_of(env, env.state_dir).items() if t in inputs)

        # Where the lives end: spread over the first four fifths of the backlog,
        # each killed a random moment (up to about a commit interval) after its
        # store passed the mark, so that some of what it read is not committed
        # yet.  The last fifth leaves room for the time a poll of the store takes
        # on a busy machine: a life killed after its store reached the end tests
        # nothing.
        marks_at = [(k + rnd.uniform(0.5, 1.0)) * 0.8 * self.produced / KILLS for k in range(KILLS)]
        d = env.daemon(log_level="info")
        kills = []  # (records committed when the life began, when it was killed)
        for mark in marks_at:
            d.start()
            began = now = committed()
            deadline = time.monotonic() + 120
            for _ in range(100000):
                if now >= mark:
                    break
                self.assertLess(time.monotonic(), deadline, "store at %d of %d records after 120 s:\n%s" % (
                    now, mark, d.proc.tail()))
                time.sleep(0.02)
                now = committed()
            time.sleep(rnd.uniform(0, 0.25))
            d.kill9()
            kills.append((began, now))
        d.start()
        kills.append((committed(), None))
        d.wait_caught_up(timeout=300)
        s = d.stop()
        print("oracle b:  killed %d times (input records in the store when a life began -> when it was killed: "
              "%s); the last run read %d" % (KILLS, ", ".join("%d->%d" % k for k in kills[:-1]), s.consumed))
        # a kill fell before the end when the next life began with records to read
        before_end = sum(1 for began, _ in kills[1:] if began < self.produced)
        self.assertGreaterEqual(before_end, KILLS - 2, "test design: the kills fall before the end of the backlog")
        self.assertFalse(s.gaps, s.text)
        got = decisions("b", env, marks, [env.state_dir])
        got.secs = time.monotonic() - t0
        self.assertEqual(got.raw.get("consumed"), self.produced, "every record consumed exactly once")
        self.check(got)

    # -- (c) --------------------------------------------------------------------
    def group_settled(self, env, daemons, stores):
        """The owner of every partition the group reads, {(topic key, partition):
        store}, once each is assigned to exactly one running daemon whose store
        has read it to its end; else (None, why)."""
        names = {env.topics[k]: k for k in READ}
        ends = env.end_offsets(READ)
        owner = {}
        for d, store in zip(daemons, stores):
            if not d.proc.running():
                return None, "%s is not running" % store
            lags = d.assigned_partitions()
            if lags is None:
                return None, "%s: assignment not known" % store
            for tp in lags:
                if tp in owner:
                    return None, "%s [%d] assigned twice" % tp
                owner[tp] = store
        if set(owner) != set(ends):
            return None, "not assigned: %s" % sorted(set(ends) - set(owner))[:6]
        stored = {s: offsets_of(env, s) for s in stores}
        behind = {tp: (stored[owner[tp]].get(tp, 0), end) for tp, end in ends.items()
                  if stored[owner[tp]].get(tp, 0) < end}
        if behind:
            return None, "behind (stored, end): %s" % sorted(behind.items())[:6]
        return {(names[t], p): s for (t, p), s in owner.items()}, None

    def test_c_three_instances_one_killed_one_late(self):
        """The group reads everything (it used to hang: a partition paused with a full
        buffer stayed paused after the rebalance) and dead-letters the same records;
        its decisions are compared with (a1) and the differences printed, not
        asserted: across instances the merge of re-keyed records is not exact, and a
        partition that moves starts from its new owner's store (docs/ARCHITECTURE.md,
        "Determinism, and where it stops")."""
        t0 = time.monotonic()
        env = self.env(config_edit=shared_key(self.key))
        ends = env.end_offsets(["by_anonymous", "by_contact", "by_account"])
        self.assertEqual(sum(ends.values()), 0, "test design: the repartition topics are empty before (c)")
        marks = env.output_marks()
        stores = [env.state_dir, os.path.join(env.dir, "state-b"), os.path.join(env.dir, "state-c")]
        level = os.environ.get("ORACLE_LOG_LEVEL", "info")
        daemons = [env.daemon(log_level=level, name="first"),
                   env.daemon("--state", stores[1], log_level=level, name="second"),
                   env.daemon("--state", stores[2], log_level=level, name="late")]
        first, second, late = daemons
        inputs = [env.topics[k] for k in INPUTS]

        def progress():
            """Share of the input read, by the furthest store of each partition."""
            best = {}
            for s in stores:
                for tp, off in offsets_of(env, s).items():
                    if tp[0] in inputs:
                        best[tp] = max(best.get(tp, 0), off)
            return sum(best.values()) / float(self.produced)

        def tails():
            return "\n".join(d.proc.tail(12) for d in daemons if d.proc is not None)

        def wait_progress(share):
            """Until @share of the input is in the stores; fails when they stop
            moving for STALL_S."""
            last, since = None, time.monotonic()
            for _ in range(10000):
                p = progress()
                if p >= share:
                    return p
                if p != last:
                    last, since = p, time.monotonic()
                self.assertLess(time.monotonic() - since, STALL_S, "stores stopped at %.1f %% of the input:\n%s" % (
                    100 * p, tails()))
                time.sleep(0.2)
            self.fail("progress not measured")

        throttle = Throttle(daemons, run_ms=40, stop_ms=60)
        try:
            first.start(wait_ready=False)
            second.start(wait_ready=False)
            first.wait_ready(120)
            second.wait_ready(120)
            p_late = wait_progress(0.2)
            late.start(wait_ready=False)
            p_kill = wait_progress(0.5)
            first.kill9()
            first.start(wait_ready=False)
            # caught up, with the same owners twice in a row (the status behind
            # /metrics is rebuilt about once a second); a group whose stores do
            # not move for a minute will not catch up
            owner, why, settled, deadline = None, None, False, time.monotonic() + 240
            last_why, since = None, time.monotonic()
            for _ in range(1000):
                now, why = self.group_settled(env, daemons, stores)
                if now is not None and now == owner:
                    settled = True
                    break
                owner = now
                if why != last_why:
                    last_why, since = why, time.monotonic()
                if time.monotonic() > deadline or time.monotonic() - since > STALL_S:
                    break
                time.sleep(2)
            self.assertTrue(settled, "group not caught up after %.0f s (unchanged for %.0f s): %s\n%s" % (
                time.monotonic() - t0, time.monotonic() - since, why, tails()))
        finally:
            throttle.stop()
        # all at once, so that no partition moves on the way out
        for d in daemons:
            d.proc.signal(signal.SIGTERM)
        summaries = []
        for d in daemons:
            rc = d.proc.wait_exit(120)
            self.assertEqual(rc, 0, d.proc.tail())
            summaries.append(h.Summary(d.proc.out))
        self.assertFalse(any(s.gaps for s in summaries))
        held = {s: sorted({p for (k, p), o in owner.items() if o == s and k == "by_contact"}) for s in stores}
        print("oracle c:  third instance started at %.0f %% of the backlog read, first killed at %.0f %%; "
              "partitions at the end %s; re-keyed through repartition topics %d" % (
                  100 * p_late, 100 * p_kill, " ".join("%s" % held[s] for s in stores),
                  sum(env.end_offsets(["by_anonymous", "by_contact", "by_account"]).values())))
        got = decisions("c", env, marks, stores, owner=owner)
        got.secs = time.monotonic() - t0
        self.assertGreaterEqual(sum(s.consumed for s in summaries), self.produced, "every input record read")
        diffs = differences(self.a1, got)
        n = report(self.a1, got, diffs)
        print("oracle c:  %d differences from a1 across three instances (not exact across instances)" % n)
        self.assertEqual(got.dlq, self.a1.dlq, "the same records dead-lettered")
        self.assertGreater(len(got.handoffs), len(self.a1.handoffs) // 2, "the group hands people off")

    # -- (d) --------------------------------------------------------------------
    def test_d_live(self):
        """hf-gen produces live (each record dated when it is sent) at a fixed rate
        while one daemon runs with the shipped ordering (allowed lateness 5 s, idle
        timeout 20 ms); then a fresh daemon reads the same log as a backlog.  Both
        must decide alike for every entity no late record touched, and exactly when
        none was late."""
        t0 = time.monotonic()
        env = self.env(NS_LIVE, config_edit=shared_key(self.key))
        marks = env.output_marks()
        d = env.daemon(log_level="debug").start()
        produced = env.generate(*[a for a in GEN_ARGS if a not in ("--start-ms", str(T0))],
                                "--live", "--rate", str(LIVE_RATE))
        self.assertGreater(produced, CONTACTS)
        d.wait_caught_up(timeout=300)
        s = d.stop()
        self.assertEqual(s.consumed, produced, s.text)
        self.assertFalse(s.gaps, s.text)
        got = decisions("d", env, marks, [env.state_dir])
        got.secs = time.monotonic() - t0
        late_lines = [m.groups() for m in (re.search(r"late record (\S+) \[(\d+)\] @(\d+)", l) for l in d.log()) if m]
        print("oracle d:  %d records at %d/s; summary: %s late %s; %d late records logged" % (
            produced, LIVE_RATE, s.late_total, s.late, len(late_lines)))
        self.assertEqual(len(late_lines), s.late_total, "every late record is logged")
        self.assertLess(s.late_total, produced // 100, "live records at a steady rate are rarely late")
        # the same log, read again as a backlog by a fresh daemon
        ref_env = self.env(NS_LIVE, config_edit=shared_key(self.key))
        t1 = time.monotonic()
        ref_marks = ref_env.output_marks()
        rd = ref_env.daemon("--exit-when-idle", "5", log_level="info")
        rd.start()
        self.assertEqual(rd.wait_exit(600), 0, rd.proc.tail())
        rs = h.Summary(rd.proc.out)
        self.assertEqual(rs.consumed, produced, rs.text)
        ref = decisions("d-backlog", ref_env, ref_marks, [ref_env.state_dir])
        ref.secs = time.monotonic() - t1
        skip = frozenset()
        if s.late_total:
            skip = self.touched(env, [(t, int(p), int(o)) for t, p, o in late_lines], got, ref)
        # the counters cannot be split by entity: they count only when nothing was late
        self.check(got, skip=skip, counters=not skip, late=s.late_total, ref=ref)

    def touched(self, env, late, got, ref):
        """The entities a late record may have changed: the ids it names (contact,
        anonymous id, merged contact, the entity of sales feedback, its key), the
        contact each anonymous id resolved to, the accounts of those contacts, and
        every contact of those accounts (a roster an account sent may differ), as
        either run has them."""
        recs = h.fetch_records(env.address, late)
        self.assertEqual(len(recs), len(set(late)), "every late record read back")
        ids = set()
        for r in recs.values():
            if r.key:
                ids.add(r.key.decode("utf-8", errors="replace"))
            try:
                name, x = h.AVRO.decode(r.value)
            except Exception:  # a bad record (it went to the dead letters)
                continue
            for f in ("contact_id", "anonymous_id", "merged_contact_id", "entity_id"):
                if x.get(f):
                    ids.add(x[f])
        runs = (ref, got)
        for i in list(ids):
            for run in runs:
                row = run.row("identities", i)
                if row and row.get("contact_id"):
                    ids.add(row["contact_id"])
        contacts_of = {}  # account id -> contacts whose state names it, in either run
        for run in runs:
            for (table, cid), text in run.states.items():
                if table == "contacts":
                    # its account, and the account of the roster it holds
                    for acct in re.findall(r'"account_id": (?:\{"string": )?"([^"]*)"', text):
                        contacts_of.setdefault(acct, set()).add(cid)
        for i in list(ids):
            for run in runs:
                row = run.row("contacts", i)
                if row:
                    for f in ("account_id", "redirect_to"):
                        if row["state"].get(f):
                            ids.add(row["state"][f])
        for i in list(ids):
            ids |= contacts_of.get(i, set())
            for run in runs:
                row = run.row("accounts", i)
                if row:
                    ids.update(m["contact_id"] for m in row["state"].get("members", []))
        return frozenset(ids)


if __name__ == "__main__":
    h.main()
