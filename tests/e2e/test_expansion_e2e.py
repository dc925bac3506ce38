"""End to end, expansion: Globex becomes a customer by a `won` written with the older
SalesActivity schema (schemas/history/SalesActivity.v0.avsc, no product), then
buys crm by a `won` written with the current one (naming the product); two of its
people then take analytics material.  Inputs are encoded by python3-avro with the
single-object framing built here and produced by python3-kafka; the one
ConversationReady is consumed, decoded by python3-avro (the writer schema found by
its fingerprint) and checked field by field against values worked out here: the
handoff id by FNV-1a-64, the reasons as processors/account/account_expansion.c words
them; then the SlaBreach of its own accept clock (expansion.sla, 3 s), nobody having
answered it."""

import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import hftest as h  # noqa: E402
from hftest import DAY, HOUR, MINUTE, T0  # noqa: E402

ACCT = "acct-globex"
EXPANSION = """
expansion:
  team: account-management
  sla: { accept: { within: 3s, escalate_after: [] }, first_touch: { within: 0 }, follow_up: { within: 0 } }
  products:
    - name: analytics
      signals:
        - { points: 15, when: { asset_id: wp-analytics-* } }
        - { points: 15, when: { webinar_id: web-analytics, webinar_action: attended } }
    - name: crm
      signals:
        - { points: 15, when: { asset_id: wp-crm-* } }
  rules:
    - name: expansion_interest
      min_engaged: 2
      min_points: 30
"""


