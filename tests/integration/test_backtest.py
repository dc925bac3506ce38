"""handoffctl backtest: the shipped rules against a variant, on recorded input.

hf-gen writes the journeys of 2,000 people to a file (--output) and, with the same
seed, the same records to a mock cluster.  `handoffctl backtest` replays the file
through config/handoff.yaml (the baseline) and a variant whose high_intent rule
needs a higher score.  Two handoffd runs, one per rules file, read the same records
from the cluster; the handoffs the backtest says differ must be exactly the ones by
which the two daemons' handoffs differ, and its totals per rule must be theirs.  Two
backtests of one file print the same bytes, and reading the records from the cluster
(--brokers, no consumer group) gives the same report as the file.  Errors: a rules
file with a mistake is reported with file:line:col, an unreadable or cut input, an
unreachable broker and a bad time are refused with a message."""

import collections
import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import hftest as h  # noqa: E402
from hftest import T0  # noqa: E402

PARTITIONS = 4
CONTACTS = 2000
SEED = "7"
GEN_ARGS = ("--contacts", str(CONTACTS), "--seed", SEED, "--start-ms", str(T0), "--days", "30")


def shipped_rules():
    with open(os.path.join(h.SOURCE_ROOT, "config", "handoff.yaml"), encoding="utf-8") as f:
        return f.read()


def raise_high_intent(text):
    """The rules with high_intent's min_score raised from 100 to 130."""
    rx = re.compile(r"(- name: high_intent\n\s+min_score: )100\n")
    assert rx.search(text), "high_intent with min_score 100 not found in the shipped rules"
    return rx.sub(r"\g<1>130\n", text, count=1)


def who(x):
    return (x["entity_type"], x["entity_id"], x["rule"])


class BacktestTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = h.Cluster(["backtest"], partitions=PARTITIONS, name="backtest")
        cls.key = os.path.join(h.scratch_dir("backtest-key"), "email-hash.key")

    @classmethod
    def tearDownClass(cls):
        cls.cluster.stop()

    def env(self, edit=None):
        """An env of the namespace with the shipped rules (edited by @edit)."""
        e = self.cluster.env("backtest")
        # one e-mail key, so that both daemons hash alike
        text = h.shared_key(self.key)(e.localize(shipped_rules()))
        # any free port: the shipped 8686 may be taken by a daemon of another test
        text = h.yaml_set(text, "http", "listen", '"127.0.0.1:0"')
        self.assertIn("email_hash_key_file", text)
        if edit:
            text = edit(text)
        with open(e.config_path, "w", encoding="utf-8") as f:
            f.write(text)
        return e

    def backtest(self, *args, rc=0):
        r = h.run([h.binary("HANDOFFCTL"), "backtest"] + list(args), timeout=300)
        self.assertEqual(r.returncode, rc, "rc %d\n%s" % (r.returncode, r.stderr))
        return r

    def daemon_handoffs(self, env, produced):
        """The handoffs of a fresh handoffd reading the backlog: a list of
        ConversationReady data, and the summary."""
        marks = env.output_marks(["conversation_ready"])["conversation_ready"]
        d = env.daemon("--exit-when-idle", "10", log_level="info")
        d.start()
        self.assertEqual(d.wait_exit(600), 0, d.proc.tail())
        s = h.Summary(d.proc.out)
        self.assertEqual(s.consumed, produced, s.text)
        out = env.decoded("conversation_ready", start=marks, timeout=60)
        self.assertEqual(len(out), s.handoffs, s.text)
        return [datum for _, datum in out], s

    def test_backtest_against_daemons(self):
        base = self.env()
        variant = self.env(raise_high_intent)
        d = h.scratch_dir("backtest-files")
        path = os.path.join(d, "records.bin")
        r = h.run([h.binary("HF_GEN"), "-c", base.config_path, "--quiet", "--output", path] + list(GEN_ARGS),
                  timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)

        args = ["--baseline", base.config_path, "--rules", variant.config_path, "--input", path,
                "--partitions", str(PARTITIONS)]
        one = self.backtest(*args, "--json").stdout
        two = self.backtest(*args, "--json").stdout
        self.assertEqual(one, two, "two backtests of one file differ")
        report = json.loads(one)
        text = self.backtest(*args).stdout
        print(text.split("\nrule ")[0])

        # the same records on the cluster, read by a daemon per rules file
        produced = base.generate(*GEN_ARGS)
        self.assertEqual(report["records"], produced)
        a, sa = self.daemon_handoffs(base, produced)
        b, sb = self.daemon_handoffs(variant, produced)
        print("backtest: %d records; daemons: %d and %d handoffs (%s / %s)" % (
            produced, len(a), len(b), sa.handoffs_by_rule, sb.handoffs_by_rule))
        self.assertGreater(len(a), 30)

        # totals per rule are the daemons'
        totals = {t["name"]: (t["baseline"], t["proposed"]) for t in report["totals"]["rule"]}
        rules = set(sa.handoffs_by_rule) | set(sb.handoffs_by_rule)
        self.assertEqual(totals, {k: (sa.handoffs_by_rule.get(k, 0), sb.handoffs_by_rule.get(k, 0))
                                  for k in rules})
        self.assertEqual(report["baseline"]["handoffs"], len(a))
        self.assertEqual(report["proposed"]["handoffs"], len(b))

        # the differences are exactly those of the daemons' handoffs
        ca = collections.Counter(who(x) for x in a)
        cb = collections.Counter(who(x) for x in b)
        only_a = ca - cb
        only_b = cb - ca
        got_a = collections.Counter(who(x) for r in report["rules"] for x in r["only_baseline"])
        got_b = collections.Counter(who(x) for r in report["rules"] for x in r["only_proposed"])
        print("backtest: %d only under the baseline, %d only under the variant" % (
            sum(got_a.values()), sum(got_b.values())))
        self.assertGreater(sum(only_a.values()), 0, "the variant changed nothing: no test")
        self.assertEqual(got_a, only_a)
        self.assertEqual(got_b, only_b)
        # with their reasons: why they qualified
        by_id = {x["handoff_id"]: x for x in a}
        for r in report["rules"]:
            for x in r["only_baseline"]:
                self.assertIn(x["handoff_id"], by_id)
                want = [(y["rule"], y["points"], y["count"], y["detail"]) for y in by_id[x["handoff_id"]]["reasons"]]
                self.assertEqual([(y["rule"], y["points"], y["count"], y["detail"]) for y in x["reasons"]], want)
                self.assertEqual(x["team"], by_id[x["handoff_id"]]["routing"]["team"]
                                 if by_id[x["handoff_id"]].get("routing") else None)

        # the input topics read from the cluster, no group: the same report
        kafka = self.backtest("--baseline", base.config_path, "--rules", variant.config_path,
                              "--brokers", base.address, "--json").stdout
        self.assertEqual(kafka, one)

        # a time range: only the records of those days
        part = json.loads(self.backtest(*args, "--from", "2026-03-10", "--to", "2026-03-17", "--json").stdout)
        self.assertGreater(part["records"], 0)
        self.assertLess(part["records"], report["records"])
        for r in part["rules"]:
            for kind in ("only_baseline", "only_proposed"):
                for x in r[kind]:
                    self.assertTrue("2026-03-10" <= x["qualified_at"] < "2026-03-17", x)

    def test_errors(self):
        e = self.env()
        d = h.scratch_dir("backtest-errors")
        bad = os.path.join(d, "bad.yaml")
        with open(e.config_path, encoding="utf-8") as f:
            text = f.read()
        with open(bad, "w", encoding="utf-8") as f:
            f.write(raise_high_intent(text).replace("min_score: 130", "min_score: 1O", 1))
        path = os.path.join(d, "records.bin")
        r = h.run([h.binary("HF_GEN"), "-c", e.config_path, "--quiet", "--output", path, "--contacts", "50",
                   "--start-ms", str(T0)], timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)

        r = self.backtest("--baseline", e.config_path, "--rules", bad, "--input", path, rc=2)
        self.assertRegex(r.stderr, re.escape(bad) + r":\d+:\d+: qualify\.contact_rules\[0\]\.min_score")
        r = self.backtest("--baseline", e.config_path, "--rules", e.config_path, "--input",
                          os.path.join(d, "missing.bin"), rc=1)
        self.assertIn("missing.bin: No such file or directory", r.stderr)
        with open(path, "rb") as f:
            data = f.read()
        cut = os.path.join(d, "cut.bin")
        with open(cut, "wb") as f:
            f.write(data[:len(data) - 7])
        r = self.backtest("--baseline", e.config_path, "--rules", e.config_path, "--input", cut, rc=1)
        self.assertIn("cut short", r.stderr)
        r = self.backtest("--baseline", e.config_path, "--rules", e.config_path, "--input", path,
                          "--from", "last tuesday", rc=2)
        self.assertIn('--from "last tuesday": not a time', r.stderr)
        # a broker that cannot be reached: said, within the timeout
        r = self.backtest("--baseline", e.config_path, "--rules", e.config_path, "--brokers", "127.0.0.1:1",
                          "--timeout", "2", rc=1)
        self.assertIn("cannot reach the broker at 127.0.0.1:1", r.stderr)
        # the same file twice: no difference
        r = self.backtest("--baseline", e.config_path, "--rules", e.config_path, "--input", path)
        self.assertIn("no difference", r.stdout)


if __name__ == "__main__":
    h.main()
