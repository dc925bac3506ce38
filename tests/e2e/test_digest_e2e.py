"""End to end, the daily digest: a hand-raiser and its acceptance encoded by
python3-avro with single-object framing built here; the Digest records of
topics.digest consumed by python3-kafka, decoded by python3-avro (writer schema by
its fingerprint), re-encoded by python3-avro to the very same bytes, and checked
field by field: the id by FNV-1a-64 over team, owner and date, the key, the window,
the waiting case and the standing.  No calendar: digests go out every day at 08:30
UTC, reached on a simulated clock (HANDOFF_CLOCK) at 3600x."""

import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import hftest as h  # noqa: E402

TEAM = "na-commercial"
DAY = 24 * h.HOUR


def config(text):
    text = h.with_sla(text, accept="2h", first_touch="14h")
    return h.yaml_set_block(text, "digest", "digest:\n  enabled: true\n  at: 8h30m\n")


def digest_id(team, owner, date):
    data = b"%s\x1f%s\x1f%s" % (team.encode(), (owner or "").encode(), date.encode())
    return "dg_%016x" % h.fnv1a64(data)


class DigestE2E(h.ClusterTestCase):
    def produce(self, env, record, key, datum, topic_key):
        value = env.avro.encode(record, datum)
        (fp,) = struct.unpack("<Q", value[2:10])
        self.assertEqual((value[:2], fp), (b"\xc3\x01", env.avro.schema(record).fingerprint))
        return env.send_raw(topic_key, key, value)

    def test_digest_records_decode_and_match(self):
        env = self.env(config_edit=config)
        ready, digests = (h.TopicTail(env, k) for k in ("conversation_ready", "digest"))
        self.addCleanup(ready.close)
        self.addCleanup(digests.close)
        start = h.local_ms("UTC", 2026, 12, 6, 20, 0, 0)  # Sunday 20:00 UTC
        anchor = h.now_ms() + 2000
        d = env.daemon(environ={"HANDOFF_CLOCK": "%d@%dx3600" % (start, anchor)}).start()
        d.proc.wait_for(r"wall clock is simulated", timeout=5)

        traits = {f: None for f in h.TRAIT_FIELDS}
        traits.update(title="VP Sales", country="US")
        self.produce(env, "FormSubmission", "a-e1",
                     {"event_id": "e-f1", "occurred_at": h.T0, "source": "web", "anonymous_id": "a-e1",
                      "contact_id": "c-e1", "form_id": "demo", "form_type": "demo_request",
                      "url": "https://www.example.test/demo", "traits": traits}, "form_submissions")
        ho = ready.wait(timeout=30, what="the handoff")[0]
        at_0830 = h.local_ms("UTC", 2026, 12, 7, 8, 30, 0)
        self.assertLess(start + (h.now_ms() - anchor) * 3600, at_0830 - h.HOUR, "test design: before 08:30")
        self.assertEqual(ho["routing"]["team"], TEAM)
        self.produce(env, "SalesActivity", "c-e1",
                     {"event_id": "e-s1", "occurred_at": h.T0, "source": "salesforce", "entity_type": "contact",
                      "entity_id": "c-e1", "handoff_id": ho["handoff_id"], "owner_id": "rep-7",
                      "action": "accepted", "reason": None, "channel": None}, "sales_activity")

        digests.wait(count=2, timeout=40, what="rep-7's and the team's digests")
        d.stop()
        seen = {}
        for r, name, datum in digests.items:
            self.assertEqual(name, "Digest")
            info = env.avro.schema("Digest")
            self.assertEqual(struct.unpack("<Q", r.value[2:10])[0], info.fingerprint)
            # the daemon's bytes are python3-avro's bytes
            self.assertEqual(env.avro.encode("Digest", datum), bytes(r.value))
            self.assertEqual(set(datum), {f.name for f in info.schema.fields})
            self.assertEqual(r.key, TEAM.encode())
            if datum["date"] == "2026-12-07":
                seen[datum["owner_id"]] = datum
        self.assertEqual(set(seen), {"rep-7", None}, digests.data())
        for owner, x in seen.items():
            self.assertEqual(x["digest_id"], digest_id(TEAM, owner, "2026-12-07"))
            self.assertEqual(x["team"], TEAM)
            # no calendar: every day, in UTC; the first window is the day before
            self.assertEqual((x["window_start"], x["window_end"]), (at_0830 - DAY, at_0830))
            self.assertEqual(len(x["waiting"]), 1)
            w = x["waiting"][0]
            self.assertEqual((w["handoff_id"], w["entity_type"], w["entity_id"], w["owner_id"]),
                             (ho["handoff_id"], "contact", "c-e1", "rep-7"))
            self.assertEqual(w["handed_off_at"], ho["emitted_at"])
            # accepted: the first touch is what it waits for
            self.assertEqual(w["next_deadline"], ho["sla"]["first_touch_by"])
            self.assertEqual((x["breaches"], x["won"], x["lost"]), ([], [], []))
            self.assertEqual(x["team_standing"]["open"], 1)
        self.assertEqual(seen["rep-7"]["standing"]["open"], 1)
        self.assertIsNone(seen["rep-7"]["rank"])  # nothing met or breached yet
        self.assertEqual(seen["rep-7"]["ranked"], 0)
        self.assertIsNone(seen[None]["owner_id"])


if __name__ == "__main__":
    h.main()
