"""The dashboard (GET /, GET /v1/dashboard; docs/HTTP.md, "The dashboard") of a real
handoffd that read hf-gen's traffic, looked at by Debian's chromium, headless.

The numbers are checked against the outcomes table of the same store, read
independently (`handoffctl outcomes` on a copy of the state, and /v1/outcomes):
- /v1/dashboard without a filter says what the table says; filtered by each team,
  and by each day, its counts add up to the same totals (the day buckets lose
  nothing);
- the page as chromium renders it with its script (which fetched /v1/dashboard and
  drew the view again) holds the same numbers, and a screenshot of it is saved in
  the test's scratch directory (its path printed);
- the page with JavaScript disabled holds them too: the server rendered it.
Every wait is bounded; chromium runs with a virtual time budget so the script
runs without the test sleeping."""

import datetime
import html
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import hftest as h  # noqa: E402
from hftest import T0  # noqa: E402

LISTENING = r"http: listening on (\S+)"
CONTACTS = 1000
DAYS = 8


def get(address, path, headers=None, method="GET"):
    host, _, port = address.rpartition(":")
    c = http.client.HTTPConnection(host, int(port), timeout=20)
    try:
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        body = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, body
    finally:
        c.close()


def get_json(address, path):
    status, _, body = get(address, path)
    assert status == 200, (path, status, body[:300])
    return json.loads(body)


def chromium(url, out_dir, *extra, script=True, timeout=90):
    """The DOM chromium holds after the page's script ran for 8 s of virtual time
    (with a --screenshot in @extra: the screenshot).  @script False: JavaScript off
    for pages, in the profile's content settings (--blink-settings=scriptEnabled=false
    turns it off too, but chromium 156 then dumps an empty DOM: --dump-dom needs
    script, which the content setting leaves to it)."""
    profile = os.path.join(out_dir, "chromium-profile" if script else "chromium-profile-no-script")
    if not script:
        os.makedirs(os.path.join(profile, "Default"), exist_ok=True)
        with open(os.path.join(profile, "Default", "Preferences"), "w", encoding="utf-8") as f:
            json.dump({"profile": {"default_content_setting_values": {"javascript": 2}}}, f)
    argv = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--user-data-dir=" + profile, "--virtual-time-budget=8000"] + list(extra)
    if not any(a.startswith("--screenshot") for a in extra):
        argv.append("--dump-dom")
    argv.append(url)
    r = subprocess.run(argv, capture_output=True, timeout=timeout)
    if r.returncode != 0:
        raise AssertionError("chromium: rc %d\n%s" % (r.returncode, r.stderr.decode(errors="replace")[-2000:]))
    return r.stdout.decode("utf-8", errors="replace")


def save(out_dir, name, text):
    """Kept beside the screenshot (HFTEST_KEEP=1 keeps the scratch directory)."""
    with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
        f.write(text)


def cells(dom):
    """{data-key: number} of the page's number cells."""
    return {html.unescape(k): int(v) for k, v in re.findall(r'data-key="([^"]*)">(\d+)<', dom)}


def expected_cells(outcomes):
    """The cells the page should show, from /v1/outcomes."""
    t = outcomes["totals"]
    want = {"funnel.conversation_ready": t["handoffs"], "funnel.accepted": t["accepted"],
            "funnel.qualified": t["qualified"], "funnel.opportunity": t["opportunity"],
            "funnel.customer": t["won"], "exits.rejected": t["rejected"], "exits.recycled": t["recycled"],
            "exits.disqualified": t["disqualified"], "exits.lost": t["lost"]}
    for r in outcomes["by_rule"]:
        for col in ("handoffs", "accepted", "rejected", "won"):
            want["by_rule.%s.%s" % (r["rule"], col)] = r[col]
    for r in outcomes["sla_by_team"]:
        for sla in ("accept", "first_touch"):
            for what in ("met", "breached"):
                want["sla_by_team.%s.%s.%s" % (r["team"], sla, what)] = r[sla][what]
    return want


def days_between(first, last):
    d, end = datetime.date.fromisoformat(first), datetime.date.fromisoformat(last)
    while d <= end:
        yield d.isoformat()
        d += datetime.timedelta(days=1)


