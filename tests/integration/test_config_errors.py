"""Broken rule files: `handoffd -c` and `handoffctl check` print every problem as
FILE:LINE:COL: key.path: message, then the offending line and a caret under the
column, and exit 2; a file either accepts is one the daemon can run (a reload
applies the same validation).  No broker needed."""

import os
import re
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import hftest as h  # noqa: E402

ERROR_LINE = re.compile(r"^(?P<file>[^\s:][^:]*):(?P<line>\d+):(?P<col>\d+): (?P<path>\S+): (?P<msg>.+)$")


def position(text, needle, nth=0):
    """1-based (line, column) of the @nth occurrence of @needle in @text."""
    idx = -1
    for _ in range(nth + 1):
        idx = text.index(needle, idx + 1)
    line = text.count("\n", 0, idx) + 1
    col = idx - (text.rfind("\n", 0, idx) + 1) + 1
    return line, col


class ConfigErrors(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = h.scratch_dir("config-errors")
        cls.fixture = h.read_fixture("handoff-test.yaml")

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def diagnostics(self, out):
        """[(match, printed source line, caret line)] from stderr."""
        lines = out.splitlines()
        found = []
        for i, l in enumerate(lines):
            m = ERROR_LINE.match(l)
            if m:
                self.assertLess(i + 2, len(lines) + 1, "no source and caret line after %r" % l)
                found.append((m, lines[i + 1], lines[i + 2]))
        return found

    def assert_points_at(self, diag, path, text, key_path, needle, message_rx, nth=0):
        """One diagnostic for @key_path at @needle, with the line and the caret."""
        want_line, want_col = position(text, needle, nth)
        hits = [d for d in diag if d[0].group("path") == key_path]
        self.assertEqual(len(hits), 1, "diagnostics for %s: %r" % (key_path, [d[0].group(0) for d in diag]))
        m, shown, caret = hits[0]
        self.assertEqual(m.group("file"), path)
        self.assertEqual((int(m.group("line")), int(m.group("col"))), (want_line, want_col), m.group(0))
        self.assertRegex(m.group("msg"), message_rx)
        source = text.splitlines()[want_line - 1]
        # the offending line, or (when its value could be a misplaced secret, as
        # after an unknown key) the line up to the end of the key
        self.assertTrue(shown.strip() and source.strip().startswith(shown.strip()), (shown, source))
        self.assertRegex(caret, r"^\s*\^\s*$")
        at = caret.index("^")
        # the caret sits under the same character the column names in the file
        self.assertGreater(len(shown.rstrip()), at)
        self.assertTrue(source[want_col - 1:].startswith(shown[at:].rstrip()), (shown[at:], source[want_col - 1:]))

    def both(self, path):
        """stderr of handoffd -c and handoffctl check on @path; both must exit 2."""
        out = []
        for argv in ([h.binary("HANDOFFD"), "-c", path], [h.binary("HANDOFFCTL"), "check", path],
                     [h.binary("HANDOFFD"), "--check", "-c", path]):
            r = h.run(argv, timeout=30)
            self.assertEqual(r.returncode, 2, "%s: rc %d\n%s%s" % (argv, r.returncode, r.stdout, r.stderr))
            self.assertNotIn(": ok", r.stdout)
            out.append(r.stderr)
        self.assertEqual(out[0].split("\n")[:-2], out[1].split("\n")[:-2])
        return out[1]

    def test_fixture_is_valid(self):
        path = self.write("ok.yaml", self.fixture)
        r = h.run([h.binary("HANDOFFCTL"), "check", path])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^%s: ok \(\d+ scoring rules, \d+ fit rules, \d+ contact rules; "
                         r"\d+ interest rules, \d+ role rules, \d+ account fit rules, \d+ account rules, "
                         r"\d+ target accounts, \d+ routing rules; 0 calendars, "
                         r"SLA accept 4h/first touch 24h/follow-up 3 in 24h\)$" % re.escape(path))
        ctl = r.stdout
        r = h.run([h.binary("HANDOFFD"), "--check", "-c", path])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, ctl)

    def test_shipped_file_counts(self):
        path = os.path.join(h.SOURCE_ROOT, "config", "handoff.yaml")
        r = h.run([h.binary("HANDOFFCTL"), "check", path])
        self.assertEqual(r.returncode, 0, r.stderr)
        counts = dict((name, int(n)) for n, name in re.findall(r"(\d+) ([a-z ]+?) (?:rules|accounts)", r.stdout))
        self.assertEqual(counts, {"scoring": 19, "fit": 9, "contact": 3, "interest": 9, "role": 9,
                                  "account fit": 4, "account": 2, "target": 5, "routing": 8}, r.stdout)

    def test_type_error(self):
        text = self.fixture.replace("    - name: pricing_page\n      points: 10\n",
                                    "    - name: pricing_page\n      points: 1O\n")
        self.assertNotEqual(text, self.fixture)
        path = self.write("type.yaml", text)
        diag = self.diagnostics(self.both(path))
        self.assertEqual(len(diag), 1)
        self.assert_points_at(diag, path, text, "scoring.rules[1].points", "1O",
                              r'expected integer in \[-1000, 1000\], got "1O"')

    def test_three_mistakes_three_reports(self):
        text = self.fixture.replace("  half_life: 7d\n", "  halflife: 7d\n") \
                           .replace("      requires: [pricing_page]\n      within: 7d\n",
                                    "      requires: [pricing_pages]\n      within: 7d\n") \
                           .replace("  commit_interval: 200ms\n", "  commit_interval: 200 parsecs\n")
        path = self.write("three.yaml", text)
        out = self.both(path)
        diag = self.diagnostics(out)
        self.assertEqual(len(diag), 3, out)
        self.assert_points_at(diag, path, text, "scoring", "halflife", r'unknown key "halflife".*allowed: .*half_life')
        self.assert_points_at(diag, path, text, "qualify.contact_rules[1].requires[0]", "pricing_pages",
                              r'unknown scoring rule "pricing_pages"')
        self.assert_points_at(diag, path, text, "state.commit_interval", "200 parsecs", r"duration")
        self.assertRegex(out, r"3 problems")

    def test_duplicate_key(self):
        text = self.fixture.replace("  max: 1000\n", "  max: 1000\n  max: 2000\n")
        path = self.write("dup.yaml", text)
        diag = self.diagnostics(self.both(path))
        self.assertEqual(len(diag), 1)
        self.assert_points_at(diag, path, text, "scoring.max", "max: 2000", r"duplicate key")

    def test_calendar_mistakes(self):
        text = self.fixture + ("\ncalendars:\n"
                               "  na:\n"
                               "    timezone: America/Nowhere\n"
                               "    hours: { mon-fri: \"09:00-17:00\", sat: \"10:00-25:00\" }\n"
                               "    teams: [na-enterprise, latam]\n")
        path = self.write("calendars.yaml", text)
        out = self.both(path)
        diag = self.diagnostics(out)
        self.assertEqual(len(diag), 3, out)
        self.assert_points_at(diag, path, text, "calendars.na.timezone", "America/Nowhere",
                              r'unknown time zone "America/Nowhere"')
        self.assert_points_at(diag, path, text, "calendars.na.hours.sat", '"10:00-25:00"',
                              r'expected working hours such as "09:00-17:00"')
        self.assert_points_at(diag, path, text, "calendars.na.teams[1]", "latam",
                              r'no routing rule names team "latam"; routing has .*na-enterprise')

    def test_yaml_syntax_error(self):
        text = self.fixture.replace("forms: [demo_request, contact_sales]", "forms: [demo_request, contact_sales")
        path = self.write("syntax.yaml", text)
        out = self.both(path)
        m = [ERROR_LINE.match(l) for l in out.splitlines() if ERROR_LINE.match(l)]
        self.assertEqual(len(m), 1, out)
        self.assertEqual(m[0].group("file"), path)
        line = int(m[0].group("line"))
        # libyaml notices the unclosed flow sequence at or after the line that opened it
        self.assertGreaterEqual(line, position(text, "forms: [demo_request")[0])

    def test_not_runnable_refused_by_validation(self):
        """What the daemon cannot run is refused by check as at start-up, at its line:
        exactly_once (not built) and a property librdkafka refuses."""
        text = self.fixture.replace("  partitions: 4\n",
                                    "  partitions: 4\n  processing_guarantee: exactly_once\n")
        text = text.replace('    heartbeat.interval.ms: "500"\n',
                            '    heartbeat.interval.ms: "500"\n    heartbeat.intervl.ms: "500"\n')
        self.assertEqual(text.count("exactly_once"), 1)
        self.assertEqual(text.count("heartbeat.intervl.ms"), 1)
        path = self.write("not-runnable.yaml", text)
        out = self.both(path)
        diag = self.diagnostics(out)
        self.assertEqual(len(diag), 2, out)
        self.assert_points_at(diag, path, text, "kafka.processing_guarantee", "exactly_once",
                              r"exactly_once \(Kafka transactions\) is not built yet; use at_least_once")
        self.assert_points_at(diag, path, text, "kafka.properties.heartbeat.intervl.ms",
                              "heartbeat.intervl.ms", r"not a librdkafka property")
        self.assertNotIn("not started", out)

    def test_missing_file(self):
        path = os.path.join(self.dir, "absent.yaml")
        for argv in ([h.binary("HANDOFFD"), "-c", path], [h.binary("HANDOFFCTL"), "check", path]):
            r = h.run(argv)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(path, r.stderr)
            self.assertRegex(r.stderr, r"No such file or directory")

    def test_secret_never_echoed(self):
        text = self.fixture.replace('    heartbeat.interval.ms: "500"\n',
                                    '    heartbeat.interval.ms: "500"\n    sasl.password: ${HFTEST_UNSET_SECRET_VAR}\n')
        path = self.write("secret.yaml", text)
        env = dict(os.environ)
        env.pop("HFTEST_UNSET_SECRET_VAR", None)
        r = h.run([h.binary("HANDOFFCTL"), "check", path], env=env)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("HFTEST_UNSET_SECRET_VAR", r.stderr)
        env["HFTEST_UNSET_SECRET_VAR"] = "hunter2-very-secret"
        r = h.run([h.binary("HANDOFFCTL"), "check", path], env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("hunter2", r.stdout + r.stderr)


if __name__ == "__main__":
    h.main()
