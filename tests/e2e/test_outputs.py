"""End to end: inputs encoded by python3-avro (single-object framing built by the
harness, not by the daemon's codec) and produced by python3-kafka; outputs
consumed by python3-kafka, decoded by python3-avro and checked field by field
against values worked out here by hand from tests/fixtures/handoff-test.yaml."""

import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import hftest as h  # noqa: E402
import model as m  # noqa: E402
from hftest import HOUR, MINUTE, T0, iso  # noqa: E402

SITE = "https://www.globex-analytics.example"
HALF_LIFE = 7 * 24 * HOUR


def d(dt_ms):
    """Decay factor over @dt_ms (half-life 7d)."""
    return 2.0 ** (-dt_ms / HALF_LIFE)


def di(dt_ms):
    """Decay factor of interests over @dt_ms (half-life 14d)."""
    return 2.0 ** (-dt_ms / (2 * HALF_LIFE))


def rnd(x):
    return int(x + 0.5)


class Outputs(h.ClusterTestCase):
    def step(self, env, daemon, *events):
        env.send_all(events)
        daemon.wait_caught_up(timeout=60)

    def test_conversation_ready_field_by_field(self):
        env = self.env()
        dm = env.daemon().start()
        cid, anon = "c-e2e-1", "a-e2e-1"
        t = {k: T0 + v * MINUTE for k, v in
             dict(home=0, pricing1=2, form=5, wp=10, webinar=20, open=25, click=26, pricing2=30, delivered=32,
                  ebook=40).items()}
        t_before = h.now_ms()
        # anonymous: buffered until the form names the contact
        self.step(env, dm,
                  h.web_visit("x-1", t["home"], anon, SITE + "/", session="s1", title="Home"),
                  h.web_visit("x-2", t["pricing1"], anon, SITE + "/pricing", session="s1", title="Pricing"))
        self.step(env, dm, h.form("x-3", t["form"], anon, cid, form_id="gate-roi", title="Head of Growth",
                                  employees=1200, region="NA", account_id="acct-globex", email="kim@globex.example",
                                  company_name="Globex"))
        # 2 + 10 + 15 = 27, then the whitepaper makes them engaged (47)
        self.step(env, dm, h.download("x-4", t["wp"], cid, "wp-roi", "The ROI of retention", tags=["roi"]))
        self.step(env, dm,
                  h.webinar("x-5", t["webinar"], cid, "web-7", "Retention live", minutes=30, campaign="q1"),
                  h.email("x-6", t["open"], cid, action="opened", campaign="q1-nurture"),
                  h.email("x-7", t["click"], cid, action="clicked", campaign="q1-launch", link_url=SITE + "/pricing"),
                  h.web_visit("x-8", t["pricing2"], anon, SITE + "/pricing", contact=cid, session="s2",
                              title="Pricing plans"),
                  h.email("x-9", t["delivered"], cid, action="delivered", campaign="q1-digest"))
        self.assertEqual(env.consume("conversation_ready"), [])
        # the ebook takes the score over 100: high_intent
        self.step(env, dm, h.download("x-10", t["ebook"], cid, "eb-churn", "Churn, explained", asset_type="ebook"))
        got = env.decoded("conversation_ready", expect=1)
        t_after = h.now_ms()
        self.assertEqual(len(got), 1)
        rec, x = got[0]
        self.assertEqual(rec.key, cid.encode())

        tf = t["ebook"]
        contrib = {
            "page_view": 1 * d(tf - t["home"]) + 1 * d(tf - t["pricing1"]) + 1 * d(tf - t["pricing2"]),
            "pricing_page": 10 * d(tf - t["pricing1"]) + 10 * d(tf - t["pricing2"]),
            "form_fill": 15 * d(tf - t["form"]),
            "whitepaper": 20 * d(tf - t["wp"]) + 20,
            "webinar_attended": 25 * d(tf - t["webinar"]),
            "email_open": 1 * d(tf - t["open"]),
            "email_click": 5 * d(tf - t["click"]),
        }
        score = rnd(sum(contrib.values()))
        self.assertEqual(score, 109)

        self.assertRegex(x["handoff_id"], r"^ho_[0-9a-f]{16}$")
        self.assertEqual(x["handoff_id"], h.handoff_id(cid, 1))
        self.assertEqual(x["entity_type"], "contact")
        self.assertEqual(x["entity_id"], cid)
        self.assertEqual(x["account_id"], "acct-globex")
        self.assertEqual(x["rule"], "high_intent")
        self.assertEqual(x["qualified_at"], tf)
        self.assertGreaterEqual(x["emitted_at"], t_before)
        self.assertLessEqual(x["emitted_at"], t_after)
        self.assertEqual(x["score"], score)
        self.assertEqual(x["fit_grade"], "A")  # head of 40 + 1200 employees 20
        self.assertEqual(x["stage_before"], "engaged")

        matches = {"page_view": (3, 0, t["pricing2"]), "pricing_page": (2, 0, t["pricing2"]),
                   "form_fill": (1, 0, t["form"]), "whitepaper": (2, 0, tf), "webinar_attended": (1, 0, t["webinar"]),
                   "email_open": (1, 0, t["open"]), "email_click": (1, 0, t["click"])}
        want_reasons = [
            {"rule": "high_intent", "points": 0, "count": 0, "detail": "score 109 >= 100"},
            {"rule": "high_intent", "points": 0, "count": 0, "detail": "fit grade A (>= B)"},
            {"rule": "high_intent", "points": 0, "count": 0, "detail": "pricing_page within 30d"},
        ]
        for name in ["whitepaper", "webinar_attended", "pricing_page", "form_fill", "email_click", "page_view",
                     "email_open"]:
            n, capped, last = matches[name]
            want_reasons.append({"rule": name, "points": rnd(contrib[name]), "count": n,
                                 "detail": "%d match%s, last %s" % (n, "" if n == 1 else "es", iso(last))})
        want_reasons += [{"rule": "fit:senior_title", "points": 40, "count": 1, "detail": "title Head of Growth"},
                         {"rule": "fit:target_size", "points": 20, "count": 1, "detail": "employees 1200"}]
        self.assertEqual([r["points"] for r in want_reasons[3:10]], [40, 25, 20, 15, 5, 3, 1])
        self.assertEqual(len(x["reasons"]), len(want_reasons), x["reasons"])
        for i, (g, w) in enumerate(zip(x["reasons"], want_reasons)):
            with self.subTest(reason=i):
                self.assertEqual(g, w)

        j = x["journey"]
        self.assertEqual(j["first_seen"], t["home"])
        self.assertEqual(j["known_since"], t["form"])
        self.assertEqual(j["sessions"], 2)
        self.assertEqual(j["page_views"], 3)
        self.assertEqual(j["top_pages"], [{"url": SITE + "/pricing", "title": "Pricing plans", "views": 2},
                                          {"url": SITE + "/", "title": "Home", "views": 1}])
        self.assertEqual(j["downloads"], [
            {"asset_id": "eb-churn", "title": "Churn, explained", "type": "ebook", "at": tf},
            {"asset_id": "wp-roi", "title": "The ROI of retention", "type": "whitepaper", "at": t["wp"]}])
        self.assertEqual(j["webinars"], [{"webinar_id": "web-7", "title": "Retention live", "action": "attended",
                                          "minutes": 30, "at": t["webinar"]}])
        # a delivered e-mail is the sender's doing: neither a touch nor the last campaign
        self.assertEqual(j["email"], {"opens": 1, "clicks": 1, "last_campaign": "q1-launch"})
        want_recent = [
            {"at": tf, "type": "download", "title": "Churn, explained", "detail": "ebook"},
            {"at": t["pricing2"], "type": "web_visit", "title": "Pricing plans", "detail": SITE + "/pricing"},
            {"at": t["click"], "type": "email", "title": "q1-launch", "detail": "clicked"},
            {"at": t["open"], "type": "email", "title": "q1-nurture", "detail": "opened"},
            {"at": t["webinar"], "type": "webinar", "title": "Retention live", "detail": "attended, 30 min"},
            {"at": t["wp"], "type": "download", "title": "The ROI of retention", "detail": "whitepaper"},
            {"at": t["form"], "type": "form", "title": "gate-roi", "detail": "content_gate"},
            {"at": t["pricing1"], "type": "web_visit", "title": "Pricing", "detail": "before known"},
        ]
        self.assertEqual(len(j["recent"]), m.JOURNEY_RECENT)
        for i, (g, w) in enumerate(zip(j["recent"], want_recent)):
            with self.subTest(touch=i):
                self.assertEqual(g, w)
        self.assertEqual([r["at"] for r in j["recent"]], sorted((r["at"] for r in j["recent"]), reverse=True))

        # interests: the ROI whitepaper and the two pricing pages, decayed
        # over interests.half_life (14d) to the newest event
        want_interests = [("roi", 1.5 * di(tf - t["wp"])),
                          ("pricing and plans", 0.5 * di(tf - t["pricing1"]) + 0.5 * di(tf - t["pricing2"]))]
        self.assertEqual([i["topic"] for i in x["interests"]], [w[0] for w in want_interests])
        for g, (_, w) in zip(x["interests"], want_interests):
            self.assertAlmostEqual(g["weight"], w, delta=1e-5)
        # alone in acct-globex: nobody else in its buying group, its own role covered
        # (the roster stage 3 sent when it became engaged)
        self.assertEqual(x["buying_group"], [])
        self.assertEqual(x["roles_covered"], ["decision_maker"])
        # no route covers NA without a country: flagged, not dropped
        self.assertEqual((x["routing"]["team"], x["routing"]["region"]), (None, "NA"))
        self.assertEqual(x["routing"]["note"], "no team covers region NA")
        self.assertEqual(x["sla"]["accept_by"], x["emitted_at"] + 4 * HOUR)
        self.assertEqual(x["sla"]["first_touch_by"], x["emitted_at"] + 24 * HOUR)
        self.assertGreater(x["sla"]["accept_by"], x["emitted_at"])

        # the same handoff, computed by the model, agrees in every field
        model = m.PipelineModel()
        for _, _, value in env.sent:
            name, datum = h.AVRO.decode(value)
            model.fold(name, datum)
        for k, v in model.contacts[cid].handoffs[0].items():
            if k == "interests":  # single precision, computed twice
                self.assertEqual([i["topic"] for i in x[k]], [i["topic"] for i in v])
                for g, w in zip(x[k], v):
                    self.assertAlmostEqual(g["weight"], w["weight"], delta=1e-6)
            else:
                self.assertEqual(x[k], v, k)

        # lifecycle changes (the contact's; acct-globex has changes of its own)
        lc = [(r, y) for r, y in env.decoded("lifecycle") if y["entity_type"] == "contact"]
        self.assertEqual([r.key for r, _ in lc], [cid.encode()] * 3)
        engaged_at_wp = rnd(1 * d(t["wp"] - t["home"]) + 11 * d(t["wp"] - t["pricing1"]) + 15 * d(t["wp"] - t["form"])
                            + 20)
        self.assertEqual(engaged_at_wp, 47)
        self.assertEqual([x for _, x in lc], [
            {"entity_type": "contact", "entity_id": cid, "from_stage": "anonymous", "to_stage": "known",
             "at": t["home"], "cause": "first seen: web_visit"},
            {"entity_type": "contact", "entity_id": cid, "from_stage": "known", "to_stage": "engaged",
             "at": t["wp"], "cause": "score 47 >= engaged_score 30"},
            {"entity_type": "contact", "entity_id": cid, "from_stage": "engaged", "to_stage": "conversation_ready",
             "at": tf, "cause": "rule high_intent"},
        ])
        s = dm.stop()
        self.assertEqual(s.handoffs_by_rule, {"high_intent": 1})
        self.assertFalse([l for l in dm.log() if "kim@" in l])

    def test_dead_letters_decoded(self):
        env = self.env()
        dm = env.daemon().start()
        good = h.web_visit("y-1", T0, "a-y", SITE + "/", title="Home").encode(h.AVRO)
        bad = [
            ("web_visits", b"a-y", b"\xc3\x01\x00", r"header is 3 bytes"),
            ("web_visits", b"a-y", good[:2] + struct.pack("<Q", 0xFEEDFACECAFEBEEF) + good[10:],
             r"unknown schema fingerprint feedfacecafebeef"),
            ("web_visits", b"a-y", h.web_visit("y-2", T0, "undefined", SITE + "/").encode(h.AVRO),
             r'anonymous_id is missing or blocked \("undefined"\)'),
            ("email_engagement", b"c-y", h.email("y-3", T0, "c-y").encode(h.AVRO)[:-3], r"record ends"),
        ]
        t_before = h.now_ms()
        placed = [env.send_raw(topic, key, value) for topic, key, value, _ in bad]
        env.send(h.web_visit("y-4", T0 + MINUTE, "a-y", SITE + "/pricing", contact="c-y"))
        dm.wait_caught_up()
        t_after = h.now_ms()
        got = env.decoded("dlq", expect=len(bad))
        self.assertEqual(len(got), len(bad))
        got = {(x["topic"], x["partition"], x["offset"]): (r, x) for r, x in got}
        for (topic, key, value, rx), (partition, offset) in zip(bad, placed):
            with self.subTest(offset=offset, topic=topic):
                r, x = got[(env.topics[topic], partition, offset)]
                self.assertEqual(set(x), {"topic", "partition", "offset", "key", "value", "error", "at"})
                self.assertEqual(x["key"], key)
                self.assertEqual(x["value"], value)  # the original bytes
                self.assertRegex(x["error"], rx)
                self.assertTrue(t_before <= x["at"] <= t_after)
                self.assertEqual(r.key, key)
        # the DeadLetter records themselves are single-object encoded with the current schema
        raw = env.consume("dlq")
        self.assertTrue(all(r.value[:10] == h.AVRO.current["DeadLetter"].header for r in raw))
        dm.stop()

    def test_older_writer_schema_accepted(self):
        env = self.env()
        dm = env.daemon().start()
        cid, anon = "c-v0", "a-v0"
        old = h.web_visit("z-1", T0, anon, SITE + "/pricing", title="Pricing", version="v0")
        value = old.encode(h.AVRO)
        self.assertEqual(struct.unpack("<Q", value[2:10])[0], h.AVRO.history["WebVisit.v0"].fingerprint)
        self.assertNotEqual(value[2:10], h.AVRO.current["WebVisit"].header[2:])
        env.send_raw("web_visits", anon, value)
        env.send(h.web_visit("z-2", T0 + MINUTE, anon, SITE + "/docs", title="Docs", contact=cid,
                             version="v0"))
        dm.wait_caught_up()
        self.step(env, dm, h.form("z-3", T0 + 2 * MINUTE, anon, cid, form_type="contact_sales"))
        self.assertEqual(env.consume("dlq"), [])
        got = env.decoded("conversation_ready", expect=1)
        self.assertEqual(len(got), 1)
        x = got[0][1]
        self.assertEqual(x["rule"], "hand_raiser")
        self.assertEqual(x["reasons"][0]["detail"], "contact_sales form")
        self.assertEqual(x["journey"]["page_views"], 2)
        self.assertEqual(sorted(p["url"] for p in x["journey"]["top_pages"]), [SITE + "/docs", SITE + "/pricing"])
        # 1 + 10 (pricing) + 1 + 15 (form), decayed over minutes
        self.assertEqual(x["score"], rnd(11 * d(2 * MINUTE) + 1 * d(MINUTE) + 15))
        row = env.dump("contacts", "--id", cid)[0]
        self.assertEqual(row["score"], 27)
        s = dm.stop()
        self.assertEqual(s.dead_letters, 0)


if __name__ == "__main__":
    h.main()
