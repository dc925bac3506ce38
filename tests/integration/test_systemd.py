"""handoffd and its service manager: the sd_notify protocol (daemon/notify.c), read
from a socket of the test's own in systemd's place.

This machine runs no systemd (PID 1 is something else; `systemctl
is-system-running` says "offline"), so the unit itself cannot be started here:
test_install.py checks the unit file, and this file checks what the daemon tells
a service manager.  The real handoffd runs against hf-broker with NOTIFY_SOCKET
naming an AF_UNIX datagram socket bound by the test, and WATCHDOG_USEC set; every
datagram is kept with the time it arrived and the pid that sent it
(SCM_CREDENTIALS, as systemd's NotifyAccess=main checks):

- READY=1 once, after the partitions are assigned and their state loaded;
- STATUS= lines about every 5 s with the throughput;
- WATCHDOG=1 at half of WATCHDOG_USEC: not on every loop turn, and never a gap
  that would make systemd kill the service;
- RELOADING=1 (with MONOTONIC_USEC) then READY=1 around a SIGHUP, also when the
  new file is rejected (then a STATUS= saying so, one line whatever it quotes);
- STOPPING=1 at SIGTERM, before the process exits;
- a SIGHUP while starting announces neither a reload nor readiness; without
  WATCHDOG_USEC, or with WATCHDOG_PID naming another process, no WATCHDOG=1."""

import os
import re
import signal
import socket
import struct
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import hftest as h  # noqa: E402
from hftest import T0  # noqa: E402

# The daemon's environment is the test's plus what a test adds: a watchdog the
# test runner itself was given must not leak into a daemon that should have none.
for _var in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
    os.environ.pop(_var, None)

WATCHDOG_USEC = 2000000  # pings expected every 1 s
STATUS_EVERY_S = 5.0


class Message:
    """One datagram: when it arrived (monotonic s), who sent it, its assignments."""

    __slots__ = ("at", "pid", "fields", "raw")

    def __init__(self, at, pid, raw):
        self.at, self.pid, self.raw = at, pid, raw
        self.fields = []
        for line in raw.decode("utf-8", errors="replace").split("\n"):
            if line:
                k, _, v = line.partition("=")
                self.fields.append((k, v))

    def get(self, key):
        for k, v in self.fields:
            if k == key:
                return v
        return None

    def __repr__(self):
        return "Message(+%.3f pid %s %r)" % (self.at, self.pid, self.raw)


class NotifySocket:
    """The service manager's end: an AF_UNIX datagram socket in @directory, read by
    a thread that keeps every message.  Waits are bounded in time and rounds."""

    MAX_ROUNDS = 100000

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.settimeout(0.2)
        self.cond = threading.Condition()
        self.messages = []
        self._stopped = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        for _ in range(10 ** 7):
            if self._stopped:
                return
            try:
                data, anc, _flags, _addr = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
            except socket.timeout:
                continue
            except OSError:
                return
            at = time.monotonic()
            pid = None
            for level, kind, cdata in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("iII", cdata[:12])[0]
            with self.cond:
                self.messages.append(Message(at, pid, data))
                self.cond.notify_all()

    def close(self):
        self._stopped = True
        self._thread.join(timeout=5)
        self.sock.close()

    def snapshot(self):
        with self.cond:
            return list(self.messages)

    def wait(self, pred, timeout, start=0, what="a message"):
        """Index of the first message from @start on that satisfies @pred."""
        deadline = time.monotonic() + timeout
        i = start
        with self.cond:
            for _ in range(self.MAX_ROUNDS):
                while i < len(self.messages):
                    if pred(self.messages[i]):
                        return i
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.cond.wait(min(left, 0.5))
            got = list(self.messages)
        raise AssertionError("%s not received within %.0f s; got:\n%s" %
                             (what, timeout, "\n".join("  %r" % m for m in got[-40:])))


def has(key, value=None):
    return lambda m: m.get(key) is not None and (value is None or m.get(key) == value)


# "N records/s, M handoffs, lag L" (the pipeline's throughput line, about every 5 s)
STATUS_RX = re.compile(r"(\d+(?:\.\d+)?) records/s, (\d+) handoffs, lag (\d+)")


def demo_requests(n, at=T0):
    """@n contacts asking for a demo: each is handed off at once (hand_raiser)."""
    return [h.form("sd-f-%d" % i, at + i, "sd-a-%d" % i, "sd-c-%d" % i, form_type="demo_request",
                   title="Engineer") for i in range(n)]


