"""Expansion handoffs through the real handoffd, 4 partitions: the rules of
tests/fixtures/handoff-test.yaml with an expansion section added (products
"analytics" and "crm"); three accounts of two people each, all reading both products'
pages.  Initech and Umbrella are customers that bought crm (an account-level `won`
naming the product); Initech's people also read analytics pages, Umbrella's only
crm's; Vandelay never bought anything.  Only Initech gets an expansion handoff, for
analytics, to the account managers, with its reasons; a rejection of it starts the
product's next cycle, which waits for the cooldown."""

import json
import os
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import hftest as h  # noqa: E402
from hftest import DAY, HOUR, MINUTE, T0  # noqa: E402

SITE = "https://www.vendor.example"

EXPANSION = """
expansion:
  team: account-management
  sla: { accept: { within: 2h, escalate_after: [] }, first_touch: { within: 0 }, follow_up: { within: 0 } }
  cooldown: 10d
  products:
    - name: analytics
      signals:
        - { points: 10, when: { url: "*/product/analytics*" } }
        - { points: 15, when: { asset_id: wp-analytics-* } }
    - name: crm
      signals:
        - { points: 10, when: { url: "*/product/crm*" } }
  rules:
    - name: expansion_interest
      min_engaged: 2
      min_points: 20
      within: 30d
"""


def with_expansion(text):
    return text + EXPANSION


def expansion_id(account_id, product, cycle=1):
    """The expansion handoff id: hf_handoff_id over "<account>" 0x1f "expansion" 0x1f
    "<product>"."""
    return h.handoff_id("%s\x1fexpansion\x1f%s" % (account_id, product), cycle, entity_type="account")


def won(eid, at, account_id, product):
    return h.sales(eid, at, account_id, action="won", entity_type="account", owner="am-7", product=product)


