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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import hftest as h  # noqa: E402
from hftest import T0  # noqa: E402

LISTENING = r"http: listening on (\S+)"
CONTACTS = 1000
DAYS = 8


def get(address, path, headers=None):
    host, _, port = address.rpartition(":")
    c = http.client.HTTPConnection(host, int(port), timeout=20)
    try:
        c.request("GET", path, headers=headers or {})
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

        # the page in chromium, its script on: it fetched /v1/dashboard and drew it again
        want = expected_cells(outcomes)
        out_dir = env.dir
        dom = chromium("http://%s/" % address, out_dir)
        save(out_dir, "dom-script.html", dom)
        self.assertIn("data-refreshed=", dom, "the script did not render the view")
        got = cells(dom)
        for k, v in want.items():
            self.assertEqual(got.get(k), v, k)
        shot = os.path.join(out_dir, "dashboard.png")
        chromium("http://%s/" % address, out_dir, "--screenshot=" + shot, "--window-size=1280,2200",
                 "--hide-scrollbars")
        self.assertGreater(os.path.getsize(shot), 10000)
        print("dashboard: screenshot %s" % shot)

        # JavaScript off: the server's first view holds the same numbers
        dom = chromium("http://%s/" % address, out_dir, script=False)
        save(out_dir, "dom-no-script.html", dom)
        self.assertIn("Numbers as of the first view", dom)  # the script did not run
        self.assertNotIn("data-refreshed=", dom)
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


def h_quote(s):
    from urllib.parse import quote
    return quote(s, safe="")


if __name__ == "__main__":
    h.main()
