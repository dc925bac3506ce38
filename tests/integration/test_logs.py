"""handoffd's log as a log stack reads it (log.format: json): every line on stderr is
one JSON object with ts, level, component and msg; handoffs, SLA breaches, dead
letters, commits and progress carry their data as fields; a rejected reload is one
record with its problems as an array; every time is ISO 8601 UTC with milliseconds;
ids with quotes, control characters and line separators come back as they were; no
e-mail address is ever printed, though the traffic carries some (as a trait, and
as a contact id, which only the logger's own guard catches)."""

import datetime
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import hftest as h  # noqa: E402
from hftest import T0  # noqa: E402

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# an epoch in milliseconds (2001 to 2286) printed as a number, in a field or in prose
EPOCH_MS = re.compile(r"(?<![\d.])1\d{12}(?!\d)")

ODD = 'c-"odd" \\ \n\r\t\x01\u2028\u00e9\U0001F600'  # an id that must be escaped
MAIL_ID = "lee@private.example"  # a contact id that is an e-mail address


def hand_raise(cid, eid, **trait_kw):
    trait_kw.setdefault("title", "Director of IT")
    return h.form(eid, T0, "a-" + eid, cid, form_type="demo_request", form_id="demo", **trait_kw)


def json_log(text):
    text = h.yaml_set(text, "log", "format", "json")
    return h.with_sla(text, accept="2s", first_touch="0")


def iso_ms(ms):
    t = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def times_in(rec):
    """(key, value) of every field that holds a time: ts, at, now and *_at, at any
    depth."""
    out = []

    def walk(x):
        if isinstance(x, dict):
            for k, v in x.items():
                if k in ("ts", "at", "now") or k.endswith("_at"):
                    out.append((k, v))
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(rec)
    return out


