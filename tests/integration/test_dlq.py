"""Every kind of bad record lands on handoff.dlq with its reason, source topic,
partition, offset, key and original bytes; the daemon carries on and the partition
keeps moving: a good record behind the bad ones on the same partition is folded."""

import os
import re
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import hftest as h  # noqa: E402
from hftest import MINUTE, T0  # noqa: E402

SITE = "https://www.acme-analytics.example"
KEY = "a-dlq"  # every bad web visit goes under this key: one partition


def bad_records(avro_):
    """[(name, topic key, record key, value bytes, reason class, error regex)]."""
    good = h.web_visit("b-ok", T0, KEY, SITE + "/pricing", title="Pricing").encode(avro_)
    body = good[10:]
    out = [
        ("undecodable", "web_visits", KEY, b"GET /pricing HTTP/1.1\r\n", "framing",
         r"not single-object encoding: starts with 47 45"),
        ("unknown fingerprint", "web_visits", KEY, b"\xc3\x01" + struct.pack("<Q", 0x0123456789ABCDEF) + body,
         "unknown_schema", r"unknown schema fingerprint 0123456789abcdef"),
        ("truncated body", "web_visits", KEY, good[:len(good) - 9], "truncated", r"record ends inside field"),
        ("header only", "web_visits", KEY, good[:6], "framing", r"header is 6 bytes"),
        ("Confluent framing", "web_visits", KEY, h.confluent_frame(42, body), "unknown_schema",
         r"Confluent framing \(schema id 42\) is not supported"),
        ("trailing bytes", "web_visits", KEY, good + b"\x00\x00", "invalid", r"2 trailing bytes"),
        ("oversized field", "web_visits", KEY,
         h.web_visit("b-big", T0, KEY, SITE + "/" + "x" * (4999 - len(SITE))).encode(avro_), "limit",
         r"field url is 5000 bytes, over limits.max_field_bytes 2048"),
        ("too many tags", "content_downloads", "c-dlq",
         h.download("b-tags", T0, "c-dlq", "wp", "WP", tags=["t%d" % i for i in range(9)]).encode(avro_), "limit",
         r"tags has 9 items, over limits.max_tags 8"),
        ("wrong record type", "web_visits", KEY, h.email("b-wrong", T0, "c-dlq").encode(avro_), "wrong_topic",
         r"EmailEngagement record does not belong on .*mkt\.web\.visits"),
        ("an output record", "web_visits", KEY,
         avro_.encode("LifecycleChange", {"entity_type": "contact", "entity_id": "c-1", "from_stage": "known",
                                          "to_stage": "engaged", "at": T0, "cause": "x"}),
         "not_input", r"LifecycleChange .* is not an input record"),
        ("no value", "web_visits", KEY, None, "empty", r"no value"),
    ]
    for i, blocked in enumerate(["null", "undefined", "anonymous", "0", "-1", "", " Undefined "]):
        out.append(("blocked anonymous id %r" % blocked, "web_visits", KEY,
                    h.web_visit("b-anon-%d" % i, T0, blocked, SITE + "/").encode(avro_), "blocked_id",
                    r"anonymous_id is missing or blocked"))
    out.append(("blocked contact id on a contact topic", "content_downloads", "0",
                h.download("b-c0", T0, "0", "wp", "WP").encode(avro_), "blocked_id", r"contact id is missing or blocked"))
    out.append(("blocked ids in a form with an e-mail", "form_submissions", KEY,
                h.form("b-form", T0, "undefined", "-1", email="lee@private.example").encode(avro_), "blocked_id",
                r"blocked"))
    return out


class DeadLetters(h.ClusterTestCase):
    def test_every_bad_record_to_dlq(self):
        env = self.env()
        d = env.daemon().start()
        bad = bad_records(env.avro)
        placed = []
        t_before = h.now_ms()
        for name, topic, key, value, reason, rx in bad:
            partition, offset = env.send_raw(topic, key, value)
            placed.append((partition, offset))
        # a good record behind the bad ones, on the same partition
        part_ok, off_ok = env.send(h.web_visit("b-good", T0 + MINUTE, KEY, SITE + "/pricing", contact="c-dlq"))
        web_parts = {p for (n, t, k, v, r, x), (p, o) in zip(bad, placed) if t == "web_visits" and k == KEY}
        self.assertEqual(web_parts, {part_ok})
        d.wait_caught_up()
        t_after = h.now_ms()

        dl = env.decoded("dlq", expect=len(bad))
        self.assertEqual(len(dl), len(bad), [x for _, x in dl])
        by_coord = {(x["topic"], x["partition"], x["offset"]): (r, x) for r, x in dl}
        for (name, topic, key, value, reason, rx), (partition, offset) in zip(bad, placed):
            with self.subTest(record=name):
                coord = (env.topics[topic], partition, offset)
                self.assertIn(coord, by_coord)
                rec, x = by_coord.pop(coord)
                self.assertEqual(x["key"], key.encode())
                self.assertEqual(x["value"], value)
                self.assertRegex(x["error"], rx)
                self.assertNotIn("lee@", x["error"])
                self.assertGreaterEqual(x["at"], t_before)
                self.assertLessEqual(x["at"], t_after)
                self.assertEqual(rec.key, key.encode())  # the DLQ record keeps the input's key
        self.assertEqual(by_coord, {})

        # the good record behind them was folded
        rows = env.dump("contacts", "--id", "c-dlq")
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["score"], 11)
        self.assertEqual(rows[0]["last_event_ms"], T0 + MINUTE)
        offsets = {(o["topic"], o["partition"]): o["next_offset"] for o in env.dump("offsets")}
        self.assertEqual(offsets[(env.topics["web_visits"], part_ok)], off_ok + 1)

        s = d.stop()
        self.assertEqual(s.dead_letters, len(bad))
        want = {}
        for _, _, _, _, reason, _ in bad:
            want[reason] = want.get(reason, 0) + 1
        self.assertEqual(s.dead_letters_by_reason, want)
        self.assertFalse([l for l in d.log() if "lee@" in l or "private.example" in l])
        self.assertEqual(len([l for l in d.log() if re.search(r"\bdead letter\b", l)]), len(bad))
        self.assertIsNotNone(s.peak_rss_mib)

        # a restart resumes from the offsets in the store: only the new record is
        # read (and its re-keyed copy); --exit-when-idle stops it with a summary
        env.send(h.web_visit("b-later", T0 + 2 * MINUTE, KEY, SITE + "/docs", contact="c-dlq"))
        d2 = env.daemon("--exit-when-idle", "1")
        d2.start()
        self.assertEqual(d2.wait_exit(60), 0, d2.proc.tail())
        s2 = h.Summary(d2.proc.out)
        self.assertEqual((s2.folded, s2.handoffs), (1, 0))
        self.assertIn(s2.consumed, (1, 2))  # the visit (and its re-keyed copy, if it took the hop)
        self.assertEqual(s2.dead_letters, len(bad))  # totals persist across runs
        self.assertEqual(env.dump("contacts", "--id", "c-dlq")[0]["score"], 12)

    def test_exit_when_idle_without_input(self):
        """`--exit-when-idle S`: "stop once nothing arrived for S seconds"
        (handoffd --help); a replay over topics with nothing (new) in them must
        end too, with exit 0 and the summary, instead of running forever."""
        env = self.env()
        d = env.daemon("--exit-when-idle", "1")
        d.start()
        rc = d.wait_exit(20)  # group join ~3 s + 1 s idle
        self.assertEqual(rc, 0)
        s = h.Summary(d.proc.out)
        self.assertEqual(s.consumed, 0)


if __name__ == "__main__":
    h.main()
