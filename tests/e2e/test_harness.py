"""The harness checks itself: its Avro side against the check values of
docs/CONTRACTS.md and python3-avro, its ids against hand-computed values, its model
against numbers worked out by hand.  Needs no binaries and no broker."""

import json
import os
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import avro.schema  # noqa: E402

import hftest as h  # noqa: E402
import model as m  # noqa: E402
from hftest import DAY, HOUR, T0  # noqa: E402


class AvroSide(unittest.TestCase):
    def test_fingerprints_match_contract_check_values(self):
        for name, want in h.CHECK_VALUES.items():
            with self.subTest(record=name):
                self.assertEqual("%016x" % h.AVRO.current[name].fingerprint, "%016x" % want)

    def test_every_contract_record_has_a_schema(self):
        self.assertEqual(set(h.INPUT_RECORDS) | set(h.OUTPUT_RECORDS), set(h.AVRO.current))

    def test_canonical_form_agrees_with_python3_avro(self):
        # python3-avro 1.11.1 keeps {"type":"long"} for a long carrying a logicalType,
        # so compare on the schema without logicalType (which the PCF drops anyway);
        # with it, the library's form misses the check value.
        for name, info in h.AVRO.current.items():
            with self.subTest(record=name):
                lib = avro.schema.parse(json.dumps(h._strip_logical_types(info.json))).canonical_form
                self.assertEqual(info.pcf, lib)
        raw = avro.schema.parse(json.dumps(h.AVRO.current["WebVisit"].json)).canonical_form
        if raw != h.AVRO.current["WebVisit"].pcf:
            self.assertNotEqual(h.crc64_avro(raw.encode()), h.CHECK_VALUES["WebVisit"])

    def test_canonical_form_rules(self):
        # full names, stripped attributes, primitives simplified, a named type written once
        s = {"type": "record", "name": "R", "namespace": "n.s", "doc": "x", "fields": [
            {"name": "a", "type": {"type": "int"}, "default": 1, "doc": "d"},
            {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["x", "y"], "aliases": ["q"]}},
            {"name": "f", "type": ["null", "E"]},
            {"name": "g", "type": {"type": "array", "items": {"type": "long", "logicalType": "timestamp-millis"}}},
        ]}
        self.assertEqual(h.canonical_form(s),
                         '{"name":"n.s.R","type":"record","fields":[{"name":"a","type":"int"},'
                         '{"name":"e","type":{"name":"n.s.E","type":"enum","symbols":["x","y"]}},'
                         '{"name":"f","type":["null","n.s.E"]},'
                         '{"name":"g","type":{"type":"array","items":"long"}}]}')

    def test_crc64_avro(self):
        self.assertEqual(h.crc64_avro(b""), 0xC15D213AA4D7A795)
        # the spec's example: the fingerprint of the schema "int"
        self.assertEqual(h.crc64_avro(b'"int"'), 0x7275D51A3F395C8F)

    def test_single_object_round_trip_of_every_input(self):
        events = [
            h.web_visit("e1", T0, "a-1", "https://acme.example/pricing", title="Pricing", country="DE",
                        utm_source="google"),
            h.form("e2", T0, "a-1", "c-1", form_type="demo_request", title="VP Sales", employees=250,
                   email="x@acme.example"),
            h.identity("e3", T0, "c-1", kind="merge", merged="c-0"),
            h.download("e4", T0, "c-1", "wp-1", "Guide", tags=["churn", "retention"]),
            h.webinar("e5", T0, "c-1", "w-1", "Live demo", minutes=30, questions=2),
            h.email("e6", T0, "c-1", action="clicked", link_url="https://acme.example/x"),
            h.sales("e7", T0, "c-1", action="rejected", reason="no budget"),
        ]
        for ev in events:
            with self.subTest(record=ev.record):
                buf = ev.encode(h.AVRO)
                self.assertEqual(buf[:2], b"\xc3\x01")
                self.assertEqual(struct.unpack("<Q", buf[2:10])[0], h.CHECK_VALUES[ev.record])
                name, datum = h.AVRO.decode(buf)
                self.assertEqual(name, ev.record)
                self.assertEqual(datum, ev.datum)

    def test_older_writer_resolves_to_current_reader(self):
        ev = h.web_visit("e1", T0, "a-1", "https://acme.example/", version="v0")
        buf = ev.encode(h.AVRO)
        v0 = h.AVRO.history["WebVisit.v0"]
        self.assertNotEqual(v0.fingerprint, h.AVRO.current["WebVisit"].fingerprint)
        self.assertEqual(struct.unpack("<Q", buf[2:10])[0], v0.fingerprint)
        name, datum = h.AVRO.decode(buf, reader_name="WebVisit")
        self.assertEqual(name, "WebVisit")
        self.assertIsNone(datum["country"])
        self.assertEqual(datum["url"], "https://acme.example/")

    def test_decode_rejects_garbage(self):
        with self.assertRaises(ValueError):
            h.AVRO.decode(b"\x00\x00\x00\x00\x01junk")
        with self.assertRaises(ValueError):
            h.AVRO.decode(b"\xc3\x01" + b"\x00" * 8 + b"x")
        good = h.email("e1", T0, "c-1").encode(h.AVRO)
        with self.assertRaises(ValueError):
            h.AVRO.decode(good + b"\x00")