FUNNEL_KEYS = {"conversation_ready": "handoffs", "accepted": "accepted", "qualified": "qualified",
               "opportunity": "opportunity", "customer": "won"}


BUCKETS = ("accept_buckets", "first_touch_buckets")


def rows(lst, key, drop=()):
    """A list of outcome rows as {value: row}, without the keys @drop."""
    return {r[key]: {k: v for k, v in r.items() if k not in drop} for r in lst}


def funnel(d):
    return {s["stage"]: s["count"] for s in d["funnel"]}


class Dashboard(h.ClusterTestCase):
    partitions = 4

    def test_dashboard_in_chromium(self):
        self.assertTrue(shutil.which("chromium"), "chromium is not installed (scripts/deps.sh)")
        env = self.env()
        produced = env.generate("--contacts", str(CONTACTS), "--seed", "7", "--start-ms", str(T0),
                                "--days", str(DAYS))
        d = env.daemon(log_level="info").start()
        _, m = d.proc.wait_for(LISTENING, timeout=30)
        address = m.group(1)
        d.wait_caught_up(timeout=180)

        outcomes = get_json(address, "/v1/outcomes")
        dash = get_json(address, "/v1/dashboard")
        t = outcomes["totals"]
        self.assertIsNotNone(t, "hf-gen's traffic made no handoff")
        print("dashboard: %d records; handoffs %d, accepted %d, qualified %d, won %d; %d waiting; days %s - %s"
              % (produced, t["handoffs"], t["accepted"], t["qualified"], t["won"], dash["waiting_total"],
                 dash["days"]["first"], dash["days"]["last"]))
        self.assertGreater(t["handoffs"], 0)

        # the JSON says what the outcomes table says (and handoffctl reads the same store)
        f = funnel(dash)
        for stage, col in FUNNEL_KEYS.items():
            self.assertEqual(f[stage], t[col], stage)
        self.assertGreater(f["known"], 0)
        self.assertEqual(dash["outcomes"]["totals"]["handoffs"], t["handoffs"])
        # the rows come in another order (the day buckets are read day by day)
        self.assertEqual(rows(dash["outcomes"]["by_rule"], "rule"), rows(outcomes["by_rule"], "rule"))
        self.assertEqual(rows(dash["outcomes"]["by_source"], "source"), rows(outcomes["by_source"], "source"))
        self.assertEqual(rows(dash["outcomes"]["sla_by_owner"], "owner", drop=BUCKETS),
                         rows(outcomes["sla_by_owner"], "owner"))
        self.assertEqual(rows(dash["outcomes"]["sla_by_team"], "team", drop=BUCKETS),
                         rows(outcomes["sla_by_team"], "team"))
        for c in dash["waiting"]:
            self.assertTrue(c["id"] and c["rule"] and c["clocks"], c)

        # by team and by day, the counts add up to the totals
        teams = [r["team"] for r in outcomes["sla_by_team"]]
        by_team = [funnel(get_json(address, "/v1/dashboard?team=" + h_quote(x))) for x in teams]
        if teams:
            self.assertIsNone(by_team[0]["known"])  # not counted per team
        days = list(days_between(dash["days"]["first"], dash["days"]["last"]))
        self.assertLessEqual(len(days), DAYS + 2)
        by_day = [funnel(get_json(address, "/v1/dashboard?from=%s&to=%s" % (x, x))) for x in days]
        for stage in ("conversation_ready", "accepted", "qualified", "customer"):
            self.assertEqual(sum(x[stage] for x in by_day), f[stage], "by day: " + stage)
        for stage in ("known", "engaged"):
            self.assertEqual(sum(x[stage] for x in by_day), f[stage], "by day: " + stage)
        # a handoff without a team would not be in any team's numbers
        no_team = t["handoffs"] - sum(x["conversation_ready"] for x in by_team)
        self.assertGreaterEqual(no_team, 0)
        status, _, body = get(address, "/v1/dashboard?from=2026-13-01")
        self.assertEqual(status, 400, body)
        # what a refresh costs on this store (printed, not asserted)
        took = []
        for path in ["/v1/dashboard", "/"] * 10:
            t0 = time.monotonic()
            self.assertEqual(get(address, path)[0], 200)
            took.append(time.monotonic() - t0)
        took.sort()
        print("dashboard: 20 requests (/v1/dashboard and /), median %.1f ms, slowest %.1f ms"
              % (1000 * took[len(took) // 2], 1000 * took[-1]))

        # the page in chromium, its script on: it fetched /v1/dashboard and drew it again
        want = expected_cells(outcomes)
        out_dir = env.dir
        dom = chromium("http://%s/" % address, out_dir)
        save(out_dir, "dom-script.html", dom)
        self.assertTrue("data-refreshed=" in dom, "the script did not render the view")
        got = cells(dom)
        for k, v in want.items():
            self.assertEqual(got.get(k), v, k)
        shot = os.path.join(out_dir, "dashboard.png")
        chromium("http://%s/" % address, out_dir, "--screenshot=" + shot, "--window-size=1280,3400",
                 "--hide-scrollbars")
        self.assertGreater(os.path.getsize(shot), 10000)
        print("dashboard: screenshot %s" % shot)

        # JavaScript off: the server's first view holds the same numbers
        dom = chromium("http://%s/" % address, out_dir, script=False)
        save(out_dir, "dom-no-script.html", dom)
        self.assertTrue("Numbers as of the first view" in dom, "the script ran")
        self.assertFalse("data-refreshed=" in dom, "the script ran")
        got = cells(dom)
        for k, v in want.items():
            self.assertEqual(got.get(k), v, "without JavaScript: " + k)
        print("dashboard: %d numbers checked in the page, with and without JavaScript" % len(want))

    def test_token_and_escaping(self):
        """With http.token_file the page shows no number without the token and says
        so; /v1/dashboard needs it.  A team filter is escaped where it is shown."""
        token_dir = h.scratch_dir("dashboard-token")
        token_file = os.path.join(token_dir, "token")
        with open(token_file, "w", encoding="utf-8") as f:
            f.write("s3cret-token\n")
        os.chmod(token_file, 0o600)
        block = 'http:\n  listen: "127.0.0.1:0"\n  token_file: %s\n' % token_file
        env = self.env(config_edit=lambda t: h.yaml_set_block(t, "http", block))
        d = env.daemon(log_level="info").start()
        _, m = d.proc.wait_for(LISTENING, timeout=30)
        address = m.group(1)
        status, hdr, body = get(address, "/")
        self.assertEqual(status, 200)
        self.assertTrue(hdr["content-type"].startswith("text/html"))
        self.assertIn(b"requires its bearer token", body)
        self.assertNotIn(b'data-key="funnel.', body)
        status, _, _ = get(address, "/v1/dashboard")
        self.assertEqual(status, 401)
        auth = {"Authorization": "Bearer s3cret-token"}
        status, _, body = get(address, "/v1/dashboard?team=%3Cscript%3Ex", headers=auth)
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["filter"]["team"], "<script>x")
        status, _, body = get(address, "/?team=%3Cscript%3Ex", headers=auth)
        self.assertEqual(status, 200)
        self.assertIn(b"&lt;script&gt;x", body)
        self.assertNotIn(b"<script>x", body)
        status, _, _ = get(address, "/nothing-here")
        self.assertEqual(status, 404)
        # a preflight needs no token (it asks whether the page may send one); OPTIONS
        # elsewhere is still refused
        status, hdr, _ = get(address, "/v1/dashboard", method="OPTIONS",
                             headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"})
        self.assertEqual(status, 204)
        self.assertNotIn("access-control-allow-origin", hdr)
        status, hdr, _ = get(address, "/metrics", method="OPTIONS", headers=auth)
        self.assertEqual(status, 405)
        self.assertEqual(hdr.get("allow"), "GET, HEAD")
        # handoffctl sends the token to every instance it sums
        r = env.ctl("dashboard", "--urls", address, "--token-file", token_file, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["instances"], [address])
        r = env.ctl("dashboard", "--urls", address)
        self.assertEqual(r.returncode, 1)
        self.assertIn("HTTP 401", r.stderr)


    def test_two_instances_summed_by_the_page(self):
        """Two instances of one group each count what they fold; the page of one
        fetches the other's /v1/dashboard (it is allowed: the other names it as an
        instance of the group) and shows the sums."""
        env = self.env()
        dir_b = os.path.join(env.dir, "state-b")
        a = env.daemon(log_level="debug").start()
        b = env.daemon("--state", dir_b, log_level="debug", name="b").start()
        first, _ = a.proc.wait_for(r"assigned ([1-9]\d*) partitions", timeout=60)
        a.proc.wait_for(r"assigned ([1-9]\d*) partitions", timeout=60, start=first + 1)
        addr_a = a.proc.wait_for(LISTENING, timeout=30)[1].group(1)
        addr_b = b.proc.wait_for(LISTENING, timeout=30)[1].group(1)
        env.generate("--contacts", "600", "--seed", "9", "--start-ms", str(T0), "--days", str(DAYS))
        wait_caught_up_both(env, [a, b], [env.state_dir, dir_b], timeout=180)

        # each names the other once the instance map knows it (bounded)
        for me, other in ((addr_a, addr_b), (addr_b, addr_a)):
            deadline = time.monotonic() + 30
            for _ in range(300):
                if get_json(me, "/v1/dashboard")["peers"] == [other] or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            self.assertEqual(get_json(me, "/v1/dashboard")["peers"], [other])
        # another instance's page may read this one; any other site may not
        _, hdr, _ = get(addr_b, "/v1/dashboard", headers={"Origin": "http://" + addr_a})
        self.assertEqual(hdr.get("access-control-allow-origin"), "http://" + addr_a)
        _, hdr, _ = get(addr_b, "/v1/dashboard", headers={"Origin": "http://evil.example"})
        self.assertNotIn("access-control-allow-origin", hdr)
        # the preflight a browser sends before it adds a bearer token to the request
        ask = {"Origin": "http://" + addr_a, "Access-Control-Request-Method": "GET",
               "Access-Control-Request-Headers": "authorization"}
        status, hdr, _ = get(addr_b, "/v1/dashboard", headers=ask, method="OPTIONS")
        self.assertEqual(status, 204)
        self.assertEqual(hdr.get("access-control-allow-origin"), "http://" + addr_a)
        self.assertEqual(hdr.get("access-control-allow-headers"), "Authorization")
        self.assertEqual(hdr.get("access-control-allow-methods"), "GET")
        status, hdr, _ = get(addr_b, "/v1/dashboard", headers=dict(ask, Origin="http://evil.example"),
                             method="OPTIONS")
        self.assertEqual(status, 204)
        self.assertNotIn("access-control-allow-origin", hdr)

        oa, ob = get_json(addr_a, "/v1/outcomes"), get_json(addr_b, "/v1/outcomes")
        self.assertTrue(oa["totals"] and ob["totals"], "test design: both instances made handoffs")
        want_a, want_b = expected_cells(oa), expected_cells(ob)
        summed = {k: want_a.get(k, 0) + want_b.get(k, 0) for k in set(want_a) | set(want_b)}
        dom = chromium("http://%s/" % addr_a, env.dir)
        save(env.dir, "dom-two-instances.html", dom)
        self.assertTrue("data-refreshed=" in dom, "the script did not render the view")
        self.assertTrue("instances %s, %s" % (addr_a, addr_b) in dom, "the page did not sum both")
        self.assertFalse('id="missing"' in dom, "the page did not reach the other instance")
        got = cells(dom)
        for k, v in summed.items():
            self.assertEqual(got.get(k), v, k)
        print("dashboard: two instances, handoffs %d + %d = %d on the page of %s"
              % (oa["totals"]["handoffs"], ob["totals"]["handoffs"], got["funnel.conversation_ready"], addr_a))

        # handoffctl sums them the same way
        r = env.ctl("dashboard", "--urls", "%s,%s" % (addr_a, addr_b), "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        j = json.loads(r.stdout)
        self.assertEqual(j["instances"], [addr_a, addr_b])
        f = funnel(j)
        for stage, col in FUNNEL_KEYS.items():
            self.assertEqual(f[stage], oa["totals"][col] + ob["totals"][col], stage)
        for r_ in j["outcomes"]["by_rule"]:
            for col in ("handoffs", "accepted", "rejected", "won"):
                self.assertEqual(r_[col], summed["by_rule.%s.%s" % (r_["rule"], col)], (r_["rule"], col))
        for r_ in j["outcomes"]["sla_by_team"]:
            # the median of the merged buckets; each instance's own only when they agree
            if r_["accept_buckets"]:
                self.assertIsNotNone(r_["median_accept_seconds"])
            self.assertEqual(r_["accept"]["met"], summed["sla_by_team.%s.accept.met" % r_["team"]])
        r = env.ctl("dashboard", "--urls", "%s,%s" % (addr_a, addr_b))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("conversation_ready", r.stdout)
        print(r.stdout)
        a.stop()
        b.stop()


    def test_breach_listed(self):
        """A handoff nobody accepts breaches its (short) accept clock: the dashboard
        lists it under recent breaches and counts it in its team's row, in the JSON
        and on the page the server renders."""
        env = self.env(config_edit=lambda t: h.with_sla(t, accept="2s", accept_escalate=["2s"],
                                                        first_touch="60s"))
        breaches = h.TopicTail(env, "sla_breach")
        self.addCleanup(breaches.close)
        d = env.daemon(log_level="info").start()
        address = d.proc.wait_for(LISTENING, timeout=30)[1].group(1)
        cid = "c-dash-late"
        env.send(h.form("dash-f1", h.now_ms(), "a-" + cid, cid, form_type="demo_request", form_id="demo",
                        title="Director of IT"))
        breaches.wait(lambda x: x.get("entity_id") == cid, timeout=30, what="the accept breach")
        # until the commit that holds the breach (its level and its counter) is read;
        # before it, the clock already shows as breached, its deadline passed
        def committed(dash):
            listed = [b for b in dash["breaches"] if b["id"] == cid]
            breached = sum(r["accept"]["breached"] for r in dash["outcomes"]["sla_by_team"])
            return listed and listed[0]["level"] >= 1 and breached == 1

        deadline = time.monotonic() + 30
        dash = None
        for _ in range(300):
            dash = get_json(address, "/v1/dashboard")
            if committed(dash) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        listed = [b for b in dash["breaches"] if b["id"] == cid]
        self.assertTrue(listed, dash["breaches"])
        self.assertEqual((listed[0]["sla"], listed[0]["rule"]), ("accept", "hand_raiser"))
        self.assertGreaterEqual(listed[0]["level"], 1)
        waiting = [c for c in dash["waiting"] if c["id"] == cid]
        self.assertEqual(len(waiting), 1)
        accept = [k for k in waiting[0]["clocks"] if k["sla"] == "accept"][0]
        self.assertEqual(accept["state"], "breached")
        self.assertLess(accept["seconds_left"], 0)
        team = waiting[0]["team"] or "(no team)"
        row = [r for r in dash["outcomes"]["sla_by_team"] if r["team"] == team]
        self.assertEqual(row[0]["accept"]["breached"], 1, row)
        status, _, body = get(address, "/")
        page = body.decode()
        section = page[page.index('id="breaches"'):]
        self.assertIn(cid, section[:section.index("</section>")])
        self.assertIn('data-key="sla_by_team.%s.accept.breached">1<' % html.escape(team), page)
        d.stop()


def wait_caught_up_both(env, daemons, state_dirs, timeout):
    """Until the offsets the instances stored together reach the end of every topic
    they read (each partition in the store of whoever folded it last)."""
    read = ["web_visits", "form_submissions", "content_downloads", "webinar_attendance",
            "email_engagement", "identity", "sales_activity", "by_anonymous", "by_contact", "by_account"]
    deadline = time.monotonic() + timeout
    behind = None
    for _ in range(2000):
        stored = {}
        for d in state_dirs:
            for o in env.dump("offsets", state_dir=d):
                tp = (o["topic"], o["partition"])
                stored[tp] = max(stored.get(tp, 0), o["next_offset"])
        ends = env.end_offsets(read)
        behind = {tp: (stored.get(tp, 0), end) for tp, end in ends.items() if stored.get(tp, 0) < end}
        if not behind:
            return
        if time.monotonic() > deadline or not all(x.proc.running() for x in daemons):
            break
        time.sleep(0.5)
    raise AssertionError("not caught up within %d s; behind (stored, end): %r" % (timeout, behind))


def h_quote(s):
    from urllib.parse import quote
    return quote(s, safe="")


if __name__ == "__main__":
    h.main()
