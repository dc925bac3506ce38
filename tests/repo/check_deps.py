"""Would scripts/deps.sh install everything the build and the tests use, on a fresh
Debian 12 machine where none of it is installed yet?

The machine that runs the suite has whatever earlier work installed, so a build and
a test run passing here prove nothing about a new machine.  This traces what the
project uses to the Debian package that provides it on this machine (`dpkg -S`):

- every meson `dependency('x')`: its pkg-config file;
- every meson `find_program('x')`, and the external commands that scripts/,
  .ci/, tests/ and bench/ run;
- every module that a Python file of the project imports (parsed with `ast`);
- the system time zones, when the C code reads /usr/share/zoneinfo;

and requires each package to be installed by `scripts/deps.sh`: named in its list
(`scripts/deps.sh --list`), or a dependency apt brings with a named package, or
Essential (on every Debian system).

    /usr/bin/python3 tests/repo/check_deps.py [--without PKG]... [--expect-missing PKG]...

--without drops packages from the list as if deps.sh did not name them; with
--expect-missing the check must report exactly those packages as missing (the
suite's self-test: the check has to notice when the list loses a package).
Exit 0 when all is named (or the expectation holds), 1 otherwise.
"""

import argparse
import ast
import importlib.util
import os
import re
import shutil
import subprocess
import sys

ROOT = os.environ.get("SOURCE_ROOT") or os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

# Meson's own dependencies, not packages.
MESON_BUILTIN = {"threads", "dl", "m", "openmp"}
# External programs a script or test of the project might run.  Each one found in
# the project's code must come from an installed package.
COMMANDS = [
    "meson", "ninja", "pkg-config", "git", "clang", "kcat", "jq", "curl", "chromium",
    "promtool", "systemd-analyze", "systemd-run", "valgrind", "perf", "nm", "objdump",
    "tmux", "socat", "xvfb-run", "hyperfine", "wrk", "sqlite3", "python3",
]
# The installer's own means: what deps.sh runs to install the rest.
INSTALLER = {"apt-get", "dpkg-query", "sudo"}


def tracked_files():
    try:
        out = subprocess.run(["git", "-C", ROOT, "ls-files", "-z"], check=True,
                             capture_output=True).stdout
        return [f for f in out.decode().split("\0") if f and os.path.isfile(os.path.join(ROOT, f))]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for d, dirs, names in os.walk(ROOT):
            dirs[:] = [x for x in dirs if not x.startswith((".", "build"))]
            files += [os.path.relpath(os.path.join(d, n), ROOT) for n in names]
        return files


