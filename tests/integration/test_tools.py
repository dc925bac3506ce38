"""The operator's tools: handoffctl reads the same rules file as handoffd when no
-c is given, $HANDOFF_CONFIG or else the installed one compiled in (and fails
rather than fall back to built-in rules); handoffctl
consume tells an unreachable broker from a missing topic within --timeout, prints
one valid JSON line per record (UTF-8 kept, undecodable values explained, no raw
e-mail address); hf-gen reports its progress on stderr and keeps stdout empty."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import hftest as h  # noqa: E402
from hftest import T0  # noqa: E402

# The rules file named by $HANDOFF_CONFIG in these tests, relative to the working
# directory as a checkout would name it.
DEFAULT_CONFIG = "config/handoff.yaml"
# HF_CONFIG_DEFAULT_PATH: the installed file (<sysconfdir>/handoff/handoff.yaml),
# read when neither -c nor $HANDOFF_CONFIG names one.
COMPILED_DEFAULT = os.environ["HF_CONFIG_DEFAULT"]
os.environ.pop("HANDOFF_CONFIG", None)
SITE = "https://www.acme-analytics.example"


def run_in(cwd, argv, timeout=60, config=DEFAULT_CONFIG):
    """Runs a short command in @cwd with $HANDOFF_CONFIG=@config (None: unset);
    returns CompletedProcess with text output."""
    env = h.child_env()
    if config is not None:
        env["HANDOFF_CONFIG"] = config
    r = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout, env=env)
    h.assert_no_sanitizer_reports(os.path.basename(argv[0]), r.stderr.splitlines())
    return r


def closed_loopback_port():
    """A loopback port nothing listens on: bound, then released."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


