"""`meson install` as a package build or an operator runs it, into a scratch
DESTDIR, and the installed programs run from there:

- the tree: handoffd and handoffctl in bindir, hf-broker and hf-gen only with
  -Ddemo_tools=true, the commented default rules file in
  <sysconfdir>/handoff/handoff.yaml, the schemas in <datadir>/handoff/schemas,
  handoffd.service in systemd's unit directory, README.md and docs/*.md in
  <datadir>/doc/handoff;
- an upgrade keeps an edited rules file and puts the new default beside it;
- the unit: its settings, `systemd-analyze verify` without a word, and
  `systemd-analyze security`'s rating;
- the default rules file compiled in is the installed one, and $HANDOFF_CONFIG
  names another for both programs;
- the installed handoffd on the installed rules file (pointed at the test's
  broker) hands off a demo request, with memory-deny-write-execute in force as
  the unit asks (prctl PR_SET_MDWE, what MemoryDenyWriteExecute= amounts to), no
  writable and executable mapping, and no library asking for an executable stack.

Another configuration (a prefix of /usr, the demo tools) is checked by what meson
plans for it, without building it."""

import ctypes
import filecmp
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

import hftest as h  # noqa: E402
from hftest import T0  # noqa: E402

BUILD_ROOT = os.environ.get("MESON_BUILD_ROOT")
SOURCE_ROOT = h.SOURCE_ROOT
os.environ.pop("HANDOFF_CONFIG", None)


def build_options():
    """The build's options as meson reports them: {name: value}."""
    r = h.run(["meson", "introspect", BUILD_ROOT, "--buildoptions"], timeout=60)
    if r.returncode != 0:
        raise AssertionError("meson introspect: %s" % r.stderr)
    return {o["name"]: o["value"] for o in json.loads(r.stdout)}


def unit_dir(opts):
    """Where the unit goes, found as meson.build says, independently of it."""
    if opts["systemdsystemunitdir"]:
        return opts["systemdsystemunitdir"]
    r = subprocess.run(["pkg-config", "--variable=systemdsystemunitdir", "systemd"], capture_output=True,
                       text=True)
    if r.returncode == 0 and r.stdout.strip():
        return r.stdout.strip()
    return os.path.join(opts["prefix"], "lib", "systemd", "system")


def under(root, path):
    """@path (absolute) inside the DESTDIR @root."""
    return os.path.join(root, path.lstrip("/"))


def meson_install(destdir):
    r = h.run(["meson", "install", "-C", BUILD_ROOT, "--destdir", destdir, "--no-rebuild"], timeout=300)
    if r.returncode != 0:
        raise AssertionError("meson install: rc %d\n%s%s" % (r.returncode, r.stdout, r.stderr))
    return r


class Layout:
    """The installed paths of this build, from its options."""

    def __init__(self, root):
        o = build_options()
        prefix = o["prefix"]
        self.root = root
        self.demo_tools = o["demo_tools"]
        self.bindir = os.path.join(prefix, o["bindir"])
        self.sysconfdir = os.path.join(prefix, o["sysconfdir"])
        self.datadir = os.path.join(prefix, o["datadir"])
        self.config = os.path.join(self.sysconfdir, "handoff", "handoff.yaml")
        self.unit = os.path.join(unit_dir(o), "handoffd.service")

    def at(self, path):
        return under(self.root, path)

    def bin(self, name):
        return self.at(os.path.join(self.bindir, name))


def source_files(rel_dir, pred):
    out = []
    base = os.path.join(SOURCE_ROOT, rel_dir)
    for d, _dirs, names in os.walk(base):
        out += [os.path.relpath(os.path.join(d, n), base) for n in names if pred(n)]
    return sorted(out)