class Notify(h.ClusterTestCase):
    partitions = 2

    def notify_env(self, **extra):
        ns = NotifySocket(self.env_dir)
        self.addCleanup(ns.close)
        environ = {"NOTIFY_SOCKET": ns.path}
        environ.update(extra)
        return ns, environ

    def setUp(self):
        self.env_ = self.env()
        self.env_dir = self.env_.dir

    def test_lifecycle(self):
        env = self.env_
        ns, environ = self.notify_env(WATCHDOG_USEC=str(WATCHDOG_USEC))
        d = env.daemon(environ=environ)
        t0 = time.monotonic()
        d.start(wait_ready=False)
        pid = d.proc.popen.pid

        # READY=1 after the assignment and its state (the line is logged after
        # the timers store is loaded): when READY=1 arrives the line is already in
        # the pipe, so it shows at once; a READY=1 sent at start-up would come
        # seconds before it (the mock's group join takes about 3 s).
        ready = ns.wait(has("READY", "1"), timeout=60, what="READY=1")
        t_ready = ns.snapshot()[ready].at
        d.proc.wait_for(r"assigned ([1-9]\d*) partitions; .*SLA clocks pending", timeout=30)
        seen = time.monotonic()
        sys.stderr.write("READY=1 %.2f s after start; the assignment's log line seen %.3f s after it\n" %
                         (t_ready - t0, seen - t_ready))
        self.assertLess(seen - t_ready, 1.0, "READY=1 came before the assignment was logged")

        # traffic: the throughput shows in STATUS=, and the lag goes back to 0
        env.send_all(demo_requests(20))
        busy = ns.wait(lambda m: m.get("STATUS") and STATUS_RX.search(m.get("STATUS")) and
                       float(STATUS_RX.search(m.get("STATUS")).group(1)) > 0,
                       timeout=3 * STATUS_EVERY_S, start=ready, what="a STATUS= with records/s > 0")
        ns.wait(lambda m: m.get("STATUS") and STATUS_RX.search(m.get("STATUS")) and
                int(STATUS_RX.search(m.get("STATUS")).group(2)) >= 20 and
                STATUS_RX.search(m.get("STATUS")).group(3) == "0",
                timeout=3 * STATUS_EVERY_S, start=busy, what="a STATUS= with 20 handoffs and lag 0")

        # SIGHUP with the same file: RELOADING=1 (MONOTONIC_USEC = now), READY=1
        mark = len(ns.snapshot())
        d.sighup()
        t_hup = time.monotonic()
        reloading = ns.wait(has("RELOADING", "1"), timeout=20, start=mark, what="RELOADING=1")
        msgs = ns.snapshot()
        mono = int(msgs[reloading].get("MONOTONIC_USEC"))
        self.assertLess(abs(mono / 1e6 - t_hup), 5.0, msgs[reloading])
        back = ns.wait(has("READY", "1"), timeout=20, start=reloading, what="READY=1 after the reload")
        d.proc.wait_for(r"reloaded .*: the new rules apply", timeout=20)

        # SIGHUP with a broken file: announced the same way, and said in STATUS=
        with open(env.config_path, encoding="utf-8") as f:
            good = f.read()
        bad = good.replace("  partitions: %d\n" % env.partitions, "  partitions: two\n", 1)
        self.assertNotEqual(bad, good)
        with open(env.config_path, "w", encoding="utf-8") as f:
            f.write(bad)
        mark = len(ns.snapshot())
        d.sighup()
        reloading = ns.wait(has("RELOADING", "1"), timeout=20, start=mark, what="RELOADING=1 (broken file)")
        back = ns.wait(has("READY", "1"), timeout=20, start=reloading, what="READY=1 after a rejected reload")
        ns.wait(lambda m: "rejected" in (m.get("STATUS") or ""), timeout=20, start=back,
                what="a STATUS= saying the reload was rejected")
        with open(env.config_path, "w", encoding="utf-8") as f:
            f.write(good)

        # long enough for the watchdog's rate to show
        run_until = t_ready + 4 * STATUS_EVERY_S
        time.sleep(max(0.0, run_until - time.monotonic()))

        # SIGTERM: STOPPING=1 before the process is gone
        mark = len(ns.snapshot())
        d.stop()
        t_exit = time.monotonic()
        stopping = ns.wait(has("STOPPING", "1"), timeout=5, start=mark, what="STOPPING=1")
        msgs = ns.snapshot()
        self.assertLess(msgs[stopping].at, t_exit)

        # every message came from the daemon itself, one assignment per line
        for m in msgs:
            self.assertEqual(m.pid, pid, m)
            for k, v in m.fields:
                self.assertRegex(k, r"^[A-Z_]+$", m)
        # READY=1: once at start and once after each reload, never while stopping
        readies = [i for i, m in enumerate(msgs) if m.get("READY") == "1"]
        self.assertEqual(len(readies), 3, msgs)
        self.assertFalse([m for m in msgs[stopping + 1:] if m.get("READY") or m.get("RELOADING")])

        # STATUS= about every STATUS_EVERY_S while running
        statuses = [m.at for m in msgs[ready:stopping] if STATUS_RX.search(m.get("STATUS") or "")]
        gaps = [b - a for a, b in zip(statuses, statuses[1:])]
        sys.stderr.write("STATUS= throughput lines: %d, gaps %s s\n" %
                         (len(statuses), ", ".join("%.2f" % g for g in gaps)))
        self.assertGreaterEqual(len(statuses), 3)
        for g in gaps:
            self.assertTrue(0.6 * STATUS_EVERY_S <= g <= 1.6 * STATUS_EVERY_S, gaps)

        # WATCHDOG=1 at half the interval: rate-limited (not every loop turn) and
        # never a gap the watchdog would end the service for
        pings = [m.at for m in msgs if m.get("WATCHDOG") == "1"]
        half = WATCHDOG_USEC / 2e6
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        span = pings[-1] - pings[0] if pings else 0
        sys.stderr.write("WATCHDOG=1: %d pings over %.1f s, gaps %.3f..%.3f s (expected %.1f s)\n" %
                         (len(pings), span, min(gaps or [0]), max(gaps or [0]), half))
        self.assertGreater(span, 3 * STATUS_EVERY_S)
        self.assertGreaterEqual(min(gaps), 0.9 * half, "%d pings, gaps from %.3f s" % (len(pings), min(gaps)))
        self.assertLess(max(gaps), WATCHDOG_USEC / 1e6, "a gap of %.3f s" % max(gaps))
        self.assertGreaterEqual(len(pings), int(span / half * 0.8))

    def test_reload_while_starting(self):
        """A SIGHUP before the assignment: no RELOADING=1, and its end is not taken
        for readiness; READY=1 comes once, with the assignment.  No WATCHDOG_USEC:
        no pings."""
        env = self.env_
        ns, environ = self.notify_env()
        d = env.daemon(environ=environ)
        d.start(wait_ready=False)
        # signal handlers are in place once the pipeline says what it consumes
        d.proc.wait_for(r"consuming \d+ topics as group", timeout=30)
        d.sighup()
        ready = ns.wait(has("READY", "1"), timeout=60, what="READY=1")
        t_ready = ns.snapshot()[ready].at
        i, _ = d.proc.wait_for(r"reloaded .*: the new rules apply", timeout=30)
        j, _ = d.proc.wait_for(r"assigned ([1-9]\d*) partitions", timeout=30)
        self.assertLess(i, j, "the reload did not happen before the assignment")
        self.assertLess(time.monotonic() - t_ready, 1.0, "READY=1 came before the assignment was logged")
        time.sleep(1.5 * WATCHDOG_USEC / 1e6)
        d.stop()
        msgs = ns.snapshot()
        self.assertEqual([m for m in msgs if m.get("RELOADING")], [])
        self.assertEqual(len([m for m in msgs if m.get("READY")]), 1, msgs)
        self.assertEqual([m for m in msgs if m.get("WATCHDOG")], [])
        self.assertTrue([m for m in msgs[ready:] if m.get("STOPPING") == "1"], msgs)

    def test_status_is_one_line(self):
        """STATUS= text is one line whatever it quotes: a rules file whose name
        holds a newline and READY=1 cannot add an assignment to the message that
        says its reload was rejected."""
        env = self.env_
        sneaky = os.path.join(env.dir, "rules\nREADY=1\nx.yaml")
        os.symlink(env.config_path, sneaky)
        with open(env.config_path, encoding="utf-8") as f:
            good = f.read()
        env.config_path = sneaky
        ns, environ = self.notify_env()
        d = env.daemon(environ=environ)
        d.start(wait_ready=False)
        ready = ns.wait(has("READY", "1"), timeout=60, what="READY=1")
        with open(sneaky, "w", encoding="utf-8") as f:
            f.write(good.replace("  partitions: %d\n" % env.partitions, "  partitions: two\n", 1))
        d.sighup()
        rejected = ns.wait(lambda m: "rejected" in (m.get("STATUS") or ""), timeout=30, start=ready,
                           what="a STATUS= saying the reload was rejected")
        d.stop()
        msgs = ns.snapshot()
        self.assertEqual([k for k, _ in msgs[rejected].fields], ["STATUS"], msgs[rejected])
        self.assertIn("rules READY=1 x.yaml", msgs[rejected].get("STATUS"))
        # the start and the end of the reload
        self.assertEqual(len([m for m in msgs if m.get("READY")]), 2, msgs)

    def test_watchdog_of_another_process(self):
        """WATCHDOG_PID names another process (the environment was inherited):
        handoffd does not ping on its behalf."""
        env = self.env_
        ns, environ = self.notify_env(WATCHDOG_USEC="1000000", WATCHDOG_PID=str(os.getpid()))
        d = env.daemon(environ=environ)
        d.start(wait_ready=False)
        ns.wait(has("READY", "1"), timeout=60, what="READY=1")
        time.sleep(2.5)
        d.stop()
        self.assertEqual([m for m in ns.snapshot() if m.get("WATCHDOG")], [])


if __name__ == "__main__":
    h.main()
