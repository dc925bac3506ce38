"""End to end, accounts and buying groups: three people of umbrella.example (no domain
mapping, so the domain is the account id; a tier-2 target) engage within an hour;
the account's ConversationReady is consumed with python3-kafka, decoded with
python3-avro and checked field by field against values worked out here by hand
from tests/fixtures/handoff-test.yaml (and, as a second opinion, against
tests/lib/model.py)."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import hftest as h  # noqa: E402
import model as m  # noqa: E402
from hftest import DAY, MINUTE, T0, iso  # noqa: E402

SITE = "https://www.umbrella.example"
HALF_LIFE = 7 * DAY  # scoring.half_life
INTEREST_HALF_LIFE = 14 * DAY  # interests.half_life
ACCT = "umbrella.example"
CO = dict(industry="saas", employees=800, country="US", region="NA", company_name="Umbrella")


def d(dt_ms):
    return 2.0 ** (-dt_ms / HALF_LIFE)


def di(dt_ms):
    return 2.0 ** (-dt_ms / INTEREST_HALF_LIFE)


def rnd(x):
    return int(x + 0.5)


class AccountOutputs(h.ClusterTestCase):
    partitions = 6

    def step(self, env, daemon, *events):
        env.send_all(events)
        daemon.wait_caught_up(timeout=60)

    def test_account_conversation_ready_field_by_field(self):
        env = self.env()
        dm = env.daemon().start()
        pat, quinn, ravi = "c-pat", "c-quinn", "c-ravi"
        t = {k: T0 + v * MINUTE for k, v in
             dict(p_visit=-30, p_form=0, p_web=10, q_form=20, q_wp=30, r_form=40, r_cs=50, r_web=60).items()}
        t_before = h.now_ms()
        # one event per step: the account's outcome depends on the order of its members' updates
        self.step(env, dm, h.web_visit("u-1", t["p_visit"], "a-pat", SITE + "/pricing", session="sp", title="Pricing"))
        self.step(env, dm, h.form("u-2", t["p_form"], "a-pat", pat, form_id="gate-ops", email="pat@umbrella.example",
                                  title="VP Operations", **CO))
        self.step(env, dm, h.webinar("u-3", t["p_web"], pat, "web-sec-2", "Passing the audit", minutes=60))
        self.step(env, dm, h.form("u-4", t["q_form"], "a-quinn", quinn, form_id="gate-churn",
                                  email="quinn@umbrella.example", title="IT Manager", **CO))
        self.step(env, dm, h.download("u-5", t["q_wp"], quinn, "wp-churn", "Churn playbook", tags=["churn"]))
        self.step(env, dm, h.form("u-6", t["r_form"], "a-ravi", ravi, form_id="gate-roi", email="ravi@umbrella.example",
                                  title="Analyst", department="finance", **CO))
        self.step(env, dm, h.download("u-7", t["r_cs"], ravi, "cs-1", "How Tyrell saved 30%", asset_type="case_study",
                                      tags=["roi"]))
        self.assertEqual(env.consume("conversation_ready"), [])
        # Ravi's webinar makes three engaged members in three roles: buying_group_engaged
        self.step(env, dm, h.webinar("u-8", t["r_web"], ravi, "web-sec-2", "Passing the audit",
                                     action="watched_recording", minutes=25))
        got = env.decoded("conversation_ready", expect=1)
        t_after = h.now_ms()
        self.assertEqual(len(got), 1)
        rec, x = got[0]
        self.assertEqual(rec.key, ACCT.encode())

        T = t["r_web"]
        # behaviour scores, each at its member's newest event, then decayed to T
        s_pat = (11 * d(t["p_web"] - t["p_visit"]) + 15 * d(t["p_web"] - t["p_form"]) + 25) * d(T - t["p_web"])
        s_quinn = (15 * d(t["q_wp"] - t["q_form"]) + 20) * d(T - t["q_wp"])
        s_ravi = 15 * d(T - t["r_form"]) + 10 * d(T - t["r_cs"]) + 25
        weighted = {pat: 3 * s_pat, quinn: 2 * s_quinn, ravi: 1.5 * s_ravi}
        score = rnd(sum(weighted.values()))
        self.assertEqual([rnd(s_pat), rnd(s_quinn), rnd(s_ravi)], [51, 35, 50])
        self.assertEqual(score, 297)  # under accounts.max_score (400)

        self.assertEqual(x["handoff_id"], h.handoff_id(ACCT, 1, entity_type="account"))
        self.assertRegex(x["handoff_id"], r"^ho_[0-9a-f]{16}$")
        self.assertEqual(x["entity_type"], "account")
        self.assertEqual(x["entity_id"], ACCT)
        self.assertEqual(x["account_id"], ACCT)
        self.assertEqual(x["rule"], "buying_group_engaged")
        self.assertEqual(x["qualified_at"], T)
        self.assertTrue(t_before <= x["emitted_at"] <= t_after)
        self.assertEqual(x["score"], score)
        self.assertEqual(x["fit_grade"], "B")  # saas 20 + 800 employees 20 + tier-2 target 10 = 50
        self.assertEqual(x["stage_before"], "engaged")

        # buying group: engaged members ranked by weighted score (Ravi, an influencer
        # x1.5, before Quinn, a champion x2 with a lower score), each with the fixture's
        # role rule that placed it (numbered from 1) and the pattern its trait matched
        self.assertEqual(x["buying_group"], [
            {"contact_id": pat, "role": "decision_maker", "score": 51, "last_active": t["p_web"],
             "placement": 'role rule 1 (decision_maker): title "VP Operations" matched "*vp*"'},
            {"contact_id": ravi, "role": "influencer", "score": 50, "last_active": t["r_web"],
             "placement": 'role rule 3 (influencer): department "finance" matched "finance"'},
            {"contact_id": quinn, "role": "champion", "score": 35, "last_active": t["q_wp"],
             "placement": 'role rule 2 (champion): title "IT Manager" matched "*manager*"'},
        ])
        self.assertEqual(sorted(x["roles_covered"]), ["champion", "decision_maker", "influencer"])
        self.assertEqual(len(x["roles_covered"]), 3)

        # reasons: the rule's conditions (no points), each member's contribution by
        # weighted score, then the account's fit
        def cond(detail):
            return {"rule": "buying_group_engaged", "points": 0, "count": 0, "detail": detail}
        self.assertEqual([rnd(weighted[c]) for c in (pat, ravi, quinn)], [152, 75, 70])
        want_reasons = [
            cond("engaged members 3 >= 3"),
            cond("roles 3 >= 3: decision_maker, influencer, champion"),
            cond("all of roles covered: decision_maker"),
            cond("any of roles covered: champion, influencer"),
            cond("account score 297 >= 150"),
            cond("tier 2 in 1, 2"),
            {"rule": "member:" + pat, "points": 152, "count": 1, "detail": "decision_maker, score 51 x 3"},
            {"rule": "member:" + ravi, "points": 75, "count": 1, "detail": "influencer, score 50 x 1.5"},
            {"rule": "member:" + quinn, "points": 70, "count": 1, "detail": "champion, score 35 x 2"},
            {"rule": "fit:software", "points": 20, "count": 1, "detail": "industry saas"},
            {"rule": "fit:mid_market", "points": 20, "count": 1, "detail": "employees 800"},
            {"rule": "target_account", "points": 10, "count": 1, "detail": "tier 2"},
        ]
        self.assertEqual(len(x["reasons"]), len(want_reasons), x["reasons"])
        for i, (g, w) in enumerate(zip(x["reasons"], want_reasons)):
            with self.subTest(reason=i):
                self.assertEqual(g, w)

        # the journey: the members' touches merged, newest first, each naming its member
        j = x["journey"]
        self.assertEqual(j["first_seen"], t["p_visit"])
        self.assertEqual(j["known_since"], t["p_form"])  # the account's first member
        self.assertEqual(j["top_pages"], [])
        self.assertEqual(j["sessions"], 1)
        self.assertEqual(j["page_views"], 1)
        self.assertEqual(j["downloads"], [
            {"asset_id": "cs-1", "title": "How Tyrell saved 30%", "type": "case_study", "at": t["r_cs"]},
            {"asset_id": "wp-churn", "title": "Churn playbook", "type": "whitepaper", "at": t["q_wp"]}])
        self.assertEqual(j["webinars"], [
            {"webinar_id": "web-sec-2", "title": "Passing the audit", "action": "watched_recording", "minutes": 25,
             "at": t["r_web"]},
            {"webinar_id": "web-sec-2", "title": "Passing the audit", "action": "attended", "minutes": 60,
             "at": t["p_web"]}])
        self.assertEqual(j["email"], {"opens": 0, "clicks": 0, "last_campaign": None})
        want_recent = [
            {"at": t["r_web"], "type": "webinar", "title": "Passing the audit",
             "detail": "c-ravi: watched_recording, 25 min"},
            {"at": t["r_cs"], "type": "download", "title": "How Tyrell saved 30%", "detail": "c-ravi: case_study"},
            {"at": t["r_form"], "type": "form", "title": "gate-roi", "detail": "c-ravi: content_gate"},
            {"at": t["q_wp"], "type": "download", "title": "Churn playbook", "detail": "c-quinn: whitepaper"},
            {"at": t["q_form"], "type": "form", "title": "gate-churn", "detail": "c-quinn: content_gate"},
            {"at": t["p_web"], "type": "webinar", "title": "Passing the audit", "detail": "c-pat: attended, 60 min"},
            {"at": t["p_form"], "type": "form", "title": "gate-ops", "detail": "c-pat: content_gate"},
            {"at": t["p_visit"], "type": "web_visit", "title": "Pricing", "detail": "c-pat: before known"},
        ]
        self.assertEqual(len(j["recent"]), len(want_recent), j["recent"])
        for i, (g, w) in enumerate(zip(j["recent"], want_recent)):
            with self.subTest(touch=i):
                self.assertEqual(g, w)

        # interests: the members' topics summed, each decayed to T
        want_interests = [
            ("security compliance", 3 * di(T - t["p_web"]) + 3),
            ("reduce churn", 2 * di(T - t["q_wp"])),
            ("roi", 1.5 * di(T - t["r_cs"])),
        ]
        self.assertEqual([i["topic"] for i in x["interests"]], [w[0] for w in want_interests])
        for g, (_, w) in zip(x["interests"], want_interests):
            self.assertAlmostEqual(g["weight"], w, delta=1e-5)

        self.assertEqual(x["routing"]["team"], "na-enterprise")  # US, tier 2
        self.assertEqual(x["routing"]["region"], "NA")
        self.assertIsNone(x["routing"]["note"])
        self.assertEqual(x["sla"]["accept_by"], x["emitted_at"] + 4 * 3600 * 1000)
        self.assertEqual(x["sla"]["first_touch_by"], x["emitted_at"] + 24 * 3600 * 1000)

        # the independent model agrees in every field
        model = m.PipelineModel()
        for _, _, value in env.sent:
            name, datum = h.AVRO.decode(value)
            model.fold(name, datum)
        want = model.accounts[ACCT].handoffs[0]
        for k, v in want.items():
            with self.subTest(field=k):
                if k == "interests":
                    self.assertEqual([i["topic"] for i in x[k]], [i["topic"] for i in v])
                else:
                    self.assertEqual(x[k], v)

        # the account's lifecycle, keyed by the account id
        lc = [(r, y) for r, y in env.decoded("lifecycle") if y["entity_type"] == "account"]
        self.assertEqual([r.key for r, _ in lc], [ACCT.encode()] * 3)
        self.assertEqual([(y["from_stage"], y["to_stage"], y["at"], y["cause"]) for _, y in lc],
                         [("anonymous", "known", t["p_form"], "first member: c-pat"),
                          ("known", "engaged", t["p_web"], "member c-pat engaged: score 51 >= engaged_member_score 30"),
                          ("engaged", "conversation_ready", T, "rule buying_group_engaged")])

        # handoffctl consume renders it through the daemon's codec
        r = env.ctl("consume", "--brokers", env.address, "--topic", env.topics["conversation_ready"],
                    "--max", "1", "--timeout", "10")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout.splitlines()[0])
        self.assertEqual(out["key"], ACCT)
        self.assertEqual(out["value"]["handoff_id"], x["handoff_id"])
        s = dm.stop()
        self.assertEqual(s.handoffs_by_rule, {"buying_group_engaged": 1})
        self.assertFalse([l for l in dm.log() if "@umbrella" in l])
        self.assertTrue(iso(T))


if __name__ == "__main__":
    h.main()