class Ids(unittest.TestCase):
    def test_fnv1a64_reference_values(self):
        self.assertEqual(h.fnv1a64(b""), 0xCBF29CE484222325)
        self.assertEqual(h.fnv1a64(b"a"), 0xAF63DC4C8601EC8C)
        self.assertEqual(h.fnv1a64(b"foobar"), 0x85944171F73967E8)

    def test_handoff_id_format(self):
        hid = h.handoff_id("c-17")
        self.assertRegex(hid, r"^ho_[0-9a-f]{16}$")
        self.assertEqual(hid, "ho_%016x" % h.fnv1a64(b"contact\x1fc-17\x1f1"))
        self.assertNotEqual(hid, h.handoff_id("c-17", cycle=2))

    def test_murmur2_matches_python3_kafka(self):
        from kafka.partitioner.default import murmur2
        for i in range(500):
            key = ("contact-%d" % (i * 7919)).encode()[: i % 23]
            self.assertEqual(h.murmur2_partition(key, 6), (murmur2(key) & 0x7FFFFFFF) % 6)
        # Java's reference: murmur2("21") -> -973932308
        self.assertEqual(murmur2(b"21") & 0xFFFFFFFF, (-973932308) & 0xFFFFFFFF)


class Processes(unittest.TestCase):
    def test_sanitizer_reports_fail_the_test(self):
        h.assert_no_sanitizer_reports("x", ["2026-03-02T09:00:00Z info  main  fine"])
        for line in ["../daemon/x.c:12:5: runtime error: signed integer overflow",
                     "==123==ERROR: AddressSanitizer: heap-use-after-free on address 0x6020",
                     "==123==ERROR: LeakSanitizer: detected memory leaks"]:
            with self.assertRaises(AssertionError):
                h.assert_no_sanitizer_reports("x", ["ok", line])

    def test_wait_for_is_bounded(self):
        d = h.scratch_dir("proc")
        p = h.Proc("sh", ["/bin/sh", "-c", "echo one; echo two >&2; exec cat"], d)
        try:
            self.assertEqual(p.wait_for(r"^one$", timeout=10, stream="out")[0], 0)
            self.assertEqual(p.wait_for(r"^two$", timeout=10)[0], 0)
            t = time.monotonic()
            with self.assertRaises(AssertionError):
                p.wait_for(r"^three$", timeout=0.3)
            self.assertLess(time.monotonic() - t, 5)
        finally:
            p.kill()
        self.assertFalse(p.running())


class YamlEdits(unittest.TestCase):
    def test_fixture_rewritten_per_namespace(self):
        text = h.read_fixture("handoff-test.yaml")
        text = h.yaml_set_block(text, "app", "app:\n  id: ns1\n")
        text = h.yaml_set(text, "state", "path", '"/tmp/x"')
        text = h.yaml_set(text, "kafka", "brokers", '"127.0.0.1:1"')
        self.assertIn("app:\n  id: ns1\n", text)
        self.assertIn('  path: "/tmp/x"\n', text)
        self.assertIn('  brokers: "127.0.0.1:1"\n', text)
        self.assertIn("  commit_interval: 200ms\n", text)
        self.assertEqual(len([l for l in text.splitlines() if l.startswith("app:")]), 1)
        self.assertIn("session.timeout.ms", text)