class WithoutBroker(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = h.scratch_dir("tools")
        cls.fixture = h.read_fixture("handoff-test.yaml")

    def workdir(self, name, config_text=None):
        """A fresh working directory, with config/handoff.yaml when @config_text."""
        d = os.path.join(self.dir, name)
        os.makedirs(os.path.join(d, "config"))
        if config_text is not None:
            with open(os.path.join(d, DEFAULT_CONFIG), "w", encoding="utf-8") as f:
                f.write(config_text)
        return d

    def test_check_reads_the_default_file(self):
        d = self.workdir("check-default", self.fixture)
        ctl = run_in(d, [h.binary("HANDOFFCTL"), "check"])
        self.assertEqual(ctl.returncode, 0, ctl.stderr)
        self.assertRegex(ctl.stdout, r"^config/handoff\.yaml: ok \(")
        # the daemon's default is the same file
        daemon = run_in(d, [h.binary("HANDOFFD"), "--check"])
        self.assertEqual(daemon.returncode, 0, daemon.stderr)
        self.assertEqual(daemon.stdout, ctl.stdout)
        for argv in ([h.binary("HANDOFFCTL"), "--help"], [h.binary("HANDOFFD"), "--help"]):
            r = run_in(d, argv)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("default: $HANDOFF_CONFIG, else " + COMPILED_DEFAULT + ")", " ".join(r.stdout.split()))

    def test_without_handoff_config_the_installed_file(self):
        """Neither -c nor $HANDOFF_CONFIG: the installed file compiled in, not the
        working directory's config/handoff.yaml."""
        self.assertTrue(os.path.isabs(COMPILED_DEFAULT), COMPILED_DEFAULT)
        if os.path.exists(COMPILED_DEFAULT):
            self.skipTest("%s exists on this machine" % COMPILED_DEFAULT)
        d = self.workdir("compiled-default", self.fixture)
        for argv in ([h.binary("HANDOFFCTL"), "check"], [h.binary("HANDOFFD"), "--check"]):
            r = run_in(d, argv, config=None)
            self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
            self.assertIn("%s: cannot open: No such file or directory" % COMPILED_DEFAULT, r.stderr)
            self.assertNotIn(DEFAULT_CONFIG, r.stderr)
        # an empty $HANDOFF_CONFIG is no name
        r = run_in(d, [h.binary("HANDOFFCTL"), "check"], config="")
        self.assertIn("%s: cannot open" % COMPILED_DEFAULT, r.stderr)

    def test_dump_without_c_needs_the_default_file(self):
        """No -c and no config/handoff.yaml: exit 2 naming the file, not scores
        under built-in rules."""
        d = self.workdir("dump-missing")
        r = run_in(d, [h.binary("HANDOFFCTL"), "dump", "--state", os.path.join(d, "state"), "contacts"])
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("config/handoff.yaml: cannot open: No such file or directory", r.stderr)
        self.assertIn("no rules file given (FILE or -c FILE): config/handoff.yaml, the default ($HANDOFF_CONFIG, "
                      "else %s), is needed" % COMPILED_DEFAULT, r.stderr)
        self.assertEqual(r.stdout, "")
        r = run_in(d, [h.binary("HANDOFFCTL"), "check"])
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("config/handoff.yaml: cannot open", r.stderr)

    def test_dump_of_a_store_that_is_not_there(self):
        """A state directory that does not exist (yet: a daemon not started): exit
        1 naming it, nothing on stdout, and under the sanitizers nothing leaked on
        the way out (the column families RocksDB lists fail before the store opens)."""
        d = self.workdir("dump-no-store")
        for table in ("offsets", "owed", "metrics"):
            r = run_in(d, [h.binary("HANDOFFCTL"), "dump", "--state", os.path.join(d, "no-state"), table],
                       config=os.path.join(h.SOURCE_ROOT, "config", "handoff.yaml"))
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn(os.path.join(d, "no-state") + ": IO error", r.stderr)
            self.assertEqual(r.stdout, "")

    def test_dump_without_c_refuses_a_broken_default_file(self):
        text = self.fixture.replace("  partitions: 4\n", "  partitions: four\n")
        self.assertNotEqual(text, self.fixture)
        d = self.workdir("dump-broken", text)
        r = run_in(d, [h.binary("HANDOFFCTL"), "dump", "--state", os.path.join(d, "state"), "accounts"])
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertRegex(r.stderr, r"(?m)^config/handoff\.yaml:\d+:\d+: kafka\.partitions: expected integer")
        self.assertEqual(r.stdout, "")

    def test_consume_unreachable_broker(self):
        """Nothing listens at the address: a message naming it, within --timeout."""
        address = "127.0.0.1:%d" % closed_loopback_port()
        for timeout in (1, 3):
            t0 = time.monotonic()
            r = h.run([h.binary("HANDOFFCTL"), "consume", "--brokers", address, "--topic", "mkt.web.visits",
                       "--timeout", str(timeout)], timeout=timeout + 30)
            took = time.monotonic() - t0
            sys.stderr.write("consume --timeout %d against %s gave up after %.2f s\n" % (timeout, address, took))
            self.assertNotEqual(r.returncode, 0, r.stderr)
            self.assertIn("cannot reach the broker at %s within %d s" % (address, timeout), r.stderr)
            self.assertNotIn("not found", r.stderr)
            self.assertEqual(r.stdout, "")
            self.assertLess(took, timeout + 2.0)
            # only handoffctl's line, not librdkafka's log
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)

    def test_gen_progress_on_stderr(self):
        """A run of about 2.5 s: progress lines every second, then the summary;
        stdout stays empty; --quiet keeps stderr empty too."""
        out = os.path.join(self.dir, "gen.bin")
        argv = [h.binary("HF_GEN"), "--output", out, "--contacts", "20", "--rate", "50", "--seed", "7",
                "--start-ms", str(T0)]
        r = h.run(argv, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "")
        lines = r.stderr.splitlines()
        progress = [re.match(r"^hf-gen: (\d+) records sent in ([\d.]+) s \((\d+) records/s\), (\d+) acknowledged; "
                             r"(\d+)% of 20 people$", l) for l in lines]
        progress = [m for m in progress if m]
        final = [re.match(r"^hf-gen: (\d+) records in ([\d.]+) s \((\d+) records/s\):", l) for l in lines]
        final = [m for m in final if m]
        self.assertEqual(len(final), 1, r.stderr)
        self.assertTrue(lines[-1].startswith(final[0].group(0)), r.stderr)
        total, secs = int(final[0].group(1)), float(final[0].group(2))
        self.assertGreater(secs, 1.5, r.stderr)
        self.assertGreaterEqual(len(progress), 1, r.stderr)
        self.assertLessEqual(len(progress), int(secs) + 1, r.stderr)
        last = 0
        for m in progress:
            sent, pct = int(m.group(1)), int(m.group(5))
            self.assertGreater(sent, last)
            self.assertLess(sent, total)
            self.assertLessEqual(int(m.group(4)), sent)
            self.assertTrue(0 < pct <= 100, m.group(0))
            last = sent
        with open(out, "rb") as f:
            produced = f.read()
        r = h.run(argv + ["--quiet"], timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual((r.stdout, r.stderr), ("", ""))
        with open(out, "rb") as f:
            self.assertEqual(f.read(), produced)  # --quiet changes nothing else


class WithBroker(h.ClusterTestCase):
    partitions = 1

    def ctl_consume(self, env, topic_key, expect, timeout=10):
        r = env.ctl("consume", "--brokers", env.address, "--topic", env.topics[topic_key], "--max", str(expect),
                    "--timeout", str(timeout), timeout=timeout + 60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def test_consume_missing_topic(self):
        env = self.env()
        topic = env.ns + ".no-such-topic"
        t0 = time.monotonic()
        r = env.ctl("consume", "--brokers", env.address, "--topic", topic, "--timeout", "3")
        self.assertLess(time.monotonic() - t0, 5.0)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("topic %s: not found" % topic, r.stderr)
        self.assertNotIn("cannot reach", r.stderr)

    def test_consume_values(self):
        env = self.env()
        good = h.web_visit("v-1", T0, "a-1", SITE + "/pricing", title="Pricing").encode(env.avro)
        utf8_key = "clé-Ünïcødé-日本-\U0001F600"
        cases = [
            # (key bytes or str, value bytes or None)
            (utf8_key, good),
            (b"k\xff\x01\xc3(", b"GET /pricing HTTP/1.1\r\n"),
            ("truncated", good[:len(good) - 9]),
            ("json", b'{"a": 1,\n  "b": [true, null, "x\\ny"],\t"c": {"d": -1.5e3}}\n'),
            ("json-broken", b'{"a": 1, "b": [tru'),
            ("tombstone", None),
            ("email", h.identity("i-1", T0, "c-1", trait_kw={"email": "jane.doe+x@acme.example",
                                                              "title": "VP"}).encode(env.avro)),
        ]
        for key, value in cases:
            env.send_raw("web_visits", key, value)
        r = self.ctl_consume(env, "web_visits", len(cases))
        raw = r.stdout.encode("utf-8")
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), len(cases), r.stdout)
        recs = [json.loads(l) for l in lines]  # each line is valid JSON
        self.assertEqual([x["offset"] for x in recs], list(range(len(cases))))

        # valid UTF-8 stays as it is, in the JSON and in the bytes written
        self.assertEqual(recs[0]["key"], utf8_key)
        self.assertIn(utf8_key.encode("utf-8"), raw)
        self.assertEqual(recs[0]["value"]["url"], SITE + "/pricing")
        self.assertNotIn("value_error", recs[0])

        # invalid UTF-8 and control bytes are escaped; the value says why it is null
        self.assertEqual(recs[1]["key"], "k\u00ff\u0001\u00c3(")
        self.assertIsNone(recs[1]["value"])
        self.assertRegex(recs[1]["value_error"], r"not single-object encoding")
        self.assertEqual(recs[1]["value_size"], len(cases[1][1]))
        self.assertEqual(recs[1]["value_head_hex"], cases[1][1][:10].hex())
        self.assertIsNone(recs[2]["value"])
        self.assertRegex(recs[2]["value_error"], r"ends inside")
        self.assertEqual(recs[2]["value_head_hex"], good[:10].hex())

        # a JSON record (output.format: json) is passed through, on one line
        self.assertEqual(recs[3]["value"], {"a": 1, "b": [True, None, "x\ny"], "c": {"d": -1500.0}})
        self.assertIsNone(recs[4]["value"])
        self.assertRegex(recs[4]["value_error"], r"not JSON \(byte \d+\)")

        # a tombstone is null without an error
        self.assertIsNone(recs[5]["value"])
        self.assertNotIn("value_error", recs[5])

        # no raw e-mail address, the domain stays
        self.assertNotIn("jane.doe", r.stdout)
        self.assertEqual(h.avro_json_plain(recs[6]["value"])["traits"]["email"], "***@acme.example")

    def test_dump_reads_the_default_file(self):
        """Scores and grades of `dump` without -c are those of the rules the daemon
        runs: the fixture's fit rules make c-vp an A (built-in rules: F)."""
        env = self.env()
        d = env.daemon().start()
        env.send(h.identity("i-vp", T0, "c-vp", trait_kw={"title": "VP Engineering", "employees": 500}))
        d.wait_caught_up()
        d.stop()
        with_c = env.dump("contacts", "--id", "c-vp")
        self.assertEqual(len(with_c), 1)
        self.assertEqual(with_c[0]["grade"], "A")
        wd = os.path.join(env.dir, "wd")
        os.makedirs(os.path.join(wd, "config"))
        shutil.copyfile(env.config_path, os.path.join(wd, DEFAULT_CONFIG))
        r = run_in(wd, [h.binary("HANDOFFCTL"), "dump", "--state", env.state_dir, "contacts", "--id", "c-vp"])
        self.assertEqual(r.returncode, 0, r.stderr)
        without_c = [json.loads(l) for l in r.stdout.splitlines()]
        self.assertEqual(without_c, with_c)

    def test_consume_json_outputs(self):
        """output.format: json is built: the daemon writes its handoff as one JSON
        object, and consume prints it as the value."""
        env = self.env(config_edit=lambda t: t.replace("output:\n  format: avro\n", "output:\n  format: json\n"))
        with open(env.config_path, encoding="utf-8") as f:
            self.assertIn("format: json", f.read())
        d = env.daemon().start()
        env.send(h.form("f-1", T0, "a-j", "c-j", form_type="demo_request", title="Engineer"))
        r = self.ctl_consume(env, "conversation_ready", 1, timeout=30)
        d.stop()
        recs = [json.loads(l) for l in r.stdout.splitlines()]
        self.assertEqual(len(recs), 1, r.stdout)
        self.assertNotIn("value_error", recs[0])
        value = recs[0]["value"]
        self.assertEqual(value["handoff_id"], h.handoff_id("c-j"))
        self.assertEqual(value["rule"], "hand_raiser")
        raw = env.consume("conversation_ready", expect=1)[0].value
        self.assertEqual(json.loads(raw), value)

    def test_reload_refuses_what_start_refuses(self):
        """SIGHUP with a file that sets what the daemon cannot run: rejected with its
        positions, the daemon keeps running on the rules in force."""
        env = self.env()
        d = env.daemon().start()
        with open(env.config_path, encoding="utf-8") as f:
            text = f.read()
        bad = text.replace("\nkafka:\n", "\nkafka:\n  processing_guarantee: exactly_once\n", 1)
        self.assertNotEqual(bad, text)
        with open(env.config_path, "w", encoding="utf-8") as f:
            f.write(bad)
        line = bad.splitlines().index("  processing_guarantee: exactly_once") + 1
        mark = d.sighup()
        d.proc.wait_for(r"reload of .* rejected", timeout=20, start=mark)
        err = "\n".join(d.log()[mark:])
        self.assertRegex(err, r"%s:%d:25: kafka\.processing_guarantee: exactly_once \(Kafka transactions\) is "
                              r"not built yet" % (re.escape(env.config_path), line))
        self.assertTrue(d.proc.running())
        d.stop()

    def test_gen_to_the_broker(self):
        """hf-gen against the broker: progress counts acknowledgements, the summary
        matches what the topics hold."""
        env = self.env()
        report = os.path.join(env.dir, "gen.json")
        r = h.run([h.binary("HF_GEN"), "-c", env.config_path, "--brokers", env.address, "--contacts", "15",
                   "--rate", "100", "--seed", "11", "--start-ms", str(T0), "--dup-rate", "0",
                   "--report", report], timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertRegex(r.stderr, r"(?m)^hf-gen: \d+ records sent in [\d.]+ s \(\d+ records/s\), \d+ acknowledged; "
                                   r"\d+% of 15 people$")
        m = re.search(r"(?m)^hf-gen: (\d+) records in [\d.]+ s \(\d+ records/s\):", r.stderr)
        self.assertIsNotNone(m, r.stderr)
        with open(report, encoding="utf-8") as f:
            self.assertEqual(int(m.group(1)), json.load(f)["records"])
        ends = env.end_offsets(["web_visits", "form_submissions", "content_downloads", "webinar_attendance",
                                "email_engagement", "identity", "sales_activity"])
        self.assertEqual(sum(ends.values()), int(m.group(1)))


if __name__ == "__main__":
    h.main()