def unit_settings(path):
    """{(section, key): [values]} of a unit file (its lines, comments skipped)."""
    out, section = {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("["):
                section = line.strip("[]")
                continue
            k, _, v = line.partition("=")
            out.setdefault((section, k), []).append(v)
    return out


def systemd_analyze(*args):
    return subprocess.run(["systemd-analyze"] + list(args), capture_output=True, text=True, timeout=120)


class InstalledTree(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = h.scratch_dir("install")
        cls.lay = Layout(os.path.join(cls.dir, "root"))
        cls.install_out = meson_install(cls.lay.root).stdout

    def test_tree(self):
        lay = self.lay
        for name in ("handoffd", "handoffctl"):
            self.assertTrue(os.access(lay.bin(name), os.X_OK), lay.bin(name))
        programs = ["handoffctl", "handoffd"] + (["hf-broker", "hf-gen"] if lay.demo_tools else [])
        self.assertEqual(sorted(os.listdir(lay.at(lay.bindir))), programs)

        self.assertTrue(filecmp.cmp(lay.at(lay.config), os.path.join(SOURCE_ROOT, "config", "handoff.yaml"),
                                    shallow=False))
        self.assertFalse(os.path.exists(lay.at(lay.config) + ".default"))

        schemas = source_files("schemas", lambda n: n.endswith(".avsc"))
        self.assertIn("ConversationReady.avsc", schemas)
        self.assertIn(os.path.join("state", "ContactState.avsc"), schemas)
        inst = lay.at(os.path.join(lay.datadir, "handoff", "schemas"))
        self.assertEqual(source_files(inst, lambda n: n.endswith(".avsc")), schemas)
        for s in schemas:
            self.assertTrue(filecmp.cmp(os.path.join(inst, s), os.path.join(SOURCE_ROOT, "schemas", s),
                                        shallow=False), s)
        self.assertFalse(os.path.exists(os.path.join(inst, "meson.build")))

        docs = lay.at(os.path.join(lay.datadir, "doc", "handoff"))
        want = ["README.md"] + source_files("docs", lambda n: n.endswith(".md"))
        self.assertIn("OPERATIONS.md", want)
        self.assertEqual(sorted(os.listdir(docs)), sorted(want))

        self.assertTrue(os.path.isfile(lay.at(lay.unit)), lay.unit)

    def test_unit(self):
        lay = self.lay
        u = unit_settings(lay.at(lay.unit))
        svc = lambda k: u.get(("Service", k))  # noqa: E731
        self.assertEqual(svc("ExecStart"), ["%s -c %s --state /var/lib/handoff" %
                                            (os.path.join(lay.bindir, "handoffd"), lay.config)])
        expected = {
            "Type": "notify", "ExecReload": "/bin/kill -HUP $MAINPID", "Restart": "on-failure",
            "DynamicUser": "yes", "StateDirectory": "handoff", "ProtectSystem": "strict", "ProtectHome": "yes",
            "PrivateTmp": "yes", "NoNewPrivileges": "yes", "CapabilityBoundingSet": "",
            "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "MemoryDenyWriteExecute": "yes",
            "LockPersonality": "yes", "RestrictRealtime": "yes", "ProtectKernelTunables": "yes",
            "ProtectKernelModules": "yes", "ProtectKernelLogs": "yes", "ProtectControlGroups": "yes",
            "UMask": "0077",
        }
        for k, v in expected.items():
            self.assertEqual(svc(k), [v], k)
        self.assertIn("@system-service", svc("SystemCallFilter"))
        self.assertGreaterEqual(int(svc("LimitNOFILE")[0]), 4096)
        self.assertTrue(svc("WatchdogSec"))
        self.assertEqual(u.get(("Install", "WantedBy")), ["multi-user.target"])

        # systemd-analyze verify wants the binaries to exist: a copy of the unit
        # naming the DESTDIR's handoffd.  Warnings count: verify exits 0 on an
        # unknown key or a bad value.
        vdir = os.path.join(self.dir, "verify")
        os.makedirs(vdir, exist_ok=True)
        with open(lay.at(lay.unit), encoding="utf-8") as f:
            text = f.read()
        text = text.replace("ExecStart=%s/handoffd" % lay.bindir, "ExecStart=%s" % lay.bin("handoffd"))
        copy = os.path.join(vdir, "handoffd.service")
        with open(copy, "w", encoding="utf-8") as f:
            f.write(text)
        r = systemd_analyze("verify", copy)
        sys.stderr.write("systemd-analyze verify: rc %d, %r\n" % (r.returncode, r.stdout + r.stderr))
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))
        # ... and it speaks when something is wrong
        broken = os.path.join(vdir, "broken")
        os.makedirs(broken, exist_ok=True)
        with open(os.path.join(broken, "handoffd.service"), "w", encoding="utf-8") as f:
            f.write(text.replace("ProtectSystem=strict", "ProtectSystem=strictly"))
        r = systemd_analyze("verify", os.path.join(broken, "handoffd.service"))
        self.assertIn("strictly", r.stdout + r.stderr)

        r = systemd_analyze("security", "--offline=yes", copy)
        m = re.search(r"Overall exposure level for handoffd\.service: ([\d.]+) (\w+)", r.stdout)
        self.assertIsNotNone(m, r.stdout + r.stderr)
        sys.stderr.write("systemd-analyze security: %s %s\n" % (m.group(1), m.group(2)))
        self.assertLessEqual(float(m.group(1)), 1.5, r.stdout)

    def test_upgrade_keeps_the_rules_file(self):
        lay = self.lay
        source = os.path.join(SOURCE_ROOT, "config", "handoff.yaml")
        root = os.path.join(self.dir, "upgrade")
        meson_install(root)
        target = under(root, lay.config)
        with open(target, "a", encoding="utf-8") as f:
            f.write("# edited by the operator\n")
        with open(target, encoding="utf-8") as f:
            edited = f.read()
        meson_install(root)
        with open(target, encoding="utf-8") as f:
            self.assertEqual(f.read(), edited)
        self.assertTrue(filecmp.cmp(target + ".default", source, shallow=False))
        # back to the default: nothing to put beside it
        shutil.copyfile(source, target)
        meson_install(root)
        self.assertTrue(filecmp.cmp(target, source, shallow=False))
        self.assertFalse(os.path.exists(target + ".default"))

    def test_config_outside_the_prefix(self):
        """With a prefix of /usr the rules file goes to /etc, outside the prefix:
        the install step still writes it under DESTDIR."""
        root = os.path.join(self.dir, "usr-prefix")
        env = dict(os.environ, MESON_INSTALL_PREFIX="/usr", MESON_INSTALL_DESTDIR_PREFIX=root + "/usr")
        env.pop("DESTDIR", None)
        r = subprocess.run([os.path.join(SOURCE_ROOT, "scripts", "install-config.sh"),
                            os.path.join(SOURCE_ROOT, "config", "handoff.yaml"), "/etc/handoff"],
                           capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.isfile(os.path.join(root, "etc", "handoff", "handoff.yaml")))
        self.assertEqual(os.stat(os.path.join(root, "etc", "handoff", "handoff.yaml")).st_mode & 0o777, 0o644)

    def test_default_rules_file(self):
        lay = self.lay
        for prog in ("handoffd", "handoffctl"):
            r = h.run([lay.bin(prog), "--help"])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("$HANDOFF_CONFIG, else", r.stdout)
            self.assertIn(lay.config + ")", " ".join(r.stdout.split()))
        installed = lay.at(lay.config)
        r = h.run([lay.bin("handoffctl"), "check", installed])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith(installed + ": ok ("), r.stdout)
        # $HANDOFF_CONFIG: both programs, no -c
        env = dict(os.environ, HANDOFF_CONFIG=installed)
        ctl = h.run([lay.bin("handoffctl"), "check"], env=env)
        daemon = h.run([lay.bin("handoffd"), "--check"], env=env)
        self.assertEqual((ctl.returncode, daemon.returncode), (0, 0), ctl.stderr + daemon.stderr)
        self.assertEqual(ctl.stdout, r.stdout)
        self.assertEqual(daemon.stdout, r.stdout)
        # neither -c nor $HANDOFF_CONFIG: the compiled-in path, which this DESTDIR
        # install did not create
        if os.path.exists(lay.config):
            self.skipTest("%s exists on this machine" % lay.config)
        for argv in ([lay.bin("handoffctl"), "check"], [lay.bin("handoffd"), "--check"]):
            r = h.run(argv)
            self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
            self.assertIn("%s: cannot open: No such file or directory" % lay.config, r.stderr)

    def test_other_configurations(self):
        """What meson plans for a prefix of /usr with the demo tools: the tools in
        /usr/bin, the rules file in /etc/handoff (compiled in and in the unit)."""
        d = os.path.join(self.dir, "configure-usr")
        r = h.run(["meson", "setup", d, SOURCE_ROOT, "--prefix=/usr", "-Ddemo_tools=true", "-Dtests=disabled"],
                  timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = h.run(["meson", "introspect", d, "--installed"])
        planned = set(json.loads(r.stdout).values())
        for name in ("handoffd", "handoffctl", "hf-broker", "hf-gen"):
            self.assertIn("/usr/bin/" + name, planned)
        with open(os.path.join(d, "compile_commands.json"), encoding="utf-8") as f:
            defines = set(re.findall(r'HF_CONFIG_DEFAULT_PATH=\\*"([^"\\]*)', f.read()))
        self.assertEqual(defines, {"/etc/handoff/handoff.yaml"})
        u = unit_settings(os.path.join(d, "systemd", "handoffd.service"))
        self.assertEqual(u[("Service", "ExecStart")],
                         ["/usr/bin/handoffd -c /etc/handoff/handoff.yaml --state /var/lib/handoff"])
        # this build: no demo tools planned
        r = h.run(["meson", "introspect", BUILD_ROOT, "--installed"])
        names = {os.path.basename(p) for p in json.loads(r.stdout).values()}
        self.assertTrue({"handoffd", "handoffctl"} <= names, names)
        self.assertFalse({"hf-broker", "hf-gen"} & names, names)


# Runs argv[1:] with memory-deny-write-execute in force (inherited across execve),
# after checking it refuses a writable and executable mapping.
MDWE_EXEC = r"""
import ctypes, os, sys
PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
    sys.stderr.write("mdwe: prctl: errno %d\n" % ctypes.get_errno())
    sys.exit(3)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
if libc.mmap(None, 4096, 7, 0x22, -1, 0) != ctypes.c_void_p(-1).value:
    sys.stderr.write("mdwe: a W+X mapping was allowed\n")
    sys.exit(3)
os.execv(sys.argv[1], sys.argv[1:])
"""


def mdwe_supported():
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(66, 0, 0, 0, 0) >= 0  # PR_GET_MDWE


def elf_wants_exec_stack(path):
    """Whether ELF file @path has a PT_GNU_STACK with PF_X (or none at all, which
    the kernel and the loader read as an executable stack)."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2:
            raise AssertionError("%s: not a 64-bit ELF file" % path)
        end = "<" if head[5] == 1 else ">"
        phoff, = struct.unpack_from(end + "Q", head, 0x20)
        phentsize, phnum = struct.unpack_from(end + "HH", head, 0x36)
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            p_type, p_flags = struct.unpack(end + "II", f.read(8))
            if p_type == 0x6474E551:  # PT_GNU_STACK
                return bool(p_flags & 1)
    return True


class InstalledDaemon(h.ClusterTestCase):
    partitions = 1

    def test_installed_daemon_runs(self):
        env = self.env()
        lay = Layout(os.path.join(env.dir, "root"))
        meson_install(lay.root)
        with open(lay.at(lay.config), encoding="utf-8") as f:
            text = env.localize(f.read())
        # any free port: other daemons may run beside this one
        text = h.yaml_set(text, "http", "listen", '"127.0.0.1:0"')
        config = os.path.join(env.dir, "installed.yaml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(text)
        r = h.run([lay.bin("handoffctl"), "check", config])
        self.assertEqual(r.returncode, 0, r.stderr)

        argv = [lay.bin("handoffd"), "-c", config]
        if mdwe_supported():
            argv = ["/usr/bin/python3", "-c", MDWE_EXEC] + argv
        else:
            sys.stderr.write("no PR_SET_MDWE on this kernel: the W+X mappings are checked, not refused\n")
        proc = h.Proc("installed-handoffd", argv, env.dir)
        try:
            proc.wait_for(r"assigned ([1-9]\d*) partitions", timeout=60)
            env.send(h.form("i-f-1", T0, "i-a-1", "i-c-1", form_type="demo_request", title="Engineer"))
            got = env.decoded("conversation_ready", expect=1, timeout=30)
            self.assertEqual(len(got), 1, proc.tail())
            self.assertEqual(got[0][1]["handoff_id"], h.handoff_id("i-c-1"))
            self.assertEqual(got[0][1]["rule"], "hand_raiser")

            # what it has mapped: nothing writable and executable, no library
            # asking for an executable stack (which MemoryDenyWriteExecute= would
            # refuse the threads of)
            with open("/proc/%d/maps" % proc.popen.pid, encoding="utf-8") as f:
                maps = [l.split() for l in f]
            wx = [m for m in maps if "w" in m[1] and "x" in m[1]]
            self.assertEqual(wx, [])
            files = sorted({m[5] for m in maps if len(m) >= 6 and m[5].startswith("/") and "x" in m[1]})
            self.assertIn(os.path.realpath(lay.bin("handoffd")), [os.path.realpath(p) for p in files])
            sys.stderr.write("installed handoffd maps %d executable files, none W+X\n" % len(files))
            for path in files:
                self.assertFalse(elf_wants_exec_stack(path), path)
        finally:
            proc.signal(signal.SIGTERM)
            rc = proc.wait_exit(60)
        self.assertEqual(rc, 0, proc.tail())
        self.assertNotIn("mdwe:", "\n".join(proc.err))


if __name__ == "__main__":
    h.main()
