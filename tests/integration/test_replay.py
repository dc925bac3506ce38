"""The same log, read twice by fresh daemons: the same decisions.

hf-gen pre-produces the journeys of 3,000 people (a fixed seed and start, 12
partitions per topic) before any daemon runs.  Two daemons, each with an empty store
of its own, then read the whole backlog one after the other; the second fetches in
small pieces (a few KiB per partition and request), so the partitions reach it in
another interleaving and some queues run dry while others are full.  The partition
group waits for a partition that still has records on the broker however long its
fetch takes, so both fold every entity's events in the same order: every contact,
account and anonymous id in their stores is the same, and so are the handoffs per
rule, the lifecycle changes, the duplicates and the dead letters of their summaries.

Before it waited, a partition whose records had not arrived within 500 ms was passed
over, and which records came first depended on the fetches: the same log gave other
handoffs (a demo request folded after the sales follow-up it caused makes none)."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import hftest as h  # noqa: E402
from hftest import T0  # noqa: E402

PARTITIONS = 12
CONTACTS = 3000

# The decisions on this input read no wall-clock trace of a state (no dedupe window
# runs out, no clock falls due within a run), so they are left out of the comparison
# (hftest.strip_wall_clock); everything else must be equal.
shared_key = h.shared_key
strip_wall_clock = h.strip_wall_clock


def small_fetches(path):
    """Fetches of a few KiB per partition and request: another interleaving."""
    return lambda text: _small_fetches(shared_key(path)(text))


def _small_fetches(text):
    props = "  properties:\n"
    assert props in text
    return text.replace(props, props + "    max.partition.fetch.bytes: \"4096\"\n"
                                       "    fetch.wait.max.ms: \"5\"\n", 1)


def canonical(rows):
    return sorted(json.dumps(strip_wall_clock(r), sort_keys=True) for r in rows)


class ReplayTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cluster = h.Cluster(["replay"], partitions=PARTITIONS, name="replay")

    @classmethod
    def tearDownClass(cls):
        cls.cluster.stop()

    def read_backlog(self, env, produced):
        d = env.daemon("--exit-when-idle", "10", log_level="info")
        d.start()
        rc = d.wait_exit(600)
        self.assertEqual(rc, 0, d.proc.tail())
        s = h.Summary(d.proc.out)
        self.assertEqual(s.consumed, produced, s.text)
        self.assertFalse(s.gaps, s.text)
        return s

    def test_same_log_same_decisions(self):
        key = os.path.join(h.scratch_dir("replay-key"), "email-hash.key")
        first = self.cluster.env("replay", config_edit=shared_key(key))
        produced = first.generate("--contacts", str(CONTACTS), "--seed", "11", "--start-ms", str(T0),
                                  "--days", "30")

        a = self.read_backlog(first, produced)
        second = self.cluster.env("replay", config_edit=small_fetches(key))
        with open(second.config_path, encoding="utf-8") as f:
            self.assertIn("max.partition.fetch.bytes", f.read())
        b = self.read_backlog(second, produced)

        print("replay: %d records; handoffs %d and %d (%s); folded %d and %d" % (
            produced, a.handoffs, b.handoffs, a.handoffs_by_rule, a.folded, b.folded))
        self.assertGreater(a.handoffs, 50)
        self.assertEqual(a.folded, b.folded)
        self.assertEqual(a.duplicates, b.duplicates)
        self.assertEqual(a.handoffs_by_rule, b.handoffs_by_rule)
        self.assertEqual(a.dead_letters_by_reason, b.dead_letters_by_reason)
        for line in ("lifecycle changes", "accounts", "identity"):
            la = [l for l in a.lines if l.startswith(line + ":")]
            lb = [l for l in b.lines if l.startswith(line + ":")]
            self.assertEqual(la, lb)
        for what in ("contacts", "accounts", "identities"):
            da, db = canonical(first.dump(what)), canonical(second.dump(what))
            self.assertGreater(len(da), 0, what)
            differ = sum(1 for x, y in zip(da, db) if x != y) + abs(len(da) - len(db))
            print("replay: %d %s compared, %d differ" % (len(da), what, differ))
            self.assertEqual(differ, 0, what)


if __name__ == "__main__":
    h.main()
