"""SLA clocks and sales feedback through the real handoffd (docs/ARCHITECTURE.md
"SLA and feedback", "Rules change"; processors/sla/sla.h).

Clocks run on the wall clock, so every SLA here is a few seconds long (a config
edit of the fixture); the tests wait past deadlines with bounded waits and then
check what was emitted, counting records (not distinct ids).  The calendar test
runs the daemon on a simulated wall clock (HANDOFF_CLOCK) set to a Friday just
before closing time in New York.

Hand-raisers (a demo_request form) qualify at once, so a contact's handoff is one
event away; contacts carry no e-mail and no account id, so no account journey is
involved and handoff.lifecycle holds contact changes only (filtered anyway)."""

import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import hftest as h  # noqa: E402
from hftest import HOUR, T0  # noqa: E402

SITE = "https://www.acme-analytics.example"
NY = "America/New_York"
BERLIN = "Europe/Berlin"


def hand_raise(cid, eid, at=T0, **trait_kw):
    trait_kw.setdefault("title", "Director of IT")
    return h.form(eid, at, "a-" + cid, cid, form_type="demo_request", form_id="demo", **trait_kw)


def sales(eid, cid, action, handoff=None, owner="rep-1", reason=None, channel=None, at=None):
    """A SalesActivity dated now (wall time) unless @at is given."""
    return h.sales(eid, h.now_ms() if at is None else at, cid, action=action, handoff=handoff, owner=owner,
                   reason=reason, channel=channel)


def of(cid, **kw):
    """A predicate on a decoded record: entity_id == @cid and every field in @kw."""
    return lambda d: d.get("entity_id") == cid and all(d.get(k) == v for k, v in kw.items())


def sleep_until(ms):
    left = (ms - h.now_ms()) / 1000.0
    if left > 0:
        time.sleep(min(left, 120))


