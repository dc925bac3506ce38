"""Accounts and buying groups through the real handoffd, 6 partitions:
three people of one company engaging over days until their account qualifies
exactly once; a contact moving accounts; free-mail contacts making no account;
merges across partitions; repeats of every record kind changing nothing.

Expected scores, members, rosters and handoffs come from tests/lib/model.py, which
computes them from the rules of tests/fixtures/handoff-test.yaml without reading
anything back from the daemon.  Events are sent in phases, each folded
(wait_caught_up) before the next; where the order of two events matters (an
account's engaged set, a roster) they sit in different phases."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import hftest as h  # noqa: E402
import model as m  # noqa: E402
from hftest import DAY, HOUR, MINUTE, T0  # noqa: E402

HOOLI = "https://www.hooli.example"
PIPER = "https://www.piedpiper.example"
HOOLI_CO = dict(industry="software", employees=1200, country="DE", region="EMEA", company_name="Hooli")


def hooli_people():
    """Alice (decision maker), Bob (champion, on the second domain of the account)
    and Carol (user) of Hooli, engaging over three days; Carol's download makes the
    account qualify.  Returns (phases before the qualifying one, the qualifying one)."""
    alice, bob, carol = "c-alice", "c-bob", "c-carol"
    before = [
        # Alice reads the blog anonymously, then a gated asset names her
        [h.web_visit("hb-a1", T0 - HOUR, "a-alice", HOOLI + "/blog/reduce-churn", title="Reduce churn")],
        [h.form("hb-a2", T0, "a-alice", alice, form_id="gate-soc2", email="alice@hooli.example",
                title="VP Engineering", **HOOLI_CO)],
        [h.webinar("hb-a3", T0 + 2 * HOUR, alice, "web-sec-1", "SOC 2 in 90 days", minutes=50)],
        [h.email("hb-a4", T0 + 3 * HOUR, alice, action="clicked", campaign="integrations-q1")],
        # the next day Bob, from the account's second domain
        [h.form("hb-b1", T0 + DAY, "a-bob", bob, form_id="gate-churn", email="bob@hooli-labs.example",
                title="Director of Platform", **HOOLI_CO)],
        [h.download("hb-b2", T0 + DAY + HOUR, bob, "wp-churn", "The churn playbook", tags=["churn"])],
        [h.webinar("hb-b3", T0 + DAY + 2 * HOUR, bob, "web-sec-1", "SOC 2 in 90 days", action="watched_recording",
                   minutes=30)],
        # and Carol
        [h.form("hb-c1", T0 + 2 * DAY, "a-carol", carol, form_id="gate-roi", email="carol@hooli.example",
                title="Software Engineer", **HOOLI_CO)],
    ]
    qualifying = [h.download("hb-c2", T0 + 2 * DAY + HOUR, carol, "eb-retention", "Retention by the numbers",
                             asset_type="ebook", tags=["retention", "roi"])]
    return before, qualifying


def different_partitions(a, b, partitions):
    return h.murmur2_partition(a.encode(), partitions) != h.murmur2_partition(b.encode(), partitions)


class Accounts(h.ClusterTestCase):
    partitions = 6

    # -- helpers ------------------------------------------------------------------
    def phases(self, env, daemon, model, *phases):
        """Sends each phase, folds it into @model (in event-time order, as the daemon
        orders its input) and waits until the daemon folded it too."""
        for events in phases:
            env.send_all(events)
            for ev in sorted(events, key=lambda e: e.at):
                model.fold(ev.record, ev.datum)
            daemon.wait_caught_up(timeout=60)

    def ready(self, env, expect=None):
        return [x for _, x in env.decoded("conversation_ready", expect=expect, timeout=20)]

    def lifecycle_of(self, env, entity_id):
        return [x for _, x in env.decoded("lifecycle") if x["entity_id"] == entity_id]

    def accounts(self, env):
        """{account id: dump row}, with the member list of its state as "member_list"."""
        rows = {}
        for r in env.dump("accounts"):
            state = h.avro_json_plain(r.get("state") or {})
            r["member_list"] = state.get("members", r["members"] if isinstance(r.get("members"), list) else [])
            rows[r["account_id"]] = r
        return rows

    def contact_row(self, env, cid):
        rows = env.dump("contacts", "--id", cid)
        self.assertEqual(len(rows), 1, rows)
        r = rows[0]
        r["plain"] = h.avro_json_plain(r["state"])
        return r

    def assert_payload(self, got, want, t_before=None, t_after=None):
        """A ConversationReady against the model's, field by field; interest weights
        to single precision (the daemon computes in double and writes a float)."""
        for k, v in want.items():
            with self.subTest(field=k, entity=want["entity_id"]):
                if k == "interests":
                    self.assertEqual([x["topic"] for x in got[k]], [x["topic"] for x in v])
                    for g, w in zip(got[k], v):
                        self.assertAlmostEqual(g["weight"], w["weight"], delta=1e-5 * max(1.0, abs(w["weight"])))
                else:
                    self.assertEqual(got[k], v)
        if t_before is not None:
            self.assertGreaterEqual(got["emitted_at"], t_before)
            self.assertLessEqual(got["emitted_at"], t_after)
        self.assertEqual(got["sla"]["accept_by"], got["emitted_at"] + m.SLA_ACCEPT_MS)
        self.assertEqual(got["sla"]["first_touch_by"], got["emitted_at"] + m.SLA_FIRST_TOUCH_MS)

    def assert_account(self, row, a):
        """A dump row of an account against the model's account @a."""
        with self.subTest(account=a.account_id):
            self.assertEqual({x["contact_id"] for x in row["member_list"]}, set(a.members))
            for x in row["member_list"]:
                want = a.members[x["contact_id"]]
                self.assertEqual((x["version"], x["role"], x["last_active"], x.get("placement")),
                                 (want["version"], want["role"], want["last_active"], want["placement"]),
                                 x["contact_id"])
                self.assertAlmostEqual(x["score"], want["score"], places=6)
            self.assertEqual(row["score"], a.score)
            self.assertEqual(row["stage"], a.stage)
            self.assertEqual(row["cycle"], a.cycle)
            self.assertEqual(row["handed_off"], a.handed_off)
            count = row["members"] if isinstance(row["members"], int) else len(row["members"])
            self.assertEqual(count, len(a.members))
            self.assertEqual(row["engaged"] if isinstance(row["engaged"], int) else len(row["engaged"]),
                             len(a.engaged()))

    # -- tests --------------------------------------------------------------------
    def test_buying_group_qualifies_once(self):
        env = self.env()
        d = env.daemon().start()
        model = m.PipelineModel()
        before, qualifying = hooli_people()
        t_before = h.now_ms()
        self.phases(env, d, model, *before)
        acct = model.accounts["acct-hooli"]
        self.assertEqual(model.handoffs(), [], "test design: nothing qualifies before Carol's download")
        self.assertEqual([x["contact_id"] for x in acct.engaged()], ["c-alice", "c-bob"])
        self.phases(env, d, model, qualifying)
        t_after = h.now_ms()

        # exactly one handoff so far: the account's, on Carol's download
        self.assertEqual(len(acct.handoffs), 1)
        want = acct.handoffs[0]
        got = self.ready(env, expect=1)
        self.assertEqual(len(got), 1, got)
        x = got[0]
        self.assertEqual((x["entity_type"], x["entity_id"], x["account_id"]), ("account", "acct-hooli", "acct-hooli"))
        self.assertEqual(x["handoff_id"], h.handoff_id("acct-hooli", 1, entity_type="account"))
        self.assertEqual(x["rule"], "buying_group_engaged")
        self.assertEqual(x["qualified_at"], T0 + 2 * DAY + HOUR)
        self.assertEqual(x["fit_grade"], "A")  # software 20 + 1200 employees 20 + tier 1 target 30
        # ranked by weighted score: Alice (decision maker, x3) before Bob (champion, x2)
        # although Bob's own score is higher
        self.assertEqual([(b["contact_id"], b["role"]) for b in x["buying_group"]],
                         [("c-alice", "decision_maker"), ("c-bob", "champion"), ("c-carol", "user")])
        # how each got its role: the fixture's rule (numbered from 1) and what its title
        # matched, or the default role (Carol's title is in no rule; the influencer rule
        # looks at departments, which her form did not carry)
        self.assertEqual([b["placement"] for b in x["buying_group"]], [
            'role rule 1 (decision_maker): title "VP Engineering" matched "*vp*"',
            'role rule 2 (champion): title "Director of Platform" matched "*director*"',
            "default role (user)"])
        self.assertLess(x["buying_group"][0]["score"], x["buying_group"][1]["score"])
        self.assertEqual(sorted(x["roles_covered"]), ["champion", "decision_maker", "user"])
        self.assertEqual([r["rule"] for r in x["reasons"]], ["buying_group_engaged"] * 6 + [
            "member:c-alice", "member:c-bob", "member:c-carol", "fit:software", "fit:mid_market", "target_account"])
        self.assertEqual([r["points"] for r in x["reasons"][:6]], [0] * 6)
        self.assertEqual(x["routing"]["team"], "dach-enterprise")
        self.assertEqual([i["topic"] for i in x["interests"]], ["security compliance", "reduce churn", "roi"])
        # the members' journeys merged, newest first
        self.assertEqual(x["journey"]["first_seen"], T0 - HOUR)
        self.assertEqual([t["at"] for t in x["journey"]["recent"]],
                         sorted((t["at"] for t in x["journey"]["recent"]), reverse=True))
        self.assertEqual([w["webinar_id"] for w in x["journey"]["webinars"]], ["web-sec-1", "web-sec-1"])
        self.assert_payload(x, want, t_before, t_after)

        rows = self.accounts(env)
        self.assertEqual(set(rows), {"acct-hooli"})
        self.assert_account(rows["acct-hooli"], acct)
        self.assertEqual((rows["acct-hooli"]["stage"], rows["acct-hooli"]["handed_off"]), ("conversation_ready", True))

        # Carol asks for a demo: her handoff shows who else at Hooli is looking
        t_before = h.now_ms()
        self.phases(env, d, model, [h.form("hb-c3", T0 + 3 * DAY, "a-carol", "c-carol", form_type="demo_request",
                                           form_id="demo")])
        carol = model.contacts["c-carol"]
        self.assertEqual(len(carol.handoffs), 1)
        got = [y for y in self.ready(env, expect=2) if y["entity_id"] == "c-carol"]
        self.assertEqual(len(got), 1)
        self.assertEqual([b["contact_id"] for b in got[0]["buying_group"]], ["c-alice", "c-bob"])
        self.assertEqual(sorted(got[0]["roles_covered"]), ["champion", "decision_maker", "user"])
        self.assertEqual(got[0]["account_id"], "acct-hooli")
        self.assertEqual(got[0]["routing"]["team"], "dach-enterprise")
        self.assertEqual([i["topic"] for i in got[0]["interests"]], ["reduce churn", "roi"])
        self.assert_payload(got[0], carol.handoffs[0], t_before, h.now_ms())

        # more engagement: the account does not qualify again in this cycle
        self.phases(env, d, model,
                    [h.web_visit("hb-a5", T0 + 3 * DAY + HOUR, "a-alice", HOOLI + "/pricing", contact="c-alice",
                                 session="s2", title="Pricing")],
                    [h.webinar("hb-b4", T0 + 3 * DAY + 2 * HOUR, "c-bob", "web-sec-2", "Audit day", minutes=60)])
        self.assertEqual(len(acct.handoffs), 1)
        got = self.ready(env)
        self.assertEqual(sorted((y["entity_type"], y["entity_id"]) for y in got),
                         [("account", "acct-hooli"), ("contact", "c-carol")])
        rows = self.accounts(env)
        self.assert_account(rows["acct-hooli"], acct)

        # the account's lifecycle: known on its first member, engaged with Alice, ready
        lc = self.lifecycle_of(env, "acct-hooli")
        self.assertEqual([(y["entity_type"], y["from_stage"], y["to_stage"], y["at"]) for y in lc],
                         [("account", "anonymous", "known", T0), ("account", "known", "engaged", T0 + 2 * HOUR),
                          ("account", "engaged", "conversation_ready", T0 + 2 * DAY + HOUR)])
        self.assertEqual(lc[2]["cause"], "rule buying_group_engaged")
        self.assertEqual(lc, acct.lifecycle)
        for cid in ("c-alice", "c-bob", "c-carol"):
            self.assertEqual(self.lifecycle_of(env, cid), model.contacts[cid].lifecycle, cid)

        s = d.stop()
        self.assertEqual(s.handoffs_by_rule, {"buying_group_engaged": 1, "hand_raiser": 1})
        self.assertEqual(s.dead_letters, 0)
        lines = d.handoff_lines()
        self.assertEqual(len([l for l in lines if "account acct-hooli" in l]), 1, lines)
        self.assertRegex("\n".join(lines), r"account acct-hooli\s+rule=buying_group_engaged score=%d grade=A"
                         % want["score"])
        self.assertFalse([l for l in d.log() if "@hooli" in l], "an e-mail address in the log")

    def test_on_commit_coalesces_member_updates(self):
        """The default mode: each contact's summary reaches its account once per
        commit.  Everything before the qualifying download arrives as one burst, so
        the account sees fewer, newer summaries than the per-event model -- and ends
        in the same state, qualifying once, on the same download."""
        env = self.env(config_edit=h.on_commit)
        d = env.daemon().start()
        model = m.PipelineModel()
        before, qualifying = hooli_people()
        self.phases(env, d, model, [ev for phase in before for ev in phase])
        acct = model.accounts["acct-hooli"]
        self.assertEqual(acct.handoffs, [], "test design")
        self.assertEqual(self.ready(env), [])
        self.phases(env, d, model, qualifying)

        got = self.ready(env, expect=1)
        self.assertEqual(len(got), 1, got)
        x, want = got[0], acct.handoffs[0]
        self.assertEqual((x["entity_type"], x["entity_id"], x["rule"], x["handoff_id"]),
                         ("account", "acct-hooli", "buying_group_engaged",
                          h.handoff_id("acct-hooli", 1, entity_type="account")))
        # the account's facts do not depend on how many summaries carried them
        for k in ("qualified_at", "score", "fit_grade", "buying_group", "roles_covered", "reasons", "routing",
                  "interests", "journey", "account_id", "stage_before"):
            with self.subTest(field=k):
                if k == "interests":
                    self.assertEqual([i["topic"] for i in x[k]], [i["topic"] for i in want[k]])
                elif k == "journey":
                    # when the account became known is when its first summary came:
                    # a commit's newest change, not the first member's first event
                    self.assertGreaterEqual(x[k]["known_since"], want[k]["known_since"])
                    self.assertEqual(dict(x[k], known_since=None), dict(want[k], known_since=None))
                else:
                    self.assertEqual(x[k], want[k])

        row = self.accounts(env)["acct-hooli"]
        self.assertEqual({y["contact_id"] for y in row["member_list"]}, set(acct.members))
        for y in row["member_list"]:
            w = acct.members[y["contact_id"]]
            self.assertEqual((y["role"], y["last_active"]), (w["role"], w["last_active"]), y["contact_id"])
            self.assertAlmostEqual(y["score"], w["score"], places=6)
            self.assertGreaterEqual(y["version"], 1)
            self.assertLessEqual(y["version"], w["version"], y["contact_id"])
        self.assertEqual((row["score"], row["stage"], row["handed_off"]), (acct.score, "conversation_ready", True))
        metrics = {r["name"]: r["value"] for r in env.dump("metrics")}
        per_event = sum(w["version"] for w in acct.members.values())
        sys.stderr.write("on_commit: %d member updates, %d per event\n" % (metrics["member_updates"], per_event))
        self.assertGreaterEqual(metrics["member_updates"], len(acct.members))
        self.assertLess(metrics["member_updates"], per_event)
        s = d.stop()
        self.assertEqual(s.handoffs_by_rule, {"buying_group_engaged": 1})
        self.assertEqual(s.dead_letters, 0)

    def test_contact_moves_account(self):
        env = self.env()
        d = env.daemon().start()
        model = m.PipelineModel()
        dan, erin = "c-dan", "c-erin"
        raviga = dict(account_id="acct-raviga", industry="finance", country="US", region="NA")
        self.phases(env, d, model,
                    [h.form("mv-e1", T0, "a-erin", erin, email="erin@raviga.example", title="Procurement Manager",
                            **raviga)],
                    [h.download("mv-e2", T0 + HOUR, erin, "wp-1", "Buyer's guide")],
                    [h.form("mv-d1", T0 + 2 * HOUR, "a-dan", dan, email="dan@raviga.example",
                            title="Chief Financial Officer", **raviga)],
                    [h.webinar("mv-d2", T0 + 3 * HOUR, dan, "web-1", "Finance live", minutes=40)])
        rows = self.accounts(env)
        self.assertEqual(set(rows), {"acct-raviga"})
        self.assertEqual({x["contact_id"] for x in rows["acct-raviga"]["member_list"]}, {dan, erin})
        self.assert_account(rows["acct-raviga"], model.accounts["acct-raviga"])

        # Dan's account_id trait changes: he leaves acct-raviga and joins acct-bachman
        self.phases(env, d, model,
                    [h.identity("mv-d3", T0 + DAY, dan, kind="traits",
                                trait_kw=dict(account_id="acct-bachman", title="Chief Financial Officer"))])
        rows = self.accounts(env)
        self.assertEqual(set(rows), {"acct-raviga", "acct-bachman"})
        self.assertEqual([x["contact_id"] for x in rows["acct-raviga"]["member_list"]], [erin])
        self.assertEqual([x["contact_id"] for x in rows["acct-bachman"]["member_list"]], [dan])
        for aid in ("acct-raviga", "acct-bachman"):
            self.assert_account(rows[aid], model.accounts[aid])
        self.assertEqual(self.contact_row(env, dan)["plain"]["account_id"], "acct-bachman")

        # both ask for a demo: Erin's buying group no longer has Dan, Dan's is his new
        # account's (where he is alone) and never the old one's
        self.phases(env, d, model,
                    [h.form("mv-e3", T0 + DAY + HOUR, "a-erin", erin, form_type="demo_request", form_id="demo")],
                    [h.form("mv-d4", T0 + DAY + 2 * HOUR, "a-dan", dan, form_type="demo_request", form_id="demo")])
        got = {x["entity_id"]: x for x in self.ready(env, expect=2)}
        self.assertEqual(set(got), {dan, erin})
        self.assertEqual((got[erin]["account_id"], got[erin]["buying_group"]), ("acct-raviga", []))
        self.assertEqual(got[erin]["roles_covered"], ["champion"])
        self.assertEqual((got[dan]["account_id"], got[dan]["buying_group"]), ("acct-bachman", []))
        self.assertEqual(got[dan]["roles_covered"], ["decision_maker"])
        self.assertEqual(got[dan]["routing"]["team"], "na-commercial")
        for cid in (dan, erin):
            self.assert_payload(got[cid], model.contacts[cid].handoffs[0])
        rows = self.accounts(env)
        for aid in ("acct-raviga", "acct-bachman"):
            self.assert_account(rows[aid], model.accounts[aid])
        s = d.stop()
        self.assertEqual(s.dead_letters, 0)

    def test_free_mail_makes_no_account(self):
        env = self.env()
        d = env.daemon().start()
        model = m.PipelineModel()
        people = [
            ("c-frank", "frank@gmail.com", {}),
            ("c-gina", "gina@outlook.com", {}),
            ("c-hank", "hank@box.freemail.example", {}),  # extra_free_mail_domains glob
            ("c-ivy", "ivy@yahoo.com", {"account_id": "undefined"}),  # a blocked account id
            ("c-kim", "kim@gmail.com", {"account_id": "acct-kimco"}),  # the trait wins over free mail
            ("c-leo", "leo@umbrella.example", {}),  # no mapping: the domain is the account
        ]
        self.phases(env, d, model,
                    [h.form("fm-%d" % i, T0 + i * MINUTE, "a-" + cid, cid, email=mail, title="Director of IT",
                            country="BR", **extra) for i, (cid, mail, extra) in enumerate(people)],
                    [h.download("fm-d%d" % i, T0 + HOUR + i * MINUTE, cid, "wp-1", "Buyer's guide")
                     for i, (cid, _, _) in enumerate(people)])
        rows = self.accounts(env)
        self.assertEqual(set(rows), {"acct-kimco", "umbrella.example"})
        self.assertEqual(set(rows), set(model.accounts))
        for aid in rows:
            self.assert_account(rows[aid], model.accounts[aid])
        for cid, _, _ in people:
            self.assertEqual(self.contact_row(env, cid)["plain"]["account_id"], model.contacts[cid].account_id, cid)

        # a free-mail lead from a country no team covers: handed off all the same, flagged
        self.phases(env, d, model, [h.form("fm-x", T0 + 2 * HOUR, "a-c-frank", "c-frank", form_type="demo_request")])
        got = self.ready(env, expect=1)
        self.assertEqual(len(got), 1)
        x = got[0]
        self.assertEqual((x["entity_id"], x["account_id"], x["buying_group"], x["roles_covered"]),
                         ("c-frank", None, [], []))
        self.assertIsNone(x["routing"]["team"])
        self.assertEqual(x["routing"]["note"], "no team covers country BR")
        self.assert_payload(x, model.contacts["c-frank"].handoffs[0])
        d.stop()

    def test_merge_across_partitions(self):
        env = self.env()
        d = env.daemon().start()
        model = m.PipelineModel()
        s_id, l_id = "c-merge-s", "c-merge-l"
        s2_id, l2_id = "c-merge-s2", "c-merge-l2"
        for a, b in ((s_id, l_id), (s2_id, l2_id)):
            self.assertTrue(different_partitions(a, b, self.partitions), "test design: %s and %s" % (a, b))
        t0 = T0 + 10 * DAY
        # the loser: anonymous pricing visits, a form, a webinar, an ebook (account umbrella.example)
        # the survivor: newer traits (they win the merge), account acct-piedpiper
        self.phases(env, d, model,
                    [h.web_visit("mg-l1", t0 - 3 * DAY, "a-ml", PIPER + "/pricing", title="Pricing"),
                     h.web_visit("mg-l2", t0 - 3 * DAY + 5 * MINUTE, "a-ml", PIPER + "/pricing/enterprise",
                                 title="Enterprise")],
                    [h.form("mg-l3", t0 - 3 * DAY + HOUR, "a-ml", l_id, email="lou@umbrella.example", title="Analyst",
                            country="US", region="NA")],
                    [h.webinar("mg-l4", t0 - 2 * DAY, l_id, "web-sec-3", "Compliance clinic", minutes=45),
                     h.download("mg-l5", t0 - 2 * DAY + HOUR, l_id, "eb-1", "Compression, explained",
                                asset_type="ebook", tags=["roi"])],
                    [h.form("mg-s1", t0, "a-ms", s_id, email="sam@piedpiper.example", title="Head of Data",
                            employees=300, country="US", region="NA")],
                    [h.download("mg-s2", t0 + HOUR, s_id, "wp-2", "Middle-out", tags=["churn"]),
                     h.email("mg-s3", t0 + 90 * MINUTE, s_id, action="clicked", campaign="integrations-beta")],
                    # the loser of the second merge was handed off already
                    [h.form("mg-l2-1", t0, "a-ml2", l2_id, form_type="demo_request", email="lee@piedpiper.example",
                            title="Engineer"),
                     h.form("mg-s2-1", t0 + MINUTE, "a-ms2", s2_id, email="sue@piedpiper.example",
                            title="Director of Sales", employees=300)])
        ls, ss = model.contacts[l_id], model.contacts[s_id]
        self.assertEqual((ls.handoffs, ss.handoffs), ([], []), "test design: neither qualifies alone")
        self.assertEqual(len(model.contacts[l2_id].handoffs), 1)
        rows = self.accounts(env)
        self.assertEqual({x["contact_id"] for x in rows["umbrella.example"]["member_list"]}, {l_id})

        # CRM deduplication: L folds into S; together they qualify, once
        t_before = h.now_ms()
        self.phases(env, d, model, [h.identity("mg-m1", t0 + 2 * HOUR, s_id, kind="merge", merged=l_id)])
        self.assertEqual(model.merged, [(s_id, l_id)])
        self.assertEqual(len(ss.handoffs), 1)
        want = ss.handoffs[0]
        self.assertEqual(want["rule"], "high_intent")
        got = [x for x in self.ready(env, expect=2) if x["entity_id"] == s_id]
        self.assertEqual(len(got), 1, got)
        x = got[0]
        # the survivor's journey holds the loser's events, the anonymous ones included
        self.assertEqual(x["journey"]["first_seen"], t0 - 3 * DAY)
        self.assertEqual(x["journey"]["known_since"], t0 - 3 * DAY + HOUR)
        self.assertEqual(x["journey"]["page_views"], 2)
        self.assertIn("Compliance clinic", [t["title"] for t in x["journey"]["recent"]])
        webinar = [r for r in x["reasons"] if r["rule"] == "webinar_attended"]
        self.assertEqual([(r["count"], r["detail"]) for r in webinar], [(1, "1 match, last %s" % h.iso(t0 - 2 * DAY))])
        self.assertEqual(x["account_id"], "acct-piedpiper")
        self.assert_payload(x, want, t_before, h.now_ms())
        row = self.contact_row(env, l_id)
        self.assertEqual(row["plain"]["redirect_to"], s_id)
        row = self.contact_row(env, s_id)
        self.assertEqual(row["score"], ss.score)
        # the loser left its account; the survivor's account has the survivor's summary
        rows = self.accounts(env)
        self.assertEqual(rows["umbrella.example"]["member_list"], [])
        for aid in ("umbrella.example", "acct-piedpiper"):
            self.assert_account(rows[aid], model.accounts[aid])

        # the loser's later events reach the survivor; no second handoff for the cycle
        self.phases(env, d, model,
                    [h.email("mg-l6", t0 + 3 * HOUR, l_id, action="clicked", campaign="spring-launch")],
                    [h.form("mg-s4", t0 + 4 * HOUR, "a-ms", s_id, form_type="demo_request")])
        self.assertEqual(self.contact_row(env, s_id)["score"], ss.score)
        self.assertEqual(self.contact_row(env, s_id)["state"]["email_clicks"], 2)

        # a merge of a handed-off loser: the survivor counts as handed off
        self.phases(env, d, model,
                    [h.identity("mg-m2", t0 + 5 * HOUR, s2_id, kind="merge", merged=l2_id)],
                    [h.form("mg-s2-2", t0 + 6 * HOUR, "a-ms2", s2_id, form_type="contact_sales")])
        s2 = model.contacts[s2_id]
        self.assertEqual((s2.handoffs, s2.handed_off, s2.stage), ([], True, "conversation_ready"))
        row = self.contact_row(env, s2_id)
        self.assertEqual((row["handed_off"], row["stage"], row["cycle"]), (True, "conversation_ready", 1))
        self.assertEqual(self.contact_row(env, l2_id)["plain"]["redirect_to"], s2_id)
        got = self.ready(env)
        self.assertEqual(sorted(y["entity_id"] for y in got), sorted([s_id, l2_id]))
        self.assertEqual(self.lifecycle_of(env, s2_id), s2.lifecycle)
        rows = self.accounts(env)
        for aid in model.accounts:
            self.assert_account(rows[aid], model.accounts[aid])
        s = d.stop()
        self.assertEqual(s.handoffs_by_rule, {"high_intent": 1, "hand_raiser": 1})
        self.assertEqual(s.dead_letters, 0)

    def test_known_contact_survives_anonymous(self):
        env = self.env()
        d = env.daemon().start()
        model = m.PipelineModel()
        known, crm = "c-kay", "c-crm-4711"
        self.assertTrue(different_partitions(known, crm, self.partitions), "test design")
        self.phases(env, d, model,
                    [h.form("ks-1", T0, "a-kay", known, email="kay@piedpiper.example", title="Product Manager")],
                    [h.download("ks-2", T0 + HOUR, known, "wp-1", "Buyer's guide")])
        # a CRM merge names an id nothing was ever seen for as the survivor
        self.phases(env, d, model, [h.identity("ks-m", T0 + DAY, crm, kind="merge", merged=known)])
        self.assertEqual(model.merged, [(known, crm)])
        self.assertEqual(self.contact_row(env, crm)["plain"]["redirect_to"], known)
        row = self.contact_row(env, known)
        self.assertIsNone(row["plain"]["redirect_to"])
        self.assertEqual(row["score"], model.contacts[known].score)
        self.assertEqual(row["state"]["events"], 3)  # its two, and the merge record
        # events for the merged-away id reach the known contact; the merge record again is a repeat
        self.phases(env, d, model, [h.email("ks-3", T0 + DAY + HOUR, crm, action="clicked")],
                    [h.identity("ks-m", T0 + DAY, crm, kind="merge", merged=known)])
        row = self.contact_row(env, known)
        self.assertEqual(row["score"], model.contacts[known].score)
        self.assertEqual(row["state"]["email_clicks"], 1)
        rows = self.accounts(env)
        self.assertEqual({x["contact_id"] for x in rows["acct-piedpiper"]["member_list"]}, {known})
        self.assert_account(rows["acct-piedpiper"], model.accounts["acct-piedpiper"])
        s = d.stop()
        self.assertEqual(s.duplicates, 1)

    def test_repeats_change_nothing(self):
        env = self.env()
        d = env.daemon().start()
        model = m.PipelineModel()
        r1, r2, lo = "c-rep-1", "c-rep-2", "c-rep-lo"
        acct = dict(account_id="acct-repeat", industry="saas", employees=400, country="DE", region="EMEA")
        phases = [
            [h.web_visit("rp-1", T0, "a-rep-1", PIPER + "/blog/churn-101", title="Churn 101")],
            [h.form("rp-2", T0 + HOUR, "a-rep-1", r1, title="VP Sales", **acct)],
            [h.web_visit("rp-3", T0 + 2 * HOUR, "a-rep-1", PIPER + "/pricing", contact=r1, title="Pricing")],
            [h.download("rp-4", T0 + 3 * HOUR, r1, "wp-9", "Retention math", tags=["retention"])],
            [h.webinar("rp-5", T0 + 4 * HOUR, r1, "web-sec-9", "SOC 2 day", minutes=30)],
            [h.email("rp-6", T0 + 5 * HOUR, r1, action="clicked", campaign="integrations-z")],
            [h.form("rp-7", T0 + DAY, "a-rep-2", r2, title="Security Director", department="security", **acct)],
            [h.download("rp-8", T0 + DAY + HOUR, r2, "wp-9", "Retention math", tags=["retention"])],
            [h.identity("rp-9", T0 + DAY + 2 * HOUR, r1, kind="traits", trait_kw=dict(seniority="executive"))],
            [h.sales("rp-10", T0 + DAY + 3 * HOUR, r1, action="contacted"),
             h.sales("rp-11", T0 + DAY + 3 * HOUR, "acct-repeat", entity_type="account", action="meeting_booked")],
            [h.form("rp-12", T0 + DAY + 4 * HOUR, "a-rep-lo", lo, title="Analyst", **acct)],
            [h.identity("rp-13", T0 + DAY + 5 * HOUR, r1, kind="merge", merged=lo)],
            [h.form("rp-14", T0 + DAY + 6 * HOUR, "a-rep-2", r2, form_type="demo_request")],
        ]
        self.phases(env, d, model, *phases)
        self.assertEqual(model.merged, [(r1, lo)])
        self.assertEqual({k for k, c in model.contacts.items() if c.handoffs}, {r2})

        def snapshot():
            contacts = {r["contact_id"]: r for r in env.dump("contacts")}
            accounts = {r["account_id"]: r for r in env.dump("accounts")}
            outs = {k: [(r.key, r.value) for r in env.consume(k)] for k in ("conversation_ready", "lifecycle")}
            return contacts, accounts, outs

        contacts, accounts, outs = snapshot()
        self.assertEqual({c: r["score"] for c, r in contacts.items() if not h.avro_json_plain(r["state"])[
            "redirect_to"]}, {c: model.contacts[c].score for c in (r1, r2)})
        self.assertEqual(set(accounts), {"acct-repeat"})
        self.assert_account(self.accounts(env)["acct-repeat"], model.accounts["acct-repeat"])
        self.assertEqual(len([1 for _, v in outs["conversation_ready"]]), 1)

        # every input record again, byte for byte, then what the daemon keeps stable
        for topic, key, value in list(env.sent):
            env.producer.send(topic, key=key, value=value)
        env.flush()
        d.wait_caught_up()
        contacts2, accounts2, outs2 = snapshot()
        self.assertEqual(outs2, outs)
        self.assertEqual(accounts2, accounts)
        self.assertEqual(contacts2, contacts)
        s = d.stop()
        self.assertEqual(s.handoffs_by_rule, {"hand_raiser": 1})
        self.assertEqual(s.dead_letters, 0)


if __name__ == "__main__":
    h.main()
