"""Journeys through the real handoffd: anonymous history stitched to the contact, a
handoff with the right rule, score, grade, reasons and journey, lifecycle changes,
hand-raisers once per cycle, duplicates folded once, stitching bounds.

Events are sent in phases, each folded (wait_caught_up) before the next: events of
different topics within one phase may be folded in any order, so each phase is
built such that its outcome does not depend on that order."""

import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import hftest as h  # noqa: E402
import model as m  # noqa: E402
from hftest import DAY, HOUR, MINUTE, T0  # noqa: E402

SITE = "https://www.acme-analytics.example"


class Journeys(h.ClusterTestCase):
    def phases(self, env, daemon, model, *phases):
        """Sends each phase, folds it into @model in the order given, and waits
        until the daemon folded it too."""
        for events in phases:
            env.send_all(events)
            for ev in events:
                model.fold(ev.record, ev.datum)
            daemon.wait_caught_up(timeout=60)

    def handoffs(self, env, expect=None):
        return [d for _, d in env.decoded("conversation_ready", expect=expect, timeout=20)]

    def contact_dump(self, env, cid):
        rows = [r for r in env.dump("contacts", "--id", cid)]
        self.assertEqual(len(rows), 1, rows)
        return rows[0]

    def assert_handoff_matches(self, got, want, t_before, t_after):
        """Field by field against the model; emitted_at and SLA against wall time."""
        for k, v in want.items():
            with self.subTest(field=k):
                self.assertEqual(got[k], v)
        self.assertGreaterEqual(got["emitted_at"], t_before)
        self.assertLessEqual(got["emitted_at"], t_after)
        self.assertEqual(got["sla"]["accept_by"], got["emitted_at"] + m.SLA_ACCEPT_MS)
        self.assertEqual(got["sla"]["first_touch_by"], got["emitted_at"] + m.SLA_FIRST_TOUCH_MS)

    def test_journey_to_handoff(self):
        env = self.env()
        d = env.daemon().start()
        model = m.PipelineModel()
        cid, anon = "c-journey", "a-journey"
        vp = dict(title="VP Marketing", employees=250, account_id="acct-acme", region="EMEA",
                  email="dana@acme-corp.example", company_name="Acme Corp", industry="software")
        t_before = h.now_ms()
        self.phases(
            env, d, model,
            # anonymous browsing, buffered in stage 1
            [h.web_visit("j-v1", T0, anon, SITE + "/", title="Home", referrer="https://www.google.com/",
                         utm_source="google", utm_medium="cpc", country="DE"),
             h.web_visit("j-v2", T0 + 5 * MINUTE, anon, SITE + "/blog/reduce-churn", title="Reduce churn"),
             h.web_visit("j-v3", T0 + 10 * MINUTE, anon, SITE + "/pricing", title="Pricing")],
            # the form that identifies them: the history is replayed first
            [h.form("j-f1", T0 + HOUR, anon, cid, form_id="gate-churn-playbook", url=SITE + "/resources", **vp)],
            # a download takes them over engaged_score
            [h.download("j-d1", T0 + DAY, cid, "wp-churn", "The churn playbook", tags=["churn", "retention"],
                        campaign="spring-launch")],
            [h.webinar("j-w1", T0 + 2 * DAY, cid, "web-42", "Live: cutting churn in half", minutes=45,
                       questions=2),
             h.email("j-e1", T0 + 2 * DAY + HOUR, cid, action="clicked", campaign="spring-launch",
                     link_url=SITE + "/pricing"),
             h.email("j-e2", T0 + 2 * DAY + 2 * HOUR, cid, action="opened", campaign="churn-nurture"),
             h.download("j-d2", T0 + 2 * DAY + 3 * HOUR, cid, "cs-globex", "How Globex cut churn by 30%",
                        asset_type="case_study", tags=["churn"]),
             h.email("j-e3", T0 + 2 * DAY + 4 * HOUR, cid, action="clicked", campaign="churn-nurture",
                     link_url=SITE + "/customers/globex"),
             h.web_visit("j-v4", T0 + 3 * DAY, anon, SITE + "/pricing", contact=cid, session="s2", title="Pricing"),
             h.web_visit("j-v5", T0 + 3 * DAY + 5 * MINUTE, anon, SITE + "/product", contact=cid, session="s2",
                         title="Product")],
        )
        c = model.contacts[cid]
        self.assertEqual(c.handoffs, [], "test design: must not qualify before the last event")
        self.assertEqual(self.handoffs(env), [])
        # the pricing page again: over 100 with grade A -> high_intent
        self.phases(env, d, model, [h.web_visit("j-v6", T0 + 3 * DAY + HOUR, anon, SITE + "/pricing",
                                                contact=cid, session="s2", title="Pricing")])
        self.assertEqual(len(c.handoffs), 1)
        want = c.handoffs[0]
        self.assertEqual(want["rule"], "high_intent")
        self.assertEqual(want["fit_grade"], "A")
        got = self.handoffs(env, expect=1)
        t_after = h.now_ms()
        self.assertEqual(len(got), 1, got)
        self.assert_handoff_matches(got[0], want, t_before, t_after)
        # the visits made before the contact was known are in the journey
        j = got[0]["journey"]
        self.assertEqual(j["first_seen"], T0)
        self.assertEqual(j["known_since"], T0 + HOUR)
        self.assertEqual(j["page_views"], 6)
        self.assertEqual(j["sessions"], 2)
        # the blog post was read only anonymously; it still ranks among the top pages
        self.assertEqual([p["url"] for p in j["top_pages"]],
                         [SITE + "/pricing", SITE + "/product", SITE + "/blog/reduce-churn"])
        self.assertEqual(j["top_pages"][0]["views"], 3)
        self.assertEqual(got[0]["reasons"][0], {"rule": "high_intent", "points": 0, "count": 0,
                                                "detail": "score %d >= 100" % want["score"]})

        # more qualifying behaviour: no second handoff in this cycle
        self.phases(env, d, model,
                    [h.web_visit("j-v7", T0 + 3 * DAY + 2 * HOUR, anon, SITE + "/pricing", contact=cid, session="s2"),
                     h.form("j-f2", T0 + 3 * DAY + 3 * HOUR, anon, cid, form_type="demo_request")])
        self.assertEqual(len(self.handoffs(env)), 1)

        # lifecycle changes on handoff.lifecycle, in order, with their causes (the
        # contact's; its account acct-acme has changes of its own)
        lc = [x for _, x in env.decoded("lifecycle") if x["entity_type"] == "contact"]
        self.assertEqual(lc, c.lifecycle)
        self.assertEqual([(x["from_stage"], x["to_stage"]) for x in lc],
                         [("anonymous", "known"), ("known", "engaged"), ("engaged", "conversation_ready")])
        self.assertEqual(lc[1]["at"], T0 + DAY)
        self.assertEqual(lc[2]["cause"], "rule high_intent")

        # the store agrees with the model
        row = self.contact_dump(env, cid)
        self.assertEqual(row["score"], c.score)
        self.assertEqual(row["grade"], "A")
        self.assertEqual(row["stage"], "conversation_ready")
        self.assertEqual(row["cycle"], 1)
        self.assertTrue(row["handed_off"])
        self.assertEqual(row["last_event_ms"], c.last_event)

        s = d.stop()
        # the handoff line in the log; never the raw e-mail address
        lines = d.handoff_lines()
        self.assertEqual(len(lines), 1, lines)
        self.assertRegex(lines[0], r"contact c-journey\s+rule=high_intent score=%d grade=A" % want["score"])
        self.assertFalse([l for l in d.log() if "dana@" in l])
        self.assertEqual(s.handoffs, 1)
        self.assertEqual(s.handoffs_by_rule, {"high_intent": 1})
        self.assertEqual(s.dead_letters, 0)

        # handoffctl consume shows the same record, decoded by the daemon's codec
        r = env.ctl("consume", "--brokers", env.address, "--topic", env.topics["conversation_ready"],
                    "--max", "1", "--timeout", "10")
        self.assertEqual(r.returncode, 0, r.stderr)
        rec = json.loads(r.stdout.splitlines()[0])
        self.assertEqual(rec["key"], cid)
        self.assertIn(want["handoff_id"], r.stdout)

    def test_hand_raiser_once_per_cycle(self):
        env = self.env()
        d = env.daemon().start()
        model = m.PipelineModel()
        cid, anon = "c-raiser", "a-raiser"
        t_before = h.now_ms()
        self.phases(env, d, model,
                    [h.form("r-f1", T0, anon, cid, form_type="demo_request", form_id="demo", title="Director of IT",
                            employees=50, region="NA", email="sam@initech.example")])
        got = self.handoffs(env, expect=1)
        self.assertEqual(len(got), 1)
        want = model.contacts[cid].handoffs[0]
        self.assertEqual(want["rule"], "hand_raiser")
        self.assertEqual(want["stage_before"], "known")
        self.assertEqual(want["score"], 15)
        self.assertEqual(want["fit_grade"], "B")
        self.assert_handoff_matches(got[0], want, t_before, h.now_ms())
        self.assertEqual(got[0]["reasons"][0]["detail"], "demo_request form")

        # a second hand-raise, and enough behaviour for high_intent: still one handoff
        self.phases(env, d, model,
                    [h.form("r-f2", T0 + HOUR, anon, cid, form_type="contact_sales", form_id="sales"),
                     h.download("r-d1", T0 + HOUR, cid, "wp-1", "Buyer's guide"),
                     h.webinar("r-w1", T0 + HOUR, cid, "web-1", "Demo day", minutes=60),
                     h.web_visit("r-v1", T0 + HOUR, anon, SITE + "/pricing", contact=cid),
                     h.web_visit("r-v2", T0 + HOUR + MINUTE, anon, SITE + "/pricing", contact=cid),
                     h.email("r-e1", T0 + HOUR, cid, action="clicked")])
        c = model.contacts[cid]
        self.assertGreaterEqual(c.score, 100)
        self.assertEqual(len(c.handoffs), 1)
        self.assertEqual(len(self.handoffs(env)), 1)
        row = self.contact_dump(env, cid)
        self.assertEqual((row["stage"], row["cycle"], row["handed_off"]), ("conversation_ready", 1, True))
        self.assertEqual(row["score"], c.score)
        s = d.stop()
        self.assertEqual(s.handoffs_by_rule, {"hand_raiser": 1})

    def test_duplicates_folded_once(self):
        env = self.env()
        d = env.daemon().start()
        model = m.PipelineModel()
        cid, anon = "c-dup", "a-dup"
        # phases so that the lifecycle changes happen on the same events in any order
        phases = [[h.form("u-f1", T0, anon, cid, title="Analyst")],
                  [h.web_visit("u-v1", T0 + MINUTE, anon, SITE + "/pricing", contact=cid),
                   h.download("u-d1", T0 + 2 * MINUTE, cid, "eb-1", "Ebook", asset_type="ebook")],
                  [h.email("u-e1", T0 + 3 * MINUTE, cid, action="clicked")]]
        self.phases(env, d, model, *phases)
        # every one of them again (trackers deliver at least once), same event ids
        self.phases(env, d, model, [ev for p in phases for ev in p])
        c = model.contacts[cid]
        self.assertEqual(c.folded, 4)
        self.assertEqual(c.score, 15 + 11 + 20 + 5)
        row = self.contact_dump(env, cid)
        self.assertEqual(row["score"], c.score)
        # no lifecycle change twice
        lc = [x for _, x in env.decoded("lifecycle")]
        self.assertEqual(lc, c.lifecycle)
        s = d.stop()
        self.assertEqual(s.duplicates, 4)
        self.assertEqual(s.folded, 4)
        # 8 inputs, plus the re-keyed copies of the form and the visit if they
        # took the hop through <app>.by-contact
        self.assertIn(s.consumed, (8, 8 + 4))

    def test_late_records_applied_and_counted(self):
        """A record more than ordering.allowed_lateness (5 s by default) older than the
        record before it on its partition is late: folded as it comes, counted per
        topic in the summary, the stored counters and /metrics' family."""
        env = self.env()
        d = env.daemon().start()
        cid = "c-late"
        env.send_all([h.email("l-e1", T0 + 2 * HOUR, cid, action="opened"),
                      h.email("l-e2", T0, cid, action="clicked"),           # 2 h behind: late
                      h.email("l-e3", T0 + 2 * HOUR - 4000, cid, action="opened")])  # 4 s: on time
        d.wait_caught_up(timeout=60)
        s = d.stop()
        self.assertEqual(s.folded, 3)
        topic = env.topics["email_engagement"]
        self.assertRegex(s.text, r"(?m)^late: 1 \(%s=1\)$" % re.escape(topic))
        metrics = {r["name"]: r["value"] for r in env.dump("metrics")}
        self.assertEqual(metrics.get("late." + topic), 1, metrics)

    def test_stitching_bound(self):
        env = self.env()
        d = env.daemon().start()
        model = m.PipelineModel()
        cid, anon = "c-stitch", "a-stitch"
        visits = [h.web_visit("s-v%d" % i, T0 + i * MINUTE, anon, SITE + "/page-%d" % i, title="Page %d" % i)
                  for i in range(m.STITCH_MAX_EVENTS + 3)]
        self.phases(env, d, model, visits)
        ids = {r["anonymous_id"]: r for r in env.dump("identities")}
        self.assertEqual(ids[anon]["contact_id"], None)
        self.assertEqual(ids[anon]["buffered"], m.STITCH_MAX_EVENTS)
        # a hand-raise identifies them; its handoff shows what was replayed
        self.phases(env, d, model, [h.form("s-f1", T0 + HOUR, anon, cid, form_type="demo_request")])
        got = self.handoffs(env, expect=1)
        self.assertEqual(len(got), 1)
        j = got[0]["journey"]
        self.assertEqual(j["page_views"], m.STITCH_MAX_EVENTS)
        self.assertEqual(j["first_seen"], T0 + 3 * MINUTE)
        replayed = sorted(t["title"] for t in j["recent"] if t["type"] == "web_visit")
        self.assertEqual(replayed, ["Page %d" % i for i in range(3, 8)])
        self.assertEqual(got[0]["journey"], model.contacts[cid].handoffs[0]["journey"])
        self.assertEqual(got[0]["score"], model.contacts[cid].handoffs[0]["score"])
        ids = {r["anonymous_id"]: r for r in env.dump("identities")}
        self.assertEqual((ids[anon]["contact_id"], ids[anon]["buffered"]), (cid, 0))
        s = d.stop()
        self.assertRegex(s.text, r"\b3 dropped by stitching bounds")


if __name__ == "__main__":
    h.main()