class Sla(h.ClusterTestCase):
    def stages(self, lifecycle, cid):
        return [(x["from_stage"], x["to_stage"]) for x in lifecycle.data(of(cid, entity_type="contact"))]

    def contact(self, env, cid):
        rows = env.dump("contacts", "--id", cid)
        self.assertEqual(len(rows), 1, rows)
        return rows[0]

    def assert_breach(self, b, handoff, cid, sla, level, due_at, owner=None):
        self.assertEqual(b["breach_id"], h.breach_id(handoff["handoff_id"], sla, level))
        self.assertEqual(b["handoff_id"], handoff["handoff_id"])
        self.assertEqual((b["entity_type"], b["entity_id"]), ("contact", cid))
        self.assertEqual(b["owner_id"], owner)
        self.assertEqual((b["sla"], b["level"]), (sla, level))
        self.assertEqual(b["due_at"], due_at)
        self.assertGreaterEqual(b["breached_at"], b["due_at"])
        # fired by the daemon's loop (100 ms polls), not minutes later
        self.assertLess(b["breached_at"], b["due_at"] + 10000, b)

    # -- 1 and 2 ---------------------------------------------------------------
    def test_accept_breach_escalates_and_feedback_stops_clocks(self):
        """A handoff nobody accepts breaches `accept` at its accept_by, escalates to
        level 2 after escalate_after and stops there (the last level); one accepted
        in time and then contacted never breaches, and moves to accepted."""
        env = self.env(config_edit=lambda t: h.with_sla(t, accept="4s", accept_escalate=["3s"],
                                                        first_touch="6s"))
        ready, breaches, lifecycle = self.tails(env, "conversation_ready", "sla_breach", "lifecycle")
        d = env.daemon().start()
        late, ontime = "c-late", "c-ontime"
        t_before = h.now_ms()
        env.send_all([hand_raise(late, "s1-f1"), hand_raise(ontime, "s1-f2")])
        got = {x["entity_id"]: x for x in ready.wait(count=2, timeout=30, what="two handoffs")}
        self.assertEqual(set(got), {late, ontime})
        ho_late, ho_ontime = got[late], got[ontime]
        for cid, ho in got.items():
            self.assertEqual(ho["handoff_id"], h.handoff_id(cid, 1))
            self.assertEqual(ho["rule"], "hand_raiser")
            self.assertGreaterEqual(ho["emitted_at"], t_before)
            # no calendar: 24x7 UTC, so the deadlines are plain sums
            self.assertEqual(ho["sla"]["accept_by"], ho["emitted_at"] + 4000)
            self.assertEqual(ho["sla"]["first_touch_by"], ho["emitted_at"] + 6000)

        # rep-1 accepts c-ontime in time, naming the handoff, then calls
        self.assertLess(h.now_ms(), ho_ontime["sla"]["accept_by"] - 1000, "test design: accept in time")
        env.send(sales("s1-acc", ontime, "accepted", handoff=ho_ontime["handoff_id"], owner="rep-1"))
        lc = lifecycle.wait(of(ontime, to_stage="accepted"), timeout=20, what="c-ontime accepted")
        self.assertEqual(len(lc), 1, lc)
        self.assertEqual(lc[0]["from_stage"], "conversation_ready")
        self.assertIn("rep-1", lc[0]["cause"])
        env.send(sales("s1-call", ontime, "contacted", handoff=ho_ontime["handoff_id"], owner="rep-1",
                       channel="call"))

        # c-late: level 1 at accept_by, level 2 one escalation delay later
        b1 = breaches.wait(of(late, sla="accept", level=1), timeout=20, what="accept level 1")[0]
        self.assert_breach(b1, ho_late, late, "accept", 1, ho_late["sla"]["accept_by"])
        b2 = breaches.wait(of(late, sla="accept", level=2), timeout=20, what="accept level 2")[0]
        self.assert_breach(b2, ho_late, late, "accept", 2, ho_late["sla"]["accept_by"] + 3000)
        # first_touch is a clock of its own (no escalation configured)
        f1 = breaches.wait(of(late, sla="first_touch", level=1), timeout=20, what="first_touch level 1")[0]
        self.assert_breach(f1, ho_late, late, "first_touch", 1, ho_late["sla"]["first_touch_by"])

        # level 2 is the last: nothing more however long we wait (a third delay
        # and a margin), and nothing at all for the contact that was answered
        all_ = breaches.settle(b2["due_at"] + 3000 + 2500)
        self.assertGreater(h.now_ms(), ho_ontime["sla"]["first_touch_by"] + 2000)
        mine = [(x["sla"], x["level"]) for x in all_ if x["entity_id"] == late]
        self.assertEqual(sorted(mine), [("accept", 1), ("accept", 2), ("first_touch", 1)], all_)
        self.assertEqual([x for x in all_ if x["entity_id"] == ontime], [])
        self.assertEqual(len(all_), 3, all_)

        lifecycle.drain()
        self.assertEqual(self.stages(lifecycle, ontime),
                         [("anonymous", "known"), ("known", "conversation_ready"),
                          ("conversation_ready", "accepted")])
        # breaches move no lifecycle
        self.assertEqual(self.stages(lifecycle, late), [("anonymous", "known"), ("known", "conversation_ready")])
        self.assertEqual(self.contact(env, ontime)["stage"], "accepted")
        self.assertEqual(self.contact(env, late)["stage"], "conversation_ready")
        s = d.stop()
        self.assertEqual(s.handoffs, 2)
        self.assertEqual(s.dead_letters, 0)
        self.assertEqual(len(ready.drain()), 2)
        self.assertEqual(len([l for l in d.log() if "SLA breach" in l]), 3)

    # -- 3 ---------------------------------------------------------------------
    def test_breach_after_kill9_and_restart(self):
        """Killed with a clock pending (its handoff committed), restarted after the
        deadline: exactly one level-1 breach, then level 2 on its own schedule."""
        env = self.env(config_edit=lambda t: h.with_sla(t, accept="3s", accept_escalate=["5s"]))
        ready, breaches = self.tails(env, "conversation_ready", "sla_breach")
        d = env.daemon().start()
        cid = "c-crash"
        env.send(hand_raise(cid, "s3-f1"))
        ho = ready.wait(of(cid), timeout=30, what="handoff")[0]
        # the handoff and its clock are in the store (a commit after the handoff)
        d.wait_caught_up(timeout=30)
        accept_by = ho["sla"]["accept_by"]
        self.assertLess(h.now_ms(), accept_by - 300, "test design: kill before the deadline")
        d.kill9()
        self.assertEqual(breaches.drain(), [], "no breach before the deadline")
        sleep_until(accept_by + 1000)
        t_restart = h.now_ms()
        d.restart()
        b1 = breaches.wait(of(cid, level=1), timeout=30, what="level 1 after the restart")[0]
        self.assert_breach(b1, ho, cid, "accept", 1, accept_by)
        self.assertGreaterEqual(b1["breached_at"], t_restart)
        b2 = breaches.wait(of(cid, level=2), timeout=30, what="level 2")[0]
        self.assert_breach(b2, ho, cid, "accept", 2, accept_by + 5000)
        all_ = breaches.settle(max(h.now_ms(), b2["breached_at"]) + 3000)
        self.assertEqual([(x["sla"], x["level"]) for x in all_], [("accept", 1), ("accept", 2)], all_)
        self.assertEqual(len(ready.drain()), 1, "the committed handoff is not repeated")
        d.stop()

    # -- 4 and 7 ---------------------------------------------------------------
    def test_feedback_out_of_order_and_outcomes(self):
        """Feedback that names a handoff before it exists is applied right after it;
        feedback for an earlier cycle changes nothing; an unknown handoff id is
        dead-lettered with the original bytes; repeats are dropped; and
        `handoffctl outcomes` counts exactly what happened."""
        env = self.env(config_edit=lambda t: h.with_sla(t, accept="6s"))
        ready, breaches, lifecycle, dlq = self.tails(env, "conversation_ready", "sla_breach", "lifecycle", "dlq")
        d = env.daemon().start()
        early, rej, unk, dup = "c-early", "c-reject", "c-unknown", "c-dup"

        # (a) accepted, naming the cycle-1 handoff the contact has not earned yet
        env.send(sales("s4-a1", early, "accepted", handoff=h.handoff_id(early, 1), owner="rep-1"))
        d.wait_caught_up(timeout=30)
        self.assertEqual(lifecycle.drain(), [])
        self.assertEqual(ready.drain(), [])

        env.send_all([hand_raise(c, "s4-f-" + c) for c in (early, rej, unk, dup)])
        got = {x["entity_id"]: x for x in ready.wait(count=4, timeout=30, what="four handoffs")}
        self.assertEqual(set(got), {early, rej, unk, dup})
        self.assertEqual(got[early]["handoff_id"], h.handoff_id(early, 1))
        lc = lifecycle.wait(of(early, to_stage="accepted"), timeout=20, what="c-early accepted")
        self.assertIn("rep-1", lc[0]["cause"])

        # (b) rejected with a reason: recycled;  (c) an id of no handoff, sent twice;
        # (d) a rejection without a handoff id, sent twice (the same event id)
        self.assertLess(h.now_ms(), min(x["sla"]["accept_by"] for x in got.values()) - 2000,
                        "test design: answers in time")
        made_up = "ho_00000000deadbeef"
        unknown_ev = sales("s4-u1", unk, "accepted", handoff=made_up, owner="rep-3")
        dup_ev = sales("s4-d1", dup, "rejected", owner="rep-4", reason="duplicate lead")
        env.send(sales("s4-r1", rej, "rejected", handoff=got[rej]["handoff_id"], owner="rep-2", reason="no budget"))
        unknown_at = env.send(unknown_ev)
        env.send(unknown_ev)
        env.send(dup_ev)
        env.send(dup_ev)
        lifecycle.wait(of(rej, to_stage="recycled"), timeout=20, what="c-reject recycled")
        d.wait_caught_up(timeout=30)
        # (b) then an acceptance naming the handoff the rejection closed: stale
        env.send(sales("s4-r2", rej, "accepted", handoff=got[rej]["handoff_id"], owner="rep-2"))
        d.wait_caught_up(timeout=30)

        lifecycle.drain()
        self.assertEqual(self.stages(lifecycle, early),
                         [("anonymous", "known"), ("known", "conversation_ready"), ("conversation_ready", "accepted")])
        rec = lifecycle.data(of(rej, to_stage="recycled"))
        self.assertEqual(len(rec), 1, rec)
        self.assertIn("no budget", rec[0]["cause"])
        self.assertEqual(self.stages(lifecycle, rej),
                         [("anonymous", "known"), ("known", "conversation_ready"), ("conversation_ready", "recycled")])
        self.assertEqual(self.stages(lifecycle, dup),
                         [("anonymous", "known"), ("known", "conversation_ready"), ("conversation_ready", "recycled")])
        self.assertEqual(self.stages(lifecycle, unk), [("anonymous", "known"), ("known", "conversation_ready")])
        for cid, stage, cycle in ((early, "accepted", 1), (rej, "recycled", 2), (dup, "recycled", 2),
                                  (unk, "conversation_ready", 1)):
            row = self.contact(env, cid)
            self.assertEqual((row["stage"], row["cycle"]), (stage, cycle), cid)

        # (c) one dead letter (the repeat was dropped), with the original bytes
        letters = dlq.drain()
        self.assertEqual(len(letters), 1, letters)
        dl = letters[0]
        self.assertEqual(dl["topic"], env.topics["sales_activity"])
        self.assertEqual((dl["partition"], dl["offset"]), unknown_at)
        self.assertEqual(dl["key"], unk.encode())
        self.assertEqual(dl["value"], unknown_ev.encode(env.avro))
        self.assertIn(made_up, dl["error"])
        self.assertRegex(dl["error"], r"handoff")

        # only the contact nobody answered breaches (accept_by + margin)
        all_ = breaches.settle(got[unk]["sla"]["accept_by"] + 2500)
        self.assertEqual([(x["entity_id"], x["sla"], x["level"]) for x in all_], [(unk, "accept", 1)], all_)
        self.assert_breach(all_[0], got[unk], unk, "accept", 1, got[unk]["sla"]["accept_by"])

        s = d.stop()
        self.assertEqual(s.handoffs, 4)
        self.assertEqual(s.duplicates, 2)
        self.assertEqual(s.dead_letters_by_reason.get("unknown_handoff"), 1, s.text)

        # (7) the outcomes table from the store
        r = env.ctl("outcomes", "--state", env.state_dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        o = h.parse_outcomes(r.stdout)
        self.assertEqual(o["funnel"]["all"], {"*": {
            "handoffs": 4, "accepted": 1, "rejected": 2, "recycled": 2, "qualified": 0, "opportunity": 0,
            "won": 0, "lost": 0, "disqualified": 0}}, r.stdout)
        self.assertEqual(o["funnel"]["by rule"]["hand_raiser"]["handoffs"], 4, r.stdout)
        self.assertEqual(o["reasons"], {"no budget": 1, "duplicate lead": 1}, r.stdout)
        self.assertEqual(o["reasons_by"]["rule"], {("hand_raiser", "no budget"): 1,
                                                   ("hand_raiser", "duplicate lead"): 1}, r.stdout)
        sla_all = o["sla"]["SLA (met/breached), all"]["*"]
        self.assertEqual((sla_all["accept"], sla_all["first_touch"], sla_all["follow_up"]),
                         ((3, 1), (0, 0), (0, 0)), r.stdout)
        fb = o["feedback"]
        self.assertEqual((fb["early"], fb["stale"], fb["unknown_handoff"], fb["ignored"],
                          fb.get("without_a_handoff", 0)), (1, 1, 1, 0, 0), r.stdout)

    # -- 5 ---------------------------------------------------------------------
    def test_reload_rejects_bad_file_applies_good_one(self):
        """SIGHUP with an invalid file: file:line:col and "rejected", the old rules
        keep running; with a valid one: "reloaded", new handoffs follow the new
        rules, and state (a pending clock, a score) is kept."""
        env = self.env(config_edit=lambda t: h.with_sla(t, accept="8s"))
        ready, breaches = self.tails(env, "conversation_ready", "sla_breach")
        d = env.daemon().start()
        with open(env.config_path, encoding="utf-8") as f:
            original = f.read()
        scorer = "c-scorer"

        def wp(eid):  # 20 points each, all at one event time: no decay between them
            return h.download(eid, T0 + HOUR, scorer, "wp-" + eid, "Whitepaper", asset_type="whitepaper")

        env.send_all([hand_raise("c-r1", "s5-f1"), wp("s5-w1"), wp("s5-w2")])
        r1 = ready.wait(of("c-r1"), timeout=30, what="c-r1 handoff")[0]
        d.wait_caught_up(timeout=30)
        self.assertEqual(self.contact(env, scorer)["score"], 40)

        # an invalid file: a value that is no duration
        bad = h.with_sla(original, accept="soon")
        with open(env.config_path, "w", encoding="utf-8") as f:
            f.write(bad)
        line_no = next(i for i, l in enumerate(bad.splitlines(), 1) if "within: soon" in l)
        col = bad.splitlines()[line_no - 1].index("soon") + 1
        mark = d.sighup()
        d.proc.wait_for(r"reload of .* rejected", timeout=20, start=mark)
        err = "\n".join(d.log()[mark:])
        self.assertRegex(err, r"%s:%d:%d: sla\.accept\.within" % (re.escape(env.config_path), line_no, col))
        self.assertTrue(d.proc.running())
        env.send(hand_raise("c-r2", "s5-f2"))
        r2 = ready.wait(of("c-r2"), timeout=30, what="c-r2 handoff under the old rules")[0]
        self.assertEqual(r2["rule"], "hand_raiser")
        self.assertEqual(r2["sla"]["accept_by"], r2["emitted_at"] + 8000)

        # a valid file with a renamed hand-raiser rule and a longer SLA
        good = h.with_sla(original, accept="60s").replace("    rule: hand_raiser\n", "    rule: demo_or_sales\n")
        self.assertNotEqual(good, h.with_sla(original, accept="60s"), "test design: the rule line changed")
        with open(env.config_path, "w", encoding="utf-8") as f:
            f.write(good)
        mark = d.sighup()
        d.proc.wait_for(r"reloaded ", timeout=20, start=mark)
        self.assertFalse([l for l in d.log()[mark:] if "rejected" in l])
        t_reloaded = h.now_ms()
        self.assertLess(t_reloaded, r1["sla"]["accept_by"] - 500, "test design: reload while c-r1's clock runs")
        env.send_all([hand_raise("c-r3", "s5-f3"), wp("s5-w3"), wp("s5-w4")])
        r3 = ready.wait(of("c-r3"), timeout=30, what="c-r3 handoff under the new rules")[0]
        self.assertEqual(r3["rule"], "demo_or_sales")
        self.assertEqual(r3["sla"]["accept_by"], r3["emitted_at"] + 60000)
        d.wait_caught_up(timeout=30)
        # the score kept accumulating across the reloads
        self.assertEqual(self.contact(env, scorer)["score"], 80)

        # the clocks started under the old rules breach at their own deadlines
        # (sla.on_reload: keep); c-r3's (60 s) does not
        b = breaches.wait(lambda x: x["entity_id"] in ("c-r1", "c-r2"), count=2, timeout=30, what="old clocks")
        by = {x["entity_id"]: x for x in b}
        self.assert_breach(by["c-r1"], r1, "c-r1", "accept", 1, r1["sla"]["accept_by"])
        self.assert_breach(by["c-r2"], r2, "c-r2", "accept", 1, r2["sla"]["accept_by"])
        all_ = breaches.settle(h.now_ms() + 1500)
        self.assertEqual(sorted((x["entity_id"], x["level"]) for x in all_), [("c-r1", 1), ("c-r2", 1)], all_)
        self.assertEqual(len(ready.drain()), 3)
        for cid in ("c-r1", "c-r2", "c-r3"):
            row = self.contact(env, cid)
            self.assertEqual((row["stage"], row["cycle"]), ("conversation_ready", 1), cid)

        # "unless the new file says otherwise": sla.on_reload: recompute gives the
        # running clock of c-r3 (60 s) the new duration from its own start
        self.assertLess(h.now_ms(), r3["sla"]["accept_by"] - 5000, "test design: c-r3's clock runs")
        recompute = h.with_sla(original, accept="4s", on_reload="recompute").replace(
            "    rule: hand_raiser\n", "    rule: demo_or_sales\n")
        with open(env.config_path, "w", encoding="utf-8") as f:
            f.write(recompute)
        mark = d.sighup()
        d.proc.wait_for(r"reloaded ", timeout=20, start=mark)
        b3 = breaches.wait(lambda x: x["entity_id"] == "c-r3", timeout=30, what="c-r3 recomputed")[0]
        self.assertEqual(b3["breach_id"], h.breach_id(r3["handoff_id"], "accept", 1))
        self.assertEqual((b3["sla"], b3["level"]), ("accept", 1))
        self.assertEqual(b3["due_at"], r3["emitted_at"] + 4000)
        self.assertLess(b3["breached_at"], r3["sla"]["accept_by"], "fired at the reload, not at 60 s")
        s = d.stop()
        self.assertEqual(s.handoffs_by_rule, {"hand_raiser": 2, "demo_or_sales": 1})

    # -- 6 ---------------------------------------------------------------------
    def test_business_calendar_deadlines(self):
        """Friday 16:59:5x in New York, 30 s to accept: due Monday 09:00 plus what is
        left, across the weekend in which New York moves to daylight time; a
        Berlin team's calendar and sla.calendar (for no team) likewise."""
        calendars = ("calendars:\n"
                     "  ny:\n"
                     "    timezone: America/New_York\n"
                     "    hours:\n"
                     "      mon-fri: \"09:00-17:00\"\n"
                     "    teams: [na-commercial, na-enterprise]\n"
                     "  berlin:\n"
                     "    timezone: Europe/Berlin\n"
                     "    hours:\n"
                     "      mon-fri: \"09:00-23:00\"\n"
                     "    teams: [emea]\n")

        def edit(t):
            return h.with_sla(h.yaml_set_block(t, "calendars", calendars), accept="30s", first_touch="8h",
                              calendar="ny")

        env = self.env(config_edit=edit)
        ready, breaches = self.tails(env, "conversation_ready", "sla_breach")
        # Friday 2026-03-06 16:59:50 EST (21:59:50 UTC), a little after the start so
        # that the handoffs come within Friday's last seconds; x1
        fri = h.local_ms(NY, 2026, 3, 6, 16, 59, 50)
        self.assertEqual(fri, 1772834390000)
        d = env.daemon(environ={"HANDOFF_CLOCK": "%d@%dx1" % (fri, h.now_ms() + 2000)}).start()
        d.proc.wait_for(r"wall clock is simulated", timeout=5)
        env.send_all([hand_raise("c-ny", "s6-f1", country="US"), hand_raise("c-berlin", "s6-f2", region="EMEA"),
                       hand_raise("c-noteam", "s6-f3")])
        got = {x["entity_id"]: x for x in ready.wait(count=3, timeout=30, what="three handoffs")}
        self.assertEqual(got["c-ny"]["routing"]["team"], "na-commercial")
        self.assertEqual(got["c-berlin"]["routing"]["team"], "emea")
        self.assertIsNone(got["c-noteam"]["routing"]["team"])

        berlin_hours = {wd: [("09:00", "23:00")] for wd in range(5)}
        for cid, tz, hours in (("c-ny", NY, None), ("c-noteam", NY, None), ("c-berlin", BERLIN, berlin_hours)):
            with self.subTest(contact=cid):
                x = got[cid]
                at = x["emitted_at"]
                # the simulated clock: Friday, within the last 30 s before closing
                self.assertGreaterEqual(at, fri - 20000)
                self.assertLess(at, fri + 10000, "test design: the handoff came after Friday's closing")
                self.assertEqual(x["sla"]["accept_by"], h.business_add(tz, at, 30000, hours=hours))
                self.assertEqual(x["sla"]["first_touch_by"], h.business_add(tz, at, 8 * HOUR, hours=hours))
        # the same in plain UTC ms: Friday 16:59:50 EST + 30 s of business time is
        # Monday 2026-03-09 09:00:20 EDT (13:00:20 UTC; offset -5 h on Friday, -4 h
        # on Monday); a handoff k ms after 16:59:50 is due k ms after that
        mon = h.local_ms(NY, 2026, 3, 9, 9, 0, 20)
        self.assertEqual(mon, 1773061220000)
        k = got["c-ny"]["emitted_at"] - fri
        self.assertEqual(got["c-ny"]["sla"]["accept_by"], 1773061220000 + k)
        # and Berlin (no DST change until 29 March): Friday 22:59:50 CET closes at
        # 23:00, Monday opens 09:00 CET = 08:00 UTC
        kb = got["c-berlin"]["emitted_at"] - fri
        self.assertEqual(got["c-berlin"]["sla"]["accept_by"], h.local_ms(BERLIN, 2026, 3, 9, 9, 0, 20) + kb)
        self.assertEqual(h.local_ms(BERLIN, 2026, 3, 9, 9, 0, 20), 1773043220000)
        # the weekend passes in a few seconds of real time only: nothing falls due
        self.assertEqual(breaches.drain(), [])
        d.stop()


if __name__ == "__main__":
    h.main()
