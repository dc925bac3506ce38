"""The HTTP server of the real handoffd (docs/HTTP.md), spoken to with Python's
http.client: /healthz follows the pipeline loop's heartbeat, /readyz answers 503
until the partitions are assigned and their state loaded (and again once the broker
is gone), /metrics passes `promtool check metrics` and a parser of the exposition
format here, and its figures are the daemon's summary's; requests that are refused
(no or a wrong token, unknown paths, too long, too large, another method) get their
status and change nothing.

The fixture listens on 127.0.0.1:0: the daemon logs the port the kernel chose."""

import http.client
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import hftest as h  # noqa: E402
from hftest import HOUR, MINUTE, T0  # noqa: E402

SITE = "https://www.acme-analytics.example"
PROMTOOL = "/usr/bin/promtool"
TOKEN = "t0k3n-for-the-test"
LISTENING = r"http: listening on (127\.0\.0\.1:\d+)"


# ---------------------------------------------------------------------------
# the exposition format, read independently of the daemon
# ---------------------------------------------------------------------------

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$')
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)')


def parse_labels(text):
    """{k: v} of '{k="v",...}' with the format's escapes undone."""
    out = {}
    body = text[1:-1]
    pos = 0
    for _ in range(len(body) + 1):
        if pos >= len(body):
            return out
        m = _LABEL.match(body, pos)
        if not m:
            raise AssertionError("bad labels %r at %d" % (text, pos))
        value = re.sub(r'\\(.)', lambda e: {"n": "\n", "\\": "\\", '"': '"'}[e.group(1)], m.group(2))
        out[m.group(1)] = value
        pos = m.end()
    raise AssertionError("labels not consumed: %r" % text)


def parse_exposition(text):
    """(types {family: type}, samples [(name, labels, value)]) of a text exposition,
    checking the rules a scraper relies on: every sample belongs to a family with a
    TYPE, counters end in _total, histogram buckets are cumulative and end in +Inf
    equal to _count."""
    types, helps, samples = {}, {}, []
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert name not in types, "TYPE twice for %s" % name
            types[name] = kind
        elif line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            helps[name] = True
        elif line.startswith("#"):
            continue
        else:
            m = _SAMPLE.match(line)
            assert m, "not a sample line: %r" % line
            labels = parse_labels(m.group(2)) if m.group(2) else {}
            samples.append((m.group(1), labels, float(m.group(3))))
    for name, labels, value in samples:
        family = name
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and types.get(name[:-len(suffix)]) == "histogram":
                family = name[:-len(suffix)]
        assert family in types, "sample %s without a TYPE" % name
        assert family in helps, "sample %s without a HELP" % name
        if types[family] == "counter":
            assert name.endswith("_total"), "counter %s does not end in _total" % name
        if types[family] != "histogram":
            assert name == family, "%s in family %s" % (name, family)
    for family, kind in types.items():
        if kind != "histogram":
            continue
        buckets = [(float(l["le"]), v) for n, l, v in samples if n == family + "_bucket"]
        assert buckets, "histogram %s without buckets" % family
        les = [le for le, _ in buckets]
        assert les == sorted(les) and les[-1] == float("inf"), "%s: le %r" % (family, les)
        counts = [v for _, v in buckets]
        assert counts == sorted(counts), "%s: buckets not cumulative %r" % (family, counts)
        count = [v for n, _, v in samples if n == family + "_count"]
        assert count == [counts[-1]], "%s: +Inf %s, _count %r" % (family, counts[-1], count)
    return types, samples


def value(samples, name, **labels):
    """Sum of the samples of @name whose labels include @labels."""
    return sum(v for n, l, v in samples if n == name and all(l.get(k) == x for k, x in labels.items()))


def by_label(samples, name, key):
    out = {}
    for n, l, v in samples:
        if n == name:
            out[l[key]] = out.get(l[key], 0) + v
    return out


# ---------------------------------------------------------------------------
# talking to the daemon
# ---------------------------------------------------------------------------