def read(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8", errors="replace") as f:
        return f.read()


def code_lines(text, comment):
    """The lines of @text without what follows @comment (a rough cut: enough to keep
    a word in a comment from counting as a use)."""
    for line in text.splitlines():
        yield line.split(comment, 1)[0]


def owner(path):
    """The installed package that holds @path, or None."""
    candidates = [path, os.path.realpath(path)]
    for p in list(candidates):  # usrmerge: dpkg may know /lib/... for /usr/lib/...
        if p.startswith("/usr/"):
            candidates.append(p[4:])
    for p in candidates:
        r = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
        for line in r.stdout.splitlines() if r.returncode == 0 else []:
            if not line.startswith("diversion by "):
                return line.split(":", 1)[0].split(",")[0].strip()
    return None


def installed_packages():
    """{package: [packages it depends on]} for every installed package, and the set
    of Essential ones."""
    out = subprocess.run(
        ["dpkg-query", "-W", "-f", "${db:Status-Abbrev}\t${Package}\t${Essential}\t"
         "${Pre-Depends}, ${Depends}\t${Provides}\n"],
        check=True, capture_output=True, text=True).stdout
    deps, essential, provides = {}, set(), {}
    for line in out.splitlines():
        status, pkg, ess, dep, prov = (line.split("\t") + [""] * 5)[:5]
        if not status.startswith("ii"):
            continue
        if ess == "yes":
            essential.add(pkg)
        names = []
        for clause in dep.split(","):
            clause = clause.strip()
            if clause:
                # "a (>= 1) | b": apt takes the first alternative it can
                names.append(re.split(r"[\s(|:]", clause.split("|")[0].strip(), 1)[0])
        deps[pkg] = names
        for p in prov.split(","):
            p = re.split(r"[\s(]", p.strip(), 1)[0]
            if p:
                provides.setdefault(p, []).append(pkg)
    return deps, essential, provides


def closure(named, deps, provides):
    """Everything apt installs with @named: their dependencies, recursively."""
    seen, todo = set(), list(named)
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        for d in deps.get(p, []):
            todo.extend(provides.get(d, []) if d not in deps else [d])
    return seen


def uses(files):
    """[(what, path on this machine or None)] of everything the project uses."""
    found = []
    meson_files = [f for f in files if os.path.basename(f) == "meson.build"]
    meson_text = "\n".join("\n".join(code_lines(read(f), "#")) for f in meson_files)
    for name in sorted(set(re.findall(r"dependency\(\s*'([^']+)'", meson_text)) - MESON_BUILTIN):
        r = subprocess.run(["pkg-config", "--path", name], capture_output=True, text=True)
        found.append(("dependency('%s')" % name, r.stdout.strip() if r.returncode == 0 else None))
    for name in sorted(set(re.findall(r"find_program\(\s*'([^']+)'", meson_text))):
        found.append(("find_program('%s')" % name,
                      name if os.path.isabs(name) and os.path.exists(name) else shutil.which(name)))

    me = os.path.relpath(os.path.abspath(__file__), ROOT)
    script_files = [f for f in files if f.startswith(("scripts/", ".ci/", "tests/", "bench/", "tools/"))
                    and (f.endswith((".sh", ".py")) or f.startswith(".ci/")) and f != me]
    script_text = "\n".join("\n".join(code_lines(read(f), "#")) for f in script_files)
    script_text += "\n" + meson_text
    for cmd in COMMANDS:
        if re.search(r"(?<![\w./-])%s(?![\w-])" % re.escape(cmd), script_text):
            # the system's programs first: a PATH of this machine's own (pyenv, say)
            # says nothing of a fresh one
            path = shutil.which(cmd, path="/usr/bin:/bin:/usr/sbin:/sbin") or shutil.which(cmd)
            found.append(("command %s" % cmd, path))

    modules = set()
    for f in files:
        if not f.endswith(".py"):
            continue
        try:
            tree = ast.parse(read(f), filename=f)
        except SyntaxError as e:
            found.append(("python file %s (%s)" % (f, e), None))
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    own = {os.path.splitext(os.path.basename(f))[0] for f in files if f.endswith(".py")}
    own |= {f.split("/")[0] for f in files}
    for m in sorted(modules - own):
        spec = importlib.util.find_spec(m)
        if spec is None:
            found.append(("python module %s" % m, None))
        elif spec.origin in (None, "built-in", "frozen"):
            continue  # compiled into the interpreter
        else:
            found.append(("python module %s" % m, spec.origin))

    c_text = "\n".join(read(f) for f in files if f.endswith((".c", ".h")))
    if "/usr/share/zoneinfo" in c_text:
        found.append(("time zones (/usr/share/zoneinfo)", "/usr/share/zoneinfo/UTC"))
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--without", action="append", default=[])
    ap.add_argument("--expect-missing", action="append", default=[])
    args = ap.parse_args()
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
        print("run with /usr/bin/python3 (the system's Python, whose modules dpkg knows)")
        return 1

    listed = subprocess.run([os.path.join(ROOT, "scripts", "deps.sh"), "--list"], check=True,
                            capture_output=True, text=True).stdout.split()
    named = set(listed) - set(args.without)
    deps, essential, provides = installed_packages()
    installed_with_named = closure(named, deps, provides)

    problems, missing = [], set()
    uses_found = uses(tracked_files())
    for what, path in uses_found:
        if path is None:
            problems.append("? %s: not on this machine, so no package can be traced "
                            "(install it and name its package in scripts/deps.sh)" % what)
            continue
        pkg = owner(path)
        if pkg is None:
            problems.append("? %s: %s belongs to no Debian package" % (what, path))
        elif pkg not in installed_with_named and pkg not in essential:
            missing.add(pkg)
            problems.append("MISSING %s (provides %s, %s): not installed by scripts/deps.sh"
                            % (pkg, what, path))
        else:
            how = "named" if pkg in named else "essential" if pkg in essential else "comes with a named one"
            print("ok  %-44s %s (%s)" % (what, pkg, how))
    for p in problems:
        print(p)

    if args.expect_missing:
        want = set(args.expect_missing)
        ok = want <= missing
        print("self-test: %s from the list -> reported missing: %s; expected at least: %s -> %s"
              % (",".join(sorted(args.without)), ",".join(sorted(missing)) or "none",
                 ",".join(sorted(want)), "ok" if ok else "FAILED"))
        return 0 if ok else 1
    print("check_deps: %d uses traced to %d packages named in scripts/deps.sh; %d problem(s)"
          % (len(uses_found), len(named), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
