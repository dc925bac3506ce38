"""Scale-out: two handoffd instances in one consumer group share the partitions.

Each instance folds the contacts of the partitions it owns.  A record that stage 1
re-keys to a contact whose partition the *other* instance owns travels through
<app>.by-contact (docs/ARCHITECTURE.md, "Local re-keying"); one whose partition it
owns itself is folded in place.  Both paths must give the scores an independent
computation gives, each contact's state must live in exactly one store, and every
handoff must be emitted (once per contact, with its deterministic id).

The traffic is the crash test's (test_crash.Traffic), built so that the result does
not depend on how events of different topics interleave."""

import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hftest as h  # noqa: E402
import model as m  # noqa: E402
from test_crash import Traffic  # noqa: E402

READ = ["web_visits", "form_submissions", "content_downloads", "webinar_attendance",
        "email_engagement", "identity", "sales_activity", "by_anonymous", "by_contact"]


class ScaleOut(h.ClusterTestCase):
    partitions = 6

    def offsets(self, env, state_dir):
        r = env.ctl("dump", "--state", state_dir, "-c", env.config_path, "offsets")
        if r.returncode != 0:
            return {}
        return {(o["topic"], o["partition"]): o["next_offset"]
                for o in (json.loads(l) for l in r.stdout.splitlines() if l.strip())}

    def contacts(self, env, state_dir):
        r = env.ctl("dump", "--state", state_dir, "-c", env.config_path, "contacts")
        self.assertEqual(r.returncode, 0, r.stderr)
        return {x["contact_id"]: x for x in (json.loads(l) for l in r.stdout.splitlines() if l.strip())}

    def wait_caught_up(self, env, dirs, daemons, timeout=120):
        """Until the offsets in the two stores together reach the end of every
        topic the group reads."""
        deadline = time.monotonic() + timeout
        behind = None
        for _ in range(2000):
            stored = {}
            for d in dirs:
                for tp, off in self.offsets(env, d).items():
                    stored[tp] = max(stored.get(tp, 0), off)
            ends = env.end_offsets(READ)
            behind = {tp: (stored.get(tp, 0), end) for tp, end in ends.items() if stored.get(tp, 0) < end}
            if not behind:
                return
            if time.monotonic() > deadline or not all(d.proc.running() for d in daemons):
                break
            time.sleep(0.3)
        raise AssertionError("not caught up: %r\n%s\n%s" % (behind, daemons[0].proc.tail(), daemons[1].proc.tail()))

    def test_two_instances_share_the_work(self):
        events = Traffic().build()
        model = m.PipelineModel()
        for ev in events:
            model.fold(ev.record, ev.datum)
        contacts = model.contacts
        want_handoffs = {cid: c.handoffs[0] for cid, c in contacts.items() if c.handoffs}

        env = self.env(config_edit=h.on_commit)
        dir_b = os.path.join(env.dir, "state-b")
        a = env.daemon(log_level="debug").start()
        b = env.daemon("--state", dir_b, log_level="debug").start()
        # b's join makes a give up half of its partitions: wait for that rebalance
        first, _ = a.proc.wait_for(r"assigned ([1-9]\d*) partitions", timeout=60)
        a.proc.wait_for(r"assigned ([1-9]\d*) partitions", timeout=60, start=first + 1)
        env.send_all(events)
        self.wait_caught_up(env, [env.state_dir, dir_b], [a, b])
        sa, sb = a.stop(), b.stop()

        rows_a, rows_b = self.contacts(env, env.state_dir), self.contacts(env, dir_b)
        self.assertTrue(rows_a and rows_b, "both instances folded contacts")
        self.assertEqual(set(rows_a) & set(rows_b), set(), "a contact's state lives in one store")
        rows = dict(rows_a, **rows_b)
        self.assertEqual(set(rows), set(contacts))
        wrong = {cid: (rows[cid]["score"], c.score) for cid, c in contacts.items() if rows[cid]["score"] != c.score}
        self.assertEqual(wrong, {}, "contacts whose score differs (daemon, model)")
        for cid, c in contacts.items():
            self.assertEqual(rows[cid]["handed_off"], bool(c.handoffs), cid)

        got = [x for _, x in env.decoded("conversation_ready")]
        by_contact = {}
        for x in got:
            by_contact.setdefault(x["entity_id"], []).append(x)
        self.assertEqual(set(by_contact), set(want_handoffs))
        for cid, copies in by_contact.items():
            self.assertEqual({x["handoff_id"] for x in copies}, {h.handoff_id(cid)})
            self.assertEqual({x["rule"] for x in copies}, {want_handoffs[cid]["rule"]})

        def remote(s):
            mm = re.search(r"\((\d+) through repartition topics\)", s.text)
            return int(mm.group(1)) if mm else 0

        # Stages sent records to the other instance through the repartition topics
        # (<app>.by-contact, <app>.by-account), and those were consumed there.
        self.assertGreater(remote(sa) + remote(sb), 0, sa.text + sb.text)
        self.assertEqual(sum(len(env.consume(t)) for t in ("by_anonymous", "by_contact", "by_account")),
                         remote(sa) + remote(sb))
        self.assertEqual(sa.handoffs + sb.handoffs, len(want_handoffs))
        self.assertEqual((sa.dead_letters, sb.dead_letters), (0, 0))


if __name__ == "__main__":
    h.main()