class Client:
    def __init__(self, address):
        host, port = address.rsplit(":", 1)
        self.host, self.port = host, int(port)

    def request(self, method, path, headers=None, body=None):
        """(status, headers dict with lower-case names, body text) of one request on
        a new connection."""
        c = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode("utf-8")
        finally:
            c.close()

    def get(self, path, token=None, **kw):
        headers = dict(kw.pop("headers", {}))
        if token:
            headers["Authorization"] = "Bearer " + token
        return self.request("GET", path, headers=headers, **kw)

    def metrics(self, token=None):
        status, headers, text = self.get("/metrics", token=token)
        assert status == 200, (status, text)
        assert headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8", headers
        return text

    def wait_for(self, path, status, timeout, token=None, pattern=None):
        """Polls @path until it answers @status (and its body matches @pattern);
        returns the body.  Bounded by @timeout and a count."""
        deadline = time.monotonic() + timeout
        last = None
        for _ in range(int(timeout / 0.1) + 1):
            last = self.get(path, token=token)
            if last[0] == status and (pattern is None or re.search(pattern, last[2])):
                return last[2]
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        raise AssertionError("%s did not answer %d within %.0f s; last: %r" % (path, status, timeout, last))


def http_address(daemon):
    _, m = daemon.proc.wait_for(LISTENING, timeout=30)
    return m.group(1)


def promtool_check(text):
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True,
                       timeout=60)
    return r.returncode, (r.stdout + r.stderr).strip()


def traffic():
    """Three hand-raisers (a handoff each), browsing of one of them, a repeated
    event id and, sent separately, a record that cannot be decoded."""
    events = []
    for i in range(3):
        cid, anon = "c-http-%d" % i, "a-http-%d" % i
        events.append(h.form("http-f%d" % i, T0 + i * MINUTE, anon, cid, form_type="demo_request",
                             form_id="demo", title="Director of IT", employees=50, region="NA"))
    events.append(h.web_visit("http-v1", T0 + HOUR, "a-http-0", SITE + "/pricing", contact="c-http-0"))
    events.append(h.web_visit("http-v1", T0 + HOUR, "a-http-0", SITE + "/pricing", contact="c-http-0"))
    return events


# The families a refused request must leave as they were (no time or memory in them).
VOLATILE = re.compile(r"^(process_|handoff_last_loop_turn|handoff_store_)")


def stable(samples):
    return sorted((n, sorted(l.items()), v) for n, l, v in samples if not VOLATILE.match(n))


