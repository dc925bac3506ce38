"""The journey lookup (/v1, docs/HTTP.md) through the real handoffd and hf-broker.

One daemon: three people of Hooli make their account qualify, one of them asks for
a demo and a rep accepts her handoff; two contacts are merged in a chain.  After a
commit, the answers are checked against what the daemon produced and stored, read
independently: its ConversationReady records (python3-avro), `handoffctl dump` and
`handoffctl outcomes`.  Then a small load measures the lookup rate (printed, not
asserted).

Two daemons in one group: each answers for the keys of its own partitions and
sends a request for any other key to the instance that holds it (307), which they
learn from <app.id>.instances.  Every wait is bounded."""

import http.client
import json
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import hftest as h  # noqa: E402
from hftest import DAY, HOUR, MINUTE, T0  # noqa: E402
from test_accounts import hooli_people  # noqa: E402

LISTENING = r"http: listening on (\S+)"
ISO = "%Y-%m-%dT%H:%M:%S"


def iso_ms(ms):
    """The lookup's times: ISO 8601 UTC with milliseconds."""
    return "%s.%03dZ" % (time.strftime(ISO, time.gmtime(ms // 1000)), ms % 1000)


def parse_iso_ms(text):
    m_ = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{3})Z", text)
    assert m_, text
    import calendar
    return calendar.timegm(time.strptime(m_.group(1), ISO)) * 1000 + int(m_.group(2))


class Client:
    """GETs on one keep-alive connection to a daemon's HTTP server."""

    def __init__(self, address, timeout=10):
        host, _, port = address.rpartition(":")
        self.address = address
        self.conn = http.client.HTTPConnection(host, int(port), timeout=timeout)

    def get(self, path):
        """(status, headers, parsed JSON body or None)."""
        self.conn.request("GET", path)
        r = self.conn.getresponse()
        body = r.read()
        ctype = r.getheader("Content-Type") or ""
        data = json.loads(body) if body and ctype.startswith("application/json") else None
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def close(self):
        self.conn.close()


def http_address(daemon):
    _, mm = daemon.proc.wait_for(LISTENING, timeout=30)
    return mm.group(1)


def sales(eid, cid, action, handoff=None, owner="rep-9", entity_type="contact"):
    return h.sales(eid, h.now_ms(), cid, action=action, handoff=handoff, owner=owner, entity_type=entity_type)


class Lookup(h.ClusterTestCase):
    partitions = 4

    def client(self, address):
        c = Client(address)
        self.addCleanup(c.close)
        return c

    def phases(self, env, daemon, *phases):
        for events in phases:
            env.send_all(events)
            daemon.wait_caught_up(timeout=60)

    def ready(self, env, expect=None):
        return [x for _, x in env.decoded("conversation_ready", expect=expect, timeout=20)]

    # -- one instance ------------------------------------------------------------------
    def test_journeys_accounts_merges_and_outcomes(self):
        env = self.env()
        d = env.daemon().start()
        c = self.client(http_address(d))
        before, qualifying = hooli_people()
        self.phases(env, d, *before, qualifying,
                    [h.form("lk-c3", T0 + 3 * DAY, "a-carol", "c-carol", form_type="demo_request", form_id="demo")])
        carol_ho = h.handoff_id("c-carol")
        # a chain of merges: c-lk-a into c-lk-b, then c-lk-b into c-lk-c
        self.phases(env, d,
                    [h.form("lk-m1", T0, "a-lka", "c-lk-a", title="Analyst"),
                     h.form("lk-m2", T0, "a-lkb", "c-lk-b", title="Analyst"),
                     h.form("lk-m3", T0, "a-lkc", "c-lk-c", title="Analyst")],
                    [h.identity("lk-m4", T0 + HOUR, "c-lk-b", kind="merge", merged="c-lk-a")],
                    [h.identity("lk-m5", T0 + 2 * HOUR, "c-lk-c", kind="merge", merged="c-lk-b")],
                    [sales("lk-s1", "c-carol", "accepted", handoff=carol_ho)])
        t_committed = h.now_ms()

        ready = {x["entity_id"]: x for x in self.ready(env, expect=2)}
        self.assertEqual(set(ready), {"acct-hooli", "c-carol"})
        self.check_contact(env, c, ready["c-carol"], t_committed)
        self.check_account(env, c, ready["acct-hooli"])
        self.check_misses_and_merges(c)
        self.check_outcomes(env, c)
        # reloads swap the rules the answers are rendered with: never under a request
        mark = len(d.proc.err)
        self.measure_rate(c.address, ["/v1/contacts/c-carol", "/v1/accounts/acct-hooli", "/v1/contacts/c-alice",
                                      "/v1/contacts/c-bob"], during=lambda: d.sighup())
        d.proc.wait_for(r"reloaded .*the new rules apply", timeout=30, start=mark)
        s = d.stop()
        self.assertEqual(s.dead_letters, 0)

    def check_contact(self, env, c, handoff, t_committed):
        status, _, j = c.get("/v1/contacts/c-carol")
        self.assertEqual(status, 200, j)
        row = env.dump("contacts", "--id", "c-carol")[0]
        self.assertEqual((j["version"], j["entity_type"], j["id"]), (1, "contact", "c-carol"))
        self.assertEqual(j["stage"], "accepted")
        self.assertEqual(j["stage"], row["stage"])
        self.assertEqual(j["score"]["value"], row["score"])
        self.assertEqual(j["score"]["as_of"], iso_ms(row["last_event_ms"]))
        self.assertEqual(j["fit_grade"], row["grade"])
        # the contributions are the handoff's score reasons (the later accept scores nothing)
        want = [(r["rule"], r["points"], r["count"], r["detail"]) for r in handoff["reasons"]
                if re.match(r"\d+ match(es)?\b", r["detail"])]
        self.assertTrue(want, handoff["reasons"])
        self.assertEqual([(x["rule"], x["points"], x["count"], x["detail"]) for x in j["score"]["contributions"]],
                         want)
        self.assertEqual([i["topic"] for i in j["interests"]], [i["topic"] for i in handoff["interests"]])
        for got, exp in zip(j["interests"], handoff["interests"]):
            self.assertAlmostEqual(got["weight"], exp["weight"], delta=1e-4 * max(1.0, exp["weight"]))
        self.assertEqual(j["journey"]["first_seen"], iso_ms(handoff["journey"]["first_seen"]))
        self.assertEqual([t["title"] for t in j["journey"]["recent"]],
                         [t["title"] for t in handoff["journey"]["recent"]])
        self.assertEqual(j["account"]["id"], "acct-hooli")
        self.assertEqual(j["account"]["role"], "user")
        self.assertEqual([b["contact_id"] for b in j["account"]["buying_group"]], ["c-alice", "c-bob"])
        # the open case: deadlines from the handoff's, the owner from the accept
        case = j["open_case"]
        self.assertEqual(case["handoff_id"], h.handoff_id("c-carol"))
        self.assertEqual(case["rule"], "hand_raiser")
        self.assertEqual(case["owner"], "rep-9")
        self.assertEqual(case["opened_at"], iso_ms(handoff["emitted_at"]))
        self.assertEqual(case["team"], handoff["routing"]["team"])
        clocks = {x["sla"]: x for x in case["clocks"]}
        # (follow-up keeps the shipped default the fixture does not change)
        self.assertEqual(set(clocks), {"accept", "first_touch", "follow_up"})
        self.assertEqual(clocks["follow_up"]["state"], "running")
        self.assertEqual((clocks["accept"]["due_at"], clocks["accept"]["state"]),
                         (iso_ms(handoff["sla"]["accept_by"]), "met"))
        self.assertEqual((clocks["first_touch"]["due_at"], clocks["first_touch"]["state"], clocks["first_touch"]["level"]),
                         (iso_ms(handoff["sla"]["first_touch_by"]), "running", 0))
        self.assertEqual((j["lifecycle"]["cycle"], j["lifecycle"]["handed_off"]), (1, True))
        # as of the last commit: after the handoff, not after the answer
        as_of = parse_iso_ms(j["as_of"])
        self.assertGreaterEqual(as_of, handoff["emitted_at"])
        self.assertLessEqual(as_of, h.now_ms() + 1000)
        self.assertLessEqual(as_of, t_committed + 1000)

    def check_account(self, env, c, handoff):
        status, _, j = c.get("/v1/accounts/acct-hooli")
        self.assertEqual(status, 200, j)
        row = [r for r in env.dump("accounts") if r["account_id"] == "acct-hooli"][0]
        self.assertEqual((j["entity_type"], j["id"], j["stage"]), ("account", "acct-hooli", row["stage"]))
        self.assertEqual(j["score"]["value"], row["score"])
        self.assertEqual(j["fit_grade"], "A")
        self.assertEqual((j["member_count"], j["engaged_count"]), (row["members"], row["engaged"]))
        self.assertEqual([(b["contact_id"], b["role"]) for b in j["buying_group"]],
                         [("c-alice", "decision_maker"), ("c-bob", "champion"), ("c-carol", "user")])
        self.assertEqual([b["placed_by"] for b in j["buying_group"]], ["role rule", "role rule", "default role"])
        # which rule and what matched: what the account's handoff said
        self.assertEqual([b["placement"] for b in j["buying_group"]],
                         [b["placement"] for b in handoff["buying_group"]])
        self.assertRegex(j["buying_group"][0]["placement"], r'^role rule 1 \(decision_maker\): title ".*" matched')
        self.assertEqual(j["buying_group"][2]["placement"], "default role (user)")
        self.assertEqual(sorted(j["roles_covered"]), sorted(handoff["roles_covered"]))
        case = j["open_case"]
        self.assertEqual(case["handoff_id"], handoff["handoff_id"])
        self.assertEqual(case["rule"], "buying_group_engaged")
        self.assertEqual(case["team"], "dach-enterprise")
        self.assertIsNone(case["owner"])
        due = {x["sla"]: x["due_at"] for x in case["clocks"]}
        self.assertEqual((due["accept"], due["first_touch"]),
                         (iso_ms(handoff["sla"]["accept_by"]), iso_ms(handoff["sla"]["first_touch_by"])))

    def check_misses_and_merges(self, c):
        self.assertEqual(c.get("/v1/contacts/c-nobody")[0::2], (404, {"error": "not found"}))
        self.assertEqual(c.get("/v1/accounts/acct-nobody")[0::2], (404, {"error": "not found"}))
        for bad in ("/v1/contacts/bad%20id", "/v1/contacts/" + "x" * 257, "/v1/accounts/a%2Fb", "/v1/contacts/"):
            status, _, j = c.get(bad)
            self.assertEqual(status, 400, bad)
            self.assertIn("invalid", j["error"])
        # c-lk-a -> c-lk-b -> c-lk-c: one redirect, to the end of the chain
        status, headers, j = c.get("/v1/contacts/c-lk-a")
        self.assertEqual(status, 301, j)
        self.assertEqual(headers["location"], "/v1/contacts/c-lk-c")
        self.assertEqual((j["id"], j["merged_into"], j["survivor"]), ("c-lk-a", "c-lk-b", "c-lk-c"))
        status, headers, j = c.get("/v1/contacts/c-lk-b")
        self.assertEqual((status, headers["location"], j["merged_into"]), (301, "/v1/contacts/c-lk-c", "c-lk-c"))
        status, _, j = c.get(headers["location"])
        self.assertEqual((status, j["id"]), (200, "c-lk-c"))

    def check_outcomes(self, env, c):
        status, _, j = c.get("/v1/outcomes")
        self.assertEqual(status, 200, j)
        r = env.ctl("outcomes", "--state", env.state_dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        table = h.parse_outcomes(r.stdout)
        cols = ["handoffs", "accepted", "rejected", "recycled", "qualified", "opportunity", "won", "lost",
                "disqualified"]
        self.assertEqual({k: j["totals"][k] for k in cols}, table["funnel"]["all"]["*"])
        self.assertEqual(j["totals"]["handoffs"], 2)
        self.assertEqual(j["totals"]["accepted"], 1)
        for key, title, name in (("by_rule", "by rule", "rule"), ("by_source", "by source", "source"),
                                 ("by_first_campaign", "by first-touch campaign", "campaign"),
                                 ("by_last_campaign", "by last-touch campaign", "campaign")):
            got = {row[name]: {k: row[k] for k in cols} for row in j[key]}
            self.assertEqual(got, table["funnel"].get(title, {}), key)
        for key, title, name in (("sla_by_team", "SLA by team", "team"), ("sla_by_owner", "SLA by owner", "owner")):
            got = {row[name]: {k: (row[k]["met"], row[k]["breached"]) for k in h.SLA_KINDS} for row in j[key]}
            want = {name_: {k: v[k] for k in h.SLA_KINDS} for name_, v in table["sla"].get(title, {}).items()}
            self.assertEqual(got, want, key)
        self.assertEqual(j["totals"]["feedback"]["early"], table["feedback"]["early"])

    def measure_rate(self, address, paths, threads=4, per_thread=2500, max_s=5.0, during=None):
        """Keep-alive GETs from a few threads, bounded in count and time; prints the
        rate and the latency percentiles (a figure, not a pass mark).  @during is
        called every 100 ms meanwhile (at most 10 times)."""
        lat = [[] for _ in range(threads)]
        bad = []
        deadline = time.monotonic() + max_s

        def run(k):
            cl = Client(address)
            try:
                for i in range(per_thread):
                    if time.monotonic() > deadline:
                        break
                    t = time.perf_counter()
                    status, _, _ = cl.get(paths[(i + k) % len(paths)])
                    lat[k].append(time.perf_counter() - t)
                    if status != 200:
                        bad.append(status)
            finally:
                cl.close()

        workers = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
        t0 = time.perf_counter()
        for w in workers:
            w.start()
        for _ in range(10 if during else 0):
            if not any(w.is_alive() for w in workers):
                break
            during()
            time.sleep(0.1)
        for w in workers:
            w.join(timeout=max_s + 30)
        took = time.perf_counter() - t0
        all_lat = sorted(x for l in lat for x in l)
        self.assertEqual(bad, [])
        self.assertTrue(all_lat)
        n = len(all_lat)
        p = lambda q: all_lat[min(n - 1, int(q * n))] * 1000  # noqa: E731
        print("\nlookup rate: %d requests in %.2f s from %d keep-alive connections: %.0f requests/s; "
              "latency p50 %.2f ms, p99 %.2f ms, max %.2f ms" % (n, took, threads, n / took, p(0.5), p(0.99),
                                                                   all_lat[-1] * 1000), flush=True)

    # -- two instances -------------------------------------------------------------------
    def test_two_instances_redirect_to_the_owner(self):
        env = self.env()
        dir_b = os.path.join(env.dir, "state-b")
        a = env.daemon().start()
        b = env.daemon("--state", dir_b).start()
        first, _ = a.proc.wait_for(r"assigned ([1-9]\d*) partitions", timeout=60)
        a.proc.wait_for(r"assigned ([1-9]\d*) partitions", timeout=60, start=first + 1)
        addr = {"a": http_address(a), "b": http_address(b)}
        ids = ["c-two-%d" % i for i in range(12)]
        env.send_all([h.form("two-%d" % i, T0 + i * MINUTE, "a-two-%d" % i, cid, title="Analyst")
                      for i, cid in enumerate(ids)])
        self.wait_stored(env, ids, {"a": env.state_dir, "b": dir_b}, [a, b])
        held = self.held_by(env, ids, {"a": env.state_dir, "b": dir_b})
        self.assertTrue(held["a"] and held["b"], "test design: both instances hold some of %r" % held)
        clients = {k: self.client(v) for k, v in addr.items()}
        for me, other in (("a", "b"), ("b", "a")):
            mine, theirs = held[me][0], held[other][0]
            status, _, j = clients[me].get("/v1/contacts/" + mine)
            self.assertEqual((status, j["id"]), (200, mine))
            # the other's key: sent there, once the map knows it (bounded)
            status, headers, j = self.until_redirected(clients[me], "/v1/contacts/" + theirs)
            self.assertEqual(status, 307, j)
            self.assertEqual(headers["location"], "http://%s/v1/contacts/%s" % (addr[other], theirs))
            self.assertEqual(j["owner"], addr[other])
            status, _, j = self.client(addr[other]).get("/v1/contacts/" + theirs)
            self.assertEqual((status, j["id"]), (200, theirs))
        # the map's topic: one record per instance, naming its address and partitions
        recs = [r for r in h.consume(env.address, "%s.instances" % env.ns) if r.value]
        https = {re.search(rb"^http (\S+)$", r.value, re.M).group(1).decode() for r in recs}
        self.assertEqual(https, set(addr.values()))
        a.stop()
        b.stop()

    def until_redirected(self, c, path, timeout=30):
        deadline = time.monotonic() + timeout
        for _ in range(1000):
            status, headers, j = c.get(path)
            if status != 503 or time.monotonic() > deadline:
                return status, headers, j
            time.sleep(0.2)
        return status, headers, j

    def held_by(self, env, ids, dirs):
        """{instance: [contact ids in its store]}."""
        out = {}
        for k, d in dirs.items():
            r = env.ctl("dump", "--state", d, "-c", env.config_path, "contacts")
            rows = [json.loads(l) for l in r.stdout.splitlines() if l.strip()] if r.returncode == 0 else []
            out[k] = sorted(x["contact_id"] for x in rows if x["contact_id"] in ids)
        return out

    def wait_stored(self, env, ids, dirs, daemons, timeout=60):
        deadline = time.monotonic() + timeout
        held = {}
        for _ in range(600):
            held = self.held_by(env, ids, dirs)
            if sorted(held["a"] + held["b"]) == sorted(ids):
                return
            if time.monotonic() > deadline or not all(x.proc.running() for x in daemons):
                break
            time.sleep(0.3)
        raise AssertionError("not every contact stored: %r" % held)


if __name__ == "__main__":
    h.main()