class Expansion(h.ClusterTestCase):
    partitions = 4

    def people(self, account, at, pages):
        """Two people of @account identify on a gated form at @at, then each visits
        every url of @pages an hour apart (in order)."""
        joins, visits = [], []
        for i, who in enumerate(("a", "b")):
            cid = "c-%s-%s" % (account, who)
            anon = "a-%s-%s" % (account, who)
            joins.append(h.form("%s-f" % cid, at + i * MINUTE, anon, cid, form_id="gate",
                                email="%s@%s.example" % (who, account), account_id="acct-" + account,
                                company_name=account.title(), country="US"))
            for k, url in enumerate(pages):
                visits.append(h.web_visit("%s-v%d" % (cid, k), at + DAY + k * HOUR + i * MINUTE, anon, SITE + url,
                                          contact=cid, session="s%d" % k, title=url))
        return joins, visits

    def expansions(self, env, expect=None):
        return [x for _, x in env.decoded("conversation_ready", expect=expect, timeout=20)
                if x.get("kind") == "expansion"]

    def lookup_products(self, daemon, account_id, ready, timeout=30):
        """{product: entry} of GET /v1/accounts/@account_id once @ready(it) holds
        (polled at most @timeout seconds)."""
        url = "http://%s/v1/accounts/%s" % (daemon.http_address(), account_id)
        deadline = time.monotonic() + timeout
        products = {}
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    products = {p["product"]: p for p in json.load(r)["products"]}
            except OSError:
                products = {}
            if ready(products):
                return products
            time.sleep(0.2)
        self.fail("GET %s: %r" % (url, products))

    def test_customer_engaging_with_another_product(self):
        env = self.env(config_edit=with_expansion)
        d = env.daemon().start()
        both = ["/product/crm", "/product/analytics", "/product/analytics/pricing"]
        initech_join, initech_visits = self.people("initech", T0, both)
        umbrella_join, umbrella_visits = self.people("umbrella", T0, ["/product/crm", "/product/crm/pricing"])
        vandelay_join, vandelay_visits = self.people("vandelay", T0, both)

        env.send_all(initech_join + umbrella_join + vandelay_join)
        d.wait_caught_up(timeout=60)
        # Initech and Umbrella buy crm
        env.send_all([won("won-initech", T0 + HOUR, "acct-initech", "crm"),
                      won("won-umbrella", T0 + HOUR, "acct-umbrella", "crm")])
        d.wait_caught_up(timeout=60)
        stages = {r["account_id"]: r["stage"] for r in env.dump("accounts")}
        self.assertEqual((stages["acct-initech"], stages["acct-umbrella"]), ("customer", "customer"), stages)
        self.assertNotEqual(stages["acct-vandelay"], "customer")
        env.send_all(initech_visits + umbrella_visits + vandelay_visits)
        d.wait_caught_up(timeout=60)

        got = self.expansions(env, expect=1)
        self.assertEqual(len(got), 1, got)
        x = got[0]
        self.assertEqual((x["entity_type"], x["entity_id"], x["account_id"]),
                         ("account", "acct-initech", "acct-initech"))
        self.assertEqual((x["kind"], x["product"], x["rule"]), ("expansion", "analytics", "expansion_interest"))
        self.assertEqual(x["handoff_id"], expansion_id("acct-initech", "analytics"))
        self.assertNotEqual(x["handoff_id"], h.handoff_id("acct-initech", 1, entity_type="account"))
        self.assertEqual(x["stage_before"], "customer")
        # to the account managers, never the new-business team the fixture routes US to
        self.assertEqual(x["routing"]["team"], "account-management")
        self.assertEqual(x["routing"]["note"], "account owner am-7")
        # qualified when the second person read the first analytics page
        self.assertEqual(x["qualified_at"], T0 + DAY + HOUR + MINUTE)
        # its own clocks (expansion.sla), round the clock: the fixture has no calendars
        self.assertEqual(x["sla"], {"accept_by": x["emitted_at"] + 2 * HOUR, "first_touch_by": 0})
        details = [(r["rule"], r["points"], r["count"], r["detail"]) for r in x["reasons"]]
        self.assertEqual(details[:3], [
            ("expansion_interest", 0, 0, "members engaged with analytics 2 >= 2"),
            ("expansion_interest", 0, 0, "analytics points 20 >= 20"),
            ("expansion_interest", 0, 0, "customer without analytics"),
        ])
        self.assertEqual(sorted(d_[:3] for d_ in details if d_[0].startswith("product:")),
                         [("product:c-initech-a", 10, 1), ("product:c-initech-b", 10, 1)])
        urls = [t["detail"] for t in x["journey"]["recent"]]
        self.assertTrue(any("/product/analytics" in (u or "") for u in urls), urls)

        # every other handoff is new business (none here: no target account, no score rule)
        others = [y for _, y in env.decoded("conversation_ready") if y.get("kind") != "expansion"]
        self.assertTrue(all(y["kind"] == "new_business" for y in others), others)

        # the state: Initech has crm and was raised for analytics, Umbrella has crm only
        rows = {r["account_id"]: h.avro_json_plain(r["state"]) for r in env.dump("accounts")}
        initech = {p["product"]: p for p in rows["acct-initech"]["products"]}
        self.assertEqual(set(initech), {"crm", "analytics"})
        self.assertTrue(initech["crm"]["owned"])
        self.assertEqual((initech["analytics"]["owned"], initech["analytics"]["handed_off"],
                          initech["analytics"]["cycle"]), (False, True, 1))
        self.assertEqual([p["product"] for p in rows["acct-umbrella"]["products"]], ["crm"])
        self.assertEqual(rows["acct-vandelay"]["products"], [])

        # the account lookup shows the products (it answers from the last commit)
        products = self.lookup_products(d, "acct-initech", lambda ps: "analytics" in ps)
        self.assertTrue(products["crm"]["owned"])
        self.assertEqual((products["analytics"]["owned"], products["analytics"]["handed_off"],
                          products["analytics"]["stage"], products["analytics"]["open_case"]["handoff_id"]),
                         (False, True, "conversation_ready", x["handoff_id"]))

        # sales reject it: the next cycle waits for the cooldown (10 days of event time)
        at = T0 + 2 * DAY
        env.send_all([h.sales("rej-initech", at, "acct-initech", action="rejected", entity_type="account",
                              handoff=x["handoff_id"], owner="am-7", reason="no budget")])
        d.wait_caught_up(timeout=60)
        env.send_all([h.web_visit("c-initech-a-v9", at + DAY, "a-initech-a", SITE + "/product/analytics",
                                  contact="c-initech-a", session="s9")])
        d.wait_caught_up(timeout=60)
        self.assertEqual(len(self.expansions(env)), 1)
        later = at + 11 * DAY
        env.send_all([h.web_visit("c-initech-a-v10", later, "a-initech-a", SITE + "/product/analytics",
                                  contact="c-initech-a", session="s10"),
                      h.web_visit("c-initech-b-v10", later + MINUTE, "a-initech-b", SITE + "/product/analytics",
                                  contact="c-initech-b", session="s10")])
        d.wait_caught_up(timeout=60)
        got = self.expansions(env, expect=2)
        self.assertEqual([y["handoff_id"] for y in got],
                         [expansion_id("acct-initech", "analytics", 1), expansion_id("acct-initech", "analytics", 2)])
        # b's earlier reading is still within the rule's 30 days: a's visit is enough
        self.assertEqual(got[1]["qualified_at"], later)
        d.stop()


    def test_generated_customers(self):
        """hf-gen's traffic under the shipped rules file: won accounts name the plan they
        bought (lead_scoring) and some champions go on to read about account_insights."""
        # the shipped rules file itself, on this test's broker and any free port
        env = self.env(fixture=os.path.join(h.SOURCE_ROOT, "config", "handoff.yaml"),
                       config_edit=lambda text: h.yaml_set(text, "http", "listen", '"127.0.0.1:0"'))
        records = env.generate("--contacts", "5000", "--seed", "1")
        self.assertGreater(records, 0)
        d = env.daemon().start()
        d.wait_caught_up(timeout=120)
        got = self.expansions(env)
        print("\n%d records, %d expansion handoffs: %s" % (
            records, len(got), sorted((x["entity_id"], x["product"], x["rule"]) for x in got)), file=sys.stderr)
        self.assertGreater(len(got), 0)
        products = {x["product"] for x in got}
        self.assertNotIn("lead_scoring", products)
        self.assertIn("account_insights", products)
        self.assertEqual({x["routing"]["team"] for x in got}, {"account-management"})
        self.assertEqual({x["stage_before"] for x in got}, {"customer"})
        # one per account and product (no answers in the generated traffic name one)
        self.assertEqual(len({(x["entity_id"], x["product"]) for x in got}), len(got))
        d.stop()


if __name__ == "__main__":
    h.main()