class Http(h.ClusterTestCase):
    partitions = 2

    def test_health_readiness_and_metrics(self):
        env = self.env()
        d = env.daemon().start(wait_ready=False)
        c = Client(http_address(d))

        # before the group assigned anything: alive, not ready
        status, headers, body = c.get("/healthz")
        self.assertEqual((status, body), (200, "ok\n"))
        self.assertEqual(headers["content-type"], "text/plain; charset=utf-8")
        status, _, body = c.get("/readyz")
        self.assertEqual(status, 503, body)
        self.assertRegex(body, r"^not ready: (starting|waiting for partition assignment|loading state of \d+ "
                               r"partitions)\n$")
        d.wait_ready()
        _, m = d.proc.wait_for(r"assigned (\d+) partitions", timeout=30)
        body = c.wait_for("/readyz", 200, timeout=10)
        self.assertEqual(body, "ready: consuming %s partitions\n" % m.group(1))

        # the heartbeat moves between two scrapes
        first = value(parse_exposition(c.metrics())[1], "handoff_last_loop_turn_timestamp_seconds")
        time.sleep(0.5)
        second = value(parse_exposition(c.metrics())[1], "handoff_last_loop_turn_timestamp_seconds")
        self.assertGreater(second, first)
        self.assertLess(abs(time.time() - second), 5)

        env.send_all(traffic())
        env.send_raw("web_visits", "a-broken", b"\xc3\x01 not avro at all")
        d.wait_caught_up(timeout=60)
        time.sleep(1.5)  # the snapshot /metrics renders is at most about a second old
        text = c.metrics()
        rc, out = promtool_check(text)
        self.assertEqual((rc, out), (0, ""), "promtool check metrics:\n%s" % out)
        types, samples = parse_exposition(text)
        for family, kind in [("handoff_build_info", "gauge"), ("handoff_records_consumed_total", "counter"),
                             ("handoff_consumer_lag", "gauge"), ("handoff_events_folded_total", "counter"),
                             ("handoff_duplicates_total", "counter"), ("handoff_dead_letters_total", "counter"),
                             ("handoff_handoffs_total", "counter"), ("handoff_sla_clocks_pending", "gauge"),
                             ("handoff_commit_duration_seconds", "histogram"),
                             ("handoff_commit_size_bytes", "histogram"),
                             ("handoff_event_to_handoff_seconds", "histogram"),
                             ("handoff_store_size_bytes", "gauge"), ("process_resident_memory_bytes", "gauge"),
                             ("handoff_rebalances_total", "counter"), ("handoff_reloads_total", "counter")]:
            self.assertEqual(types.get(family), kind, family)
        self.assertEqual(value(samples, "handoff_ready"), 1)
        self.assertGreaterEqual(value(samples, "handoff_rebalances_total"), 1)
        self.assertEqual(sum(v for n, _, v in samples if n == "handoff_consumer_lag"), 0)
        self.assertEqual(value(samples, "handoff_event_to_handoff_seconds_count"), 3)
        self.assertGreater(value(samples, "handoff_commit_size_bytes_count"), 0)
        self.assertGreater(value(samples, "handoff_store_size_bytes"), 0)
        self.assertGreater(value(samples, "process_resident_memory_bytes"), 1 << 20)

        s = d.stop()
        # the figures are the summary's (a fresh store: this run's are the totals)
        self.assertEqual(value(samples, "handoff_records_consumed_total"), s.consumed)
        self.assertEqual(value(samples, "handoff_events_folded_total"), s.folded)
        self.assertEqual(value(samples, "handoff_duplicates_total"), s.duplicates)
        self.assertEqual(s.duplicates, 1)
        self.assertEqual(by_label(samples, "handoff_handoffs_total", "rule"), s.handoffs_by_rule)
        self.assertEqual(s.handoffs_by_rule.get("hand_raiser"), 3, s.text)
        self.assertEqual(by_label(samples, "handoff_handoffs_total", "entity_type").get("contact"), 3)
        self.assertEqual(by_label(samples, "handoff_dead_letters_total", "reason"), s.dead_letters_by_reason)
        self.assertEqual(s.dead_letters, 1, s.text)

    def test_token_and_refused_requests(self):
        token_dir = h.scratch_dir("http-token")
        token_file = os.path.join(token_dir, "token")
        with open(token_file, "w", encoding="utf-8") as f:
            f.write(TOKEN + "\n")
        os.chmod(token_file, 0o600)
        # ${VAR} in token_file, from the environment of the daemon (and of handoffctl)
        os.environ["HF_TEST_HTTP_TOKEN_DIR"] = token_dir
        block = 'http:\n  listen: "127.0.0.1:0"\n  token_file: ${HF_TEST_HTTP_TOKEN_DIR}/token\n'
        env = self.env(config_edit=lambda t: h.yaml_set_block(t, "http", block))
        d = env.daemon().start()
        c = Client(http_address(d))
        self.assertNotIn(TOKEN, "\n".join(d.log()))
        c.wait_for("/readyz", 200, timeout=10)  # public
        self.assertEqual(c.get("/healthz")[0], 200)

        env.send_all(traffic())
        d.wait_caught_up(timeout=60)
        time.sleep(1.5)
        before = parse_exposition(c.metrics(token=TOKEN))[1]
        self.assertEqual(value(before, "handoff_handoffs_total"), 3)

        status, headers, body = c.get("/metrics")
        self.assertEqual(status, 401)
        self.assertEqual(headers["www-authenticate"], 'Bearer realm="handoffd"')
        self.assertEqual(json.loads(body), {"error": "a bearer token is required"})
        status, headers, body = c.get("/metrics", token="not-" + TOKEN)
        self.assertEqual(status, 401)
        self.assertIn('error="invalid_token"', headers["www-authenticate"])
        self.assertEqual(c.get("/metrics", headers={"Authorization": "Basic " + TOKEN})[0], 401)
        self.assertEqual(c.get("/metrics", token=TOKEN[:-1])[0], 401)

        refused = [
            (c.get, ("/no/such/path",), {"token": TOKEN}, 404),
            (c.get, ("/metricsx",), {"token": TOKEN}, 404),
            (c.get, ("/metrics%0Aforged",), {"token": TOKEN}, 400),
            (c.request, ("POST", "/metrics"), {"body": b"{}"}, 405),
            (c.request, ("DELETE", "/readyz"), {}, 405),
            (c.get, ("/metrics?" + "x" * 20000,), {"token": TOKEN}, 414),
            (c.get, ("/metrics",), {"token": TOKEN, "headers": {"X-Padding": "y" * 20000}}, 431),
            (c.get, ("/metrics",), {"token": TOKEN, "body": b"z" * 20000}, 413),
        ]
        for fn, args, kw, want in refused:
            status, headers, body = fn(*args, **kw)
            self.assertEqual(status, want, (args, body))
            self.assertEqual(headers["content-type"], "application/json", (args, headers))
            self.assertIn("error", json.loads(body))
        self.assertEqual(c.request("POST", "/metrics", body=b"{}")[1]["allow"], "GET, HEAD")
        after = parse_exposition(c.metrics(token=TOKEN))[1]
        self.assertEqual(stable(after), stable(before))
        self.assertTrue(d.proc.running())

        # a reload reads the token file again
        with open(token_file, "w", encoding="utf-8") as f:
            f.write("n3w-" + TOKEN + "\n")
        mark = d.sighup()
        d.proc.wait_for(r"reloaded ", timeout=30, start=mark)
        self.assertEqual(c.get("/metrics", token=TOKEN)[0], 401)
        text = c.metrics(token="n3w-" + TOKEN)
        self.assertEqual(value(parse_exposition(text)[1], "handoff_reloads_total", result="ok"), 1)
        # a rules file that is rejected is counted, and the token in force stays
        with open(env.config_path, "a", encoding="utf-8") as f:
            f.write("\nnot_a_section: 1\n")
        mark = d.sighup()
        d.proc.wait_for(r"rejected", timeout=30, start=mark)
        samples = parse_exposition(c.wait_for("/metrics", 200, timeout=10, token="n3w-" + TOKEN,
                                              pattern=r'result="rejected"\} 1'))[1]
        self.assertEqual(value(samples, "handoff_reloads_total", result="ok"), 1)
        self.assertEqual(value(samples, "handoff_reloads_total", result="rejected"), 1)
        self.assertNotIn(TOKEN, "\n".join(d.log()))
        d.stop()

    def test_ready_only_while_the_broker_answers(self):
        # a broker of its own: this test stops it
        ns = "unreachable"
        cluster = h.Cluster([ns], partitions=2, name="http-unreachable")
        self.addCleanup(cluster.stop)
        env = cluster.env(ns)
        self.addCleanup(env.close)
        d = env.daemon().start()
        c = Client(http_address(d))
        c.wait_for("/readyz", 200, timeout=10)
        cluster.stop()
        body = c.wait_for("/readyz", 503, timeout=60, pattern=r"broker unreachable")
        self.assertRegex(body, r"^not ready: broker unreachable: .+\n$")
        # the loop still turns: alive, not ready
        self.assertEqual(c.get("/healthz")[:3:2], (200, "ok\n"))
        samples = parse_exposition(c.metrics())[1]
        self.assertEqual(value(samples, "handoff_ready"), 0)


if __name__ == "__main__":
    h.main()