class Logs(h.ClusterTestCase):
    def records(self, d):
        """Every stderr line as a JSON object, checked for what every record has."""
        out = []
        for i, line in enumerate(d.log()):
            with self.subTest(line=i):
                # the harness decodes with errors="replace": U+FFFD means bytes that
                # were not UTF-8 (an escaped \ufffd stays six ASCII characters)
                self.assertNotIn("\ufffd", line)
                try:
                    rec = json.loads(line)
                except ValueError as e:
                    self.fail("stderr line %d is not JSON (%s): %r" % (i, e, line))
                self.assertIsInstance(rec, dict, line)
                for k in ("ts", "level", "component", "msg"):
                    self.assertIn(k, rec, line)
                self.assertIn(rec["level"], ("debug", "info", "warn", "error"))
                for k, v in times_in(rec):
                    self.assertIsInstance(v, str, "%s in %r" % (k, line))
                    self.assertRegex(v, ISO_MS, "%s in %r" % (k, line))
                    datetime.datetime.strptime(v, "%Y-%m-%dT%H:%M:%S.%fZ")
                self.assertIsNone(EPOCH_MS.search(line), "an epoch number instead of a time: %r" % line)
                self.assertIsNone(EMAIL.search(line), "an e-mail address: %r" % line)
                out.append(rec)
        return out

    def test_json_log(self):
        env = self.env(config_edit=json_log)
        breaches = h.TopicTail(env, "sla_breach")
        ready = h.TopicTail(env, "conversation_ready")
        self.addCleanup(breaches.close)
        self.addCleanup(ready.close)
        d = env.daemon("--progress", "1").start()

        env.send_all([hand_raise("c-dana", "l-f1", email="dana@hooli.example", company_name="Hooli"),
                      hand_raise(ODD, "l-f2"), hand_raise(MAIL_ID, "l-f3", email=MAIL_ID)])
        bad_part, bad_off = env.send_raw("web_visits", "a-bad", b"GET / HTTP/1.1\r\n")
        handoffs = {x["entity_id"]: x for x in ready.wait(count=3, timeout=30, what="three handoffs")}
        self.assertEqual(set(handoffs), {"c-dana", ODD, MAIL_ID})
        dana = handoffs["c-dana"]
        got = breaches.wait(count=3, timeout=20, what="three accept breaches")
        breach = next(b for b in got if b["entity_id"] == "c-dana")
        d.wait_caught_up(timeout=30)

        # a file with two problems: rejected as one record, the daemon runs on
        with open(env.config_path, encoding="utf-8") as f:
            good = f.read()
        bad = h.with_sla(good, accept="soon", first_touch='"la\\"ter"')
        with open(env.config_path, "w", encoding="utf-8") as f:
            f.write(bad)
        lines = bad.splitlines()
        want_errors = []
        for key, value in (("accept", "soon"), ("first_touch", '"la\\"ter"')):
            k = lines.index("  %s:" % key)
            self.assertEqual(lines[k + 1], "    within: %s" % value, "test design")
            want_errors.append((k + 2, lines[k + 1].index(value) + 1, "sla.%s.within" % key))
        mark = d.sighup()
        d.proc.wait_for(r"reload of .* rejected", timeout=20, start=mark)
        self.assertTrue(d.proc.running())
        s = d.stop()
        self.assertEqual(s.handoffs, 3)
        self.assertEqual(s.dead_letters, 1)

        recs = self.records(d)
        self.assertEqual(len(recs), len(d.log()))

        # handoffs: one record each, with the handoff's own values
        ho = [r for r in recs if r["component"] == "handoff" and "rule" in r]
        self.assertEqual(len(ho), 3, ho)
        by_id = {r["handoff_id"]: r for r in ho}
        for cid, x in handoffs.items():
            r = by_id[x["handoff_id"]]
            self.assertEqual(r["entity_type"], "contact")
            self.assertEqual(r["entity_id"], "<e-mail>" if cid == MAIL_ID else cid)
            self.assertEqual((r["rule"], r["score"], r["grade"]), (x["rule"], x["score"], x["fit_grade"]))
            self.assertEqual(r["level"], "info")
            self.assertEqual([(y["rule"], y["points"], y["count"]) for y in r["reasons"]],
                             [(y["rule"], y["points"], y["count"]) for y in x["reasons"]])
            self.assertEqual(r["reasons"][0]["detail"], x["reasons"][0]["detail"])
            self.assertEqual(r["because"], x["reasons"][0]["detail"])
        self.assertEqual(by_id[dana["handoff_id"]]["msg"], "contact c-dana")
        self.assertEqual(by_id[handoffs[MAIL_ID]["handoff_id"]]["msg"], "contact <e-mail>")

        # the breach, its times as the record on the topic has them
        self.assertEqual(len([r for r in recs if r.get("breach_id")]), 3)
        br = [r for r in recs if r.get("breach_id") == breach["breach_id"]]
        self.assertEqual(len(br), 1, br)
        self.assertEqual({k: br[0][k] for k in ("breach_id", "handoff_id", "entity_type", "entity_id", "sla",
                                                "sla_level", "owner")},
                         {"breach_id": breach["breach_id"], "handoff_id": dana["handoff_id"],
                          "entity_type": "contact", "entity_id": "c-dana", "sla": "accept", "sla_level": 1,
                          "owner": None})
        self.assertEqual(br[0]["due_at"], iso_ms(breach["due_at"]))
        self.assertEqual(br[0]["due_at"], iso_ms(dana["sla"]["accept_by"]))
        self.assertEqual(br[0]["breached_at"], iso_ms(breach["breached_at"]))
        self.assertTrue(br[0]["msg"].startswith("SLA breach contact c-dana"), br[0])

        # the dead letter, where it came from and why
        dl = [r for r in recs if r["msg"].startswith("dead letter")]
        self.assertEqual(len(dl), 1, dl)
        self.assertEqual((dl[0]["topic"], dl[0]["partition"], dl[0]["offset"]),
                         (env.topics["web_visits"], bad_part, bad_off))
        self.assertRegex(dl[0]["reason"], r"not single-object encoding")
        self.assertEqual(dl[0]["level"], "warn")

        # the rejected reload: one record, its problems as objects
        rej = [r for r in recs if r["msg"].startswith("reload of")]
        self.assertEqual(len(rej), 1, rej)
        self.assertEqual(rej[0]["level"], "error")
        self.assertEqual(rej[0]["file"], env.config_path)
        self.assertEqual(rej[0]["problems"], 2)
        errs = rej[0]["errors"]
        self.assertEqual([(e["file"], e["line"], e["column"], e["path"]) for e in errs],
                         [(env.config_path, n, c, p) for n, c, p in want_errors])
        self.assertRegex(errs[0]["message"], r'got "soon"$')
        self.assertRegex(errs[1]["message"], r'got "la\\"ter"$')
        self.assertFalse([l for l in d.log()[mark:] if re.search(r"^\S+:\d+:\d+: ", l)],
                         "problems also written as text")

        # numbers as fields: progress, commits, outcomes, the assignment
        prog = [r for r in recs if r["msg"] == "progress"]
        self.assertTrue(prog)
        self.assertEqual(prog[-1]["handoffs"], 3)
        self.assertGreaterEqual(prog[-1]["consumed"], 4)
        commits = [r for r in recs if r["msg"] == "committed"]
        self.assertTrue(commits)
        for c in commits:
            self.assertIsInstance(c["writes"], int)
            self.assertIsInstance(c["took_ms"], int)
        outcomes = [r for r in recs if r["msg"] == "outcomes"]
        self.assertTrue(outcomes)
        self.assertEqual(outcomes[-1]["handoffs"], 3)
        self.assertEqual(outcomes[-1]["sla_breached"], 3)
        assigned = [r for r in recs if "partitions" in r and r["msg"].startswith("assigned")]
        self.assertEqual(assigned[0]["partitions"], 4 * 10)

        # nothing that looks like an address, in any form
        self.assertFalse([l for l in d.log() if "dana@" in l or "lee@" in l or "@private" in l])


if __name__ == "__main__":
    h.main()
