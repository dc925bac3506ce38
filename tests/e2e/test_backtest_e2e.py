"""End to end: records encoded by python3-avro and produced by python3-kafka, read
back by `handoffctl backtest --brokers` (every partition of the input topics, no
consumer group) and replayed through tests/fixtures/handoff-test.yaml and a variant
in which a demo request no longer hands a contact over at once.

Three people: c-bt-1 asks for a demo (a hand-raiser under the fixture only), c-bt-2
asks to be contacted by sales (a hand-raiser under both), c-bt-3 only reads the blog
(nobody's).  The report must name c-bt-1 alone, under hand_raiser, with the
handoff id worked out here and the reasons the daemon gives; its totals must count
two hand-raisers against one; --topics naming only the form topic gives the same
differences (without the pricing visit among the reasons); a time range that ends before the demo request leaves none."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import hftest as h  # noqa: E402
from hftest import MINUTE, T0, iso  # noqa: E402

SITE = "https://www.initech-analytics.example"


def iso_ms(ms):
    """The report's times: ISO 8601 with milliseconds."""
    return "%s.%03dZ" % (iso(ms)[:-1], ms % 1000)


def no_demo_hand_raiser(text):
    line = "    forms: [demo_request, contact_sales]\n"
    assert line in text
    return text.replace(line, "    forms: [contact_sales]\n", 1)


class Backtest(h.ClusterTestCase):
    def test_backtest_reads_the_topics(self):
        env = self.env()
        variant = os.path.join(env.dir, "variant.yaml")
        with open(env.config_path, encoding="utf-8") as f:
            text = f.read()
        with open(variant, "w", encoding="utf-8") as f:
            f.write(no_demo_hand_raiser(text))
        env.send_all([
            h.web_visit("bt-1", T0, "a-bt-1", SITE + "/pricing", title="Pricing"),
            h.form("bt-2", T0 + 5 * MINUTE, "a-bt-1", "c-bt-1", form_type="demo_request", form_id="demo",
                   title="VP Sales", employees=400, email="ann@initech.example", company_name="Initech"),
            h.web_visit("bt-3", T0 + 10 * MINUTE, "a-bt-2", SITE + "/", title="Home"),
            h.form("bt-4", T0 + 60 * MINUTE, "a-bt-2", "c-bt-2", form_type="contact_sales", form_id="talk",
                   title="Head of Growth", employees=900, email="bo@initech.example", company_name="Initech"),
            h.web_visit("bt-5", T0 + 90 * MINUTE, "a-bt-3", SITE + "/blog/churn", contact="c-bt-3", title="Blog"),
        ])

        def backtest(*extra):
            r = env.ctl("backtest", "--baseline", env.config_path, "--rules", variant, "--brokers", env.address,
                        "--json", *extra, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            return json.loads(r.stdout)

        report = backtest()
        self.assertEqual(report["records"], 5)
        self.assertEqual(report["first_event"], iso_ms(T0))
        self.assertEqual([(r["rule"], [x["entity_id"] for x in r["only_baseline"]], r["only_proposed"], r["moved"])
                          for r in report["rules"]],
                         [("hand_raiser", ["c-bt-1"], [], [])])
        x = report["rules"][0]["only_baseline"][0]
        self.assertEqual(x["entity_type"], "contact")
        self.assertEqual(x["handoff_id"], h.handoff_id("c-bt-1"))
        self.assertEqual(x["qualified_at"], iso_ms(T0 + 5 * MINUTE))
        self.assertEqual(x["reasons"][0]["rule"], "hand_raiser")
        self.assertIn("demo_request", x["reasons"][0]["detail"])
        self.assertIn("senior_title", [y["rule"].replace("fit:", "") for y in x["reasons"]])
        self.assertEqual([(t["name"], t["baseline"], t["proposed"], t["difference"])
                          for t in report["totals"]["rule"]], [("hand_raiser", 2, 1, -1)])
        self.assertEqual(sum(t["baseline"] for t in report["totals"]["week"]), 2)
        print("backtest e2e: %s" % json.dumps(report["totals"]))

        forms_only = backtest("--topics", env.topics["form_submissions"])
        self.assertEqual(forms_only["records"], 2)
        # the same difference, without the pricing visit among its reasons
        self.assertEqual([(r["rule"], [x["handoff_id"] for x in r["only_baseline"]]) for r in forms_only["rules"]],
                         [("hand_raiser", [h.handoff_id("c-bt-1")])])
        self.assertNotIn("pricing_page", [y["rule"] for y in forms_only["rules"][0]["only_baseline"][0]["reasons"]])
        self.assertIn("pricing_page", [y["rule"] for y in x["reasons"]])

        before = backtest("--to", iso(T0 + 5 * MINUTE))
        self.assertEqual(before["records"], 1)
        self.assertEqual(before["rules"], [])


if __name__ == "__main__":
    h.main()
