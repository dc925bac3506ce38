"""End to end, SLA and feedback: inputs and SalesActivity records encoded by
python3-avro from schemas/*.avsc with single-object framing built here, produced by
python3-kafka; SlaBreach and LifecycleChange records consumed by python3-kafka,
decoded by python3-avro (writer schema found by its fingerprint) and checked field
by field against values worked out here: breach ids by FNV-1a-64, deadlines from
the handoff's sla block and the config's escalation delays, causes as
processors/sla/sla.c words them."""

import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import hftest as h  # noqa: E402
from hftest import MINUTE, T0  # noqa: E402

ACCEPT_MS, ESCALATE_MS, FIRST_TOUCH_MS = 3000, 2000, 5000


def config(text):
    return h.with_sla(text, accept="3s", accept_escalate=["2s"], first_touch="5s")


class SlaE2E(h.ClusterTestCase):
    def produce(self, env, record, key, datum, topic_key):
        """Encodes @datum as @record (single-object encoding) and produces it; checks
        the framing against the schema's fingerprint."""
        value = env.avro.encode(record, datum)
        self.assertEqual(value[:2], b"\xc3\x01")
        (fp,) = struct.unpack("<Q", value[2:10])
        self.assertEqual(fp, env.avro.schema(record).fingerprint)
        if record in h.CHECK_VALUES:
            self.assertEqual(fp, h.CHECK_VALUES[record])
        return env.send_raw(topic_key, key, value)

    def sales(self, env, eid, cid, action, handoff=None, owner="rep-7", reason=None, channel=None, at=None):
        at = h.now_ms() - 500 if at is None else at
        datum = {"event_id": eid, "occurred_at": at, "source": "salesforce", "entity_type": "contact",
                 "entity_id": cid, "handoff_id": handoff, "owner_id": owner, "action": action, "reason": reason,
                 "channel": channel}
        self.produce(env, "SalesActivity", cid, datum, "sales_activity")
        return at

    def hand_raise(self, env, eid, cid, at):
        traits = {f: None for f in h.TRAIT_FIELDS}
        traits.update(title="VP Sales", country="US")
        datum = {"event_id": eid, "occurred_at": at, "source": "web", "anonymous_id": "a-" + cid, "contact_id": cid,
                 "form_id": "demo", "form_type": "demo_request", "url": "https://www.example.test/demo",
                 "traits": traits}
        self.produce(env, "FormSubmission", "a-" + cid, datum, "form_submissions")

    def decoded_as(self, tail, name):
        for r, rname, datum in tail.items:
            self.assertEqual(rname, name, r)
            self.assertEqual(set(datum), {f.name for f in tail.env.avro.schema(name).schema.fields})
        return tail

    def test_breaches_escalation_acceptance_and_recycle(self):
        env = self.env(config_edit=config)
        tails = {}
        for k in ("conversation_ready", "sla_breach", "lifecycle"):
            tails[k] = h.TopicTail(env, k)
            self.addCleanup(tails[k].close)
        ready, breaches, lifecycle = tails["conversation_ready"], tails["sla_breach"], tails["lifecycle"]
        dm = env.daemon().start()
        late, taken = "c-e2e-late", "c-e2e-taken"
        t_late, t_taken = T0 + 10 * MINUTE, T0 + 11 * MINUTE
        self.hand_raise(env, "e2e-f1", late, t_late)
        self.hand_raise(env, "e2e-f2", taken, t_taken)
        ho = {x["entity_id"]: x for x in ready.wait(count=2, timeout=30, what="two handoffs")}
        self.assertEqual(set(ho), {late, taken})
        for cid in (late, taken):
            self.assertEqual(ho[cid]["handoff_id"], h.handoff_id(cid, 1))
            self.assertEqual(ho[cid]["sla"], {"accept_by": ho[cid]["emitted_at"] + ACCEPT_MS,
                                              "first_touch_by": ho[cid]["emitted_at"] + FIRST_TOUCH_MS})

        # rep-7 accepts one of them in time (and never calls)
        self.assertLess(h.now_ms(), ho[taken]["sla"]["accept_by"] - 1000, "test design: accept in time")
        t_acc = self.sales(env, "e2e-s1", taken, "accepted", handoff=ho[taken]["handoff_id"])

        # the other: accept level 1, level 2 (the last), and first_touch level 1
        want = [
            (late, "accept", 1, ho[late]["sla"]["accept_by"], None),
            (late, "accept", 2, ho[late]["sla"]["accept_by"] + ESCALATE_MS, None),
            (late, "first_touch", 1, ho[late]["sla"]["first_touch_by"], None),
            # accepted but not contacted: the breach names the owner
            (taken, "first_touch", 1, ho[taken]["sla"]["first_touch_by"], "rep-7"),
        ]
        breaches.wait(count=len(want), timeout=30, what="four breaches")
        # then a rejection: back to nurture
        t_rej = self.sales(env, "e2e-s2", taken, "rejected", handoff=ho[taken]["handoff_id"], reason="not a buyer")
        lifecycle.wait(lambda x: x["entity_id"] == taken and x["to_stage"] == "recycled", timeout=20,
                       what="recycled")
        # past every level that could still come (accept level 2 + its delay)
        breaches.settle(max(x[3] for x in want) + ESCALATE_MS + 1500)
        self.decoded_as(breaches, "SlaBreach")
        got = sorted(breaches.items, key=lambda it: (it[2]["entity_id"], it[2]["sla"], it[2]["level"]))
        want.sort(key=lambda w: (w[0], w[1], w[2]))
        self.assertEqual(len(got), len(want), [it[2] for it in got])
        for (rec, _, b), (cid, sla, level, due, owner) in zip(got, want):
            with self.subTest(breach=(cid, sla, level)):
                self.assertEqual(rec.key, cid.encode())
                self.assertEqual(b["breach_id"], h.breach_id(ho[cid]["handoff_id"], sla, level))
                self.assertRegex(b["breach_id"], r"^br_[0-9a-f]{16}$")
                self.assertEqual(b["handoff_id"], ho[cid]["handoff_id"])
                self.assertEqual(b["entity_type"], "contact")
                self.assertEqual(b["entity_id"], cid)
                self.assertEqual(b["owner_id"], owner)
                self.assertEqual(b["sla"], sla)
                self.assertEqual(b["due_at"], due)
                self.assertGreaterEqual(b["breached_at"], due)
                self.assertLess(b["breached_at"], due + 10000)
                self.assertEqual(b["level"], level)

        lifecycle.drain()
        self.decoded_as(lifecycle, "LifecycleChange")
        changes = [(r, x) for r, _, x in lifecycle.items if x["entity_id"] == taken]
        for r, _ in changes:
            self.assertEqual(r.key, taken.encode())
        self.assertEqual([x for _, x in changes], [
            {"entity_type": "contact", "entity_id": taken, "from_stage": "anonymous", "to_stage": "known",
             "at": t_taken, "cause": "first seen: form"},
            {"entity_type": "contact", "entity_id": taken, "from_stage": "known", "to_stage": "conversation_ready",
             "at": t_taken, "cause": "rule hand_raiser"},
            {"entity_type": "contact", "entity_id": taken, "from_stage": "conversation_ready",
             "to_stage": "accepted", "at": t_acc, "cause": "accepted by rep-7"},
            {"entity_type": "contact", "entity_id": taken, "from_stage": "accepted", "to_stage": "recycled",
             "at": t_rej, "cause": "rejected by rep-7: not a buyer"},
        ])
        # breaches move no lifecycle
        self.assertEqual([(x["from_stage"], x["to_stage"]) for _, _, x in lifecycle.items if x["entity_id"] == late],
                         [("anonymous", "known"), ("known", "conversation_ready")])
        s = dm.stop()
        self.assertEqual(s.handoffs, 2)
        self.assertEqual(s.dead_letters, 0)


if __name__ == "__main__":
    h.main()