class ExpansionE2E(h.ClusterTestCase):
    def produce(self, env, record, key, datum, topic_key, version=None):
        """Encodes @datum as @record (@version: a history schema) and produces it;
        checks the framing against that schema's fingerprint."""
        value = env.avro.encode(record, datum, version)
        self.assertEqual(value[:2], b"\xc3\x01")
        (fp,) = struct.unpack("<Q", value[2:10])
        writer = env.avro.schema(record, version) if version else env.avro.schema(record)
        self.assertEqual(fp, writer.fingerprint)
        if version is None and record in h.CHECK_VALUES:
            self.assertEqual(fp, h.CHECK_VALUES[record])
        return env.send_raw(topic_key, key, value)

    def test_expansion_ready_field_by_field(self):
        env = self.env(config_edit=lambda text: text + EXPANSION)
        dm = env.daemon().start()
        people = [("c-gina", "a-gina"), ("c-hank", "a-hank")]
        for i, (cid, anon) in enumerate(people):
            ev = h.form("g-f%d" % i, T0 + i * MINUTE, anon, cid, form_id="gate", account_id=ACCT,
                        company_name="Globex", industry="retail", employees=40)
            self.produce(env, "FormSubmission", anon, ev.datum, "form_submissions")
        dm.wait_caught_up(timeout=60)

        # won, by a CRM still writing the older schema: a customer, no product named
        old = {"event_id": "g-won-1", "occurred_at": T0 + HOUR, "source": "salesforce", "entity_type": "account",
               "entity_id": ACCT, "handoff_id": None, "owner_id": "am-9", "action": "won", "reason": None,
               "channel": None}
        self.assertNotIn("product", {f.name for f in env.avro.schema("SalesActivity", "v0").schema.fields})
        self.produce(env, "SalesActivity", ACCT, old, "sales_activity", version="v0")
        # a second deal, current schema: crm
        new = dict(old, event_id="g-won-2", occurred_at=T0 + 2 * HOUR, product="crm")
        self.produce(env, "SalesActivity", ACCT, new, "sales_activity")
        dm.wait_caught_up(timeout=60)

        t_dl, t_web = T0 + DAY, T0 + DAY + HOUR
        self.produce(env, "ContentDownload", "c-gina",
                     h.download("g-d1", t_dl, "c-gina", "wp-analytics-101", "Analytics 101").datum,
                     "content_downloads")
        # crm material changes nothing: Globex has crm
        self.produce(env, "ContentDownload", "c-gina",
                     h.download("g-d2", t_dl + MINUTE, "c-gina", "wp-crm-tips", "CRM tips").datum,
                     "content_downloads")
        dm.wait_caught_up(timeout=60)
        self.assertEqual([x for _, x in env.decoded("conversation_ready")], [])
        t_before = h.now_ms()
        self.produce(env, "WebinarEvent", "c-hank",
                     h.webinar("g-w1", t_web, "c-hank", "web-analytics", "Analytics live", minutes=40).datum,
                     "webinar_attendance")
        dm.wait_caught_up(timeout=60)
        got = env.decoded("conversation_ready", expect=1)
        t_after = h.now_ms()
        self.assertEqual(len(got), 1, got)
        rec, x = got[0]
        self.assertEqual(rec.key, ACCT.encode())
        (fp,) = struct.unpack("<Q", rec.value[2:10])
        schema = env.avro.schema("ConversationReady")
        self.assertEqual(fp, schema.fingerprint)
        self.assertEqual(set(x), {f.name for f in schema.schema.fields})

        hid = "ho_%016x" % h.fnv1a64(b"account\x1facct-globex\x1fexpansion\x1fanalytics\x1f1")
        self.assertEqual(x["handoff_id"], hid)
        self.assertEqual((x["entity_type"], x["entity_id"], x["account_id"]), ("account", ACCT, ACCT))
        self.assertEqual((x["kind"], x["product"], x["rule"]), ("expansion", "analytics", "expansion_interest"))
        self.assertEqual(x["qualified_at"], t_web)
        self.assertTrue(t_before <= x["emitted_at"] <= t_after, (t_before, x["emitted_at"], t_after))
        self.assertEqual(x["stage_before"], "customer")
        self.assertEqual(x["routing"], {"team": "account-management", "region": None, "note": "account owner am-9"})
        # its own clocks (expansion.sla), round the clock: the fixture has no calendars
        self.assertEqual(x["sla"], {"accept_by": x["emitted_at"] + 3000, "first_touch_by": 0})
        reasons = [(r["rule"], r["points"], r["count"], r["detail"]) for r in x["reasons"]]
        self.assertEqual(reasons[:3], [
            ("expansion_interest", 0, 0, "members engaged with analytics 2 >= 2"),
            ("expansion_interest", 0, 0, "analytics points 30 >= 30"),
            ("expansion_interest", 0, 0, "customer without analytics"),
        ])
        self.assertEqual(sorted(reasons[3:]), [
            ("product:c-gina", 15, 1, "analytics: last Analytics 101"),
            ("product:c-hank", 15, 1, "analytics: last Analytics live"),
        ])
        j = x["journey"]
        self.assertEqual([(w["webinar_id"], w["at"]) for w in j["webinars"]], [("web-analytics", t_web)])
        self.assertEqual([(dl["asset_id"], dl["at"]) for dl in j["downloads"]],
                         [("wp-crm-tips", t_dl + MINUTE), ("wp-analytics-101", t_dl)])

        # nobody accepts it: its accept clock runs out, a breach of the expansion's handoff
        breaches = env.decoded("sla_breach", expect=1, timeout=30)
        self.assertEqual(len(breaches), 1, breaches)
        rec, b = breaches[0]
        self.assertEqual(rec.key, ACCT.encode())
        (fp,) = struct.unpack("<Q", rec.value[2:10])
        self.assertEqual(fp, env.avro.schema("SlaBreach").fingerprint)
        self.assertEqual(b, {"breach_id": h.breach_id(hid, "accept", 1), "handoff_id": hid,
                             "entity_type": "account", "entity_id": ACCT, "owner_id": None, "sla": "accept",
                             "due_at": x["sla"]["accept_by"], "breached_at": b["breached_at"], "level": 1})
        self.assertGreaterEqual(b["breached_at"], b["due_at"])

        # the lifecycle: known, then customer by the first won; no change for the expansion
        changes = [(y["from_stage"], y["to_stage"]) for _, y in env.decoded("lifecycle")
                   if y["entity_id"] == ACCT]
        self.assertEqual(changes[-1][1], "customer", changes)
        dm.stop()


if __name__ == "__main__":
    h.main()