class Model(unittest.TestCase):
    """The model against numbers worked out by hand from the fixture's rules."""

    def fold(self, *events):
        c = m.ContactModel("c-1")
        for ev in events:
            c.fold(ev.record, ev.datum)
        return c

    def test_caps_per_day(self):
        # 3 pricing visits in one day: page_view 3 x 1, pricing_page capped at 2 x 10
        c = self.fold(*[h.web_visit("v%d" % i, T0 + i * HOUR, "a", "https://x/pricing", contact="c-1")
                        for i in range(3)])
        d = m.decay
        self.assertAlmostEqual(c.score_at(T0 + 2 * HOUR), 11 * d(2 * HOUR) + 11 * d(HOUR) + 1, places=9)
        self.assertEqual(c.score, 23)  # 22.86
        self.assertEqual(c.stats["pricing_page"].capped, 1)
        # the next day the cap window has moved on
        c.fold("WebVisit", h.web_visit("v9", T0 + DAY, "a", "https://x/pricing", contact="c-1").datum)
        self.assertEqual(len(c.stats["pricing_page"].awards), 3)

    def test_half_life(self):
        c = self.fold(h.download("d1", T0, "c-1", "a", "A"), h.email("e1", T0 + 7 * DAY, "c-1", action="delivered"))
        # 20 points, one half-life later: 10 (the e-mail scores nothing but is the newest event)
        self.assertEqual(c.score, 10)
        c = self.fold(h.download("d1", T0, "c-1", "a", "A"), h.download("d2", T0 + 14 * DAY, "c-1", "b", "B"))
        self.assertEqual(c.score, 25)  # 20/4 + 20

    def test_floor(self):
        # careers first: -15 clamps to 0; then a whitepaper: 20
        c = self.fold(h.web_visit("v1", T0, "a", "https://x/careers", contact="c-1"),
                      h.download("d1", T0 + 1000, "c-1", "a", "A"))
        self.assertTrue(c.clamped)
        self.assertEqual(c.score, 20)

    def test_late_event(self):
        c = self.fold(h.download("d1", T0 + 7 * DAY, "c-1", "a", "A"), h.download("d0", T0, "c-1", "b", "B"))
        self.assertEqual(c.score, 30)  # 20 + 20/2

    def test_duplicate_folded_once(self):
        d = h.download("d1", T0, "c-1", "a", "A")
        c = self.fold(d, d)
        self.assertEqual(c.score, 20)
        self.assertEqual(c.folded, 1)

    def test_grades_and_exclusions(self):
        c = self.fold(h.form("f1", T0, "a", "c-1", title="VP Marketing", employees=250))
        self.assertEqual(c.grade, "A")
        c = self.fold(h.form("f1", T0, "a", "c-1", title="Head of Ops"))
        self.assertEqual(c.grade, "B")
        c = self.fold(h.form("f1", T0, "a", "c-1", title="VP Marketing", employees=250, email="a@rival.example"))
        self.assertEqual(c.grade, "F")

    def test_stitching_keeps_newest(self):
        p = m.PipelineModel()
        for i in range(8):
            p.fold("WebVisit", h.web_visit("v%d" % i, T0 + i * 1000, "a", "https://x/p%d" % i).datum)
        p.fold("FormSubmission", h.form("f1", T0 + 9000, "a", "c-1").datum)
        c = p.contacts["c-1"]
        self.assertEqual(c.journey.page_views, 5)
        self.assertEqual(c.first_seen, T0 + 3000)
        self.assertEqual(p.anon["a"].evicted, 3)

    def test_hand_raiser_once(self):
        c = self.fold(h.form("f1", T0, "a", "c-1", form_type="demo_request"),
                      h.form("f2", T0 + 1000, "a", "c-1", form_type="contact_sales"))
        self.assertEqual([x["rule"] for x in c.handoffs], ["hand_raiser"])
        self.assertEqual(c.handoffs[0]["stage_before"], "known")
        self.assertEqual([(x["from_stage"], x["to_stage"]) for x in c.lifecycle],
                         [("anonymous", "known"), ("known", "conversation_ready")])


if __name__ == "__main__":
    h.main()
