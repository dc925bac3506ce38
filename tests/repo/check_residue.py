"""The repository speaks for itself.

Every file of the repository (code, comments, schemas, docs, fixtures, benchmarks)
must make sense to someone who has only the repository: no pointer to a document it
does not contain (a design document, a ticket), and no word about how the code was
made (ticket numbers, "added in ...", who wrote it) instead of what it does.  The
product's own documents are README.md and docs/.

    /usr/bin/python3 tests/repo/check_residue.py            # the repository
    /usr/bin/python3 tests/repo/check_residue.py --self-test

Prints each finding as file:line: text; exit 1 if there is any.
"""

import os
import re
import subprocess
import sys
import tempfile

ROOT = os.environ.get("SOURCE_ROOT") or os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

# Each pattern: (what it means, regex).  Written, like the phrases of the self-test
# below, so that this file does not match itself or a plain grep for the same words
# (a name is cut in two where it would); it is skipped all the same.
PATTERNS = [
    ("a design document the repository does not contain",
     re.compile(r"\bDES" r"IGN\b|\b[Dd]es" r"ign\.md\b")),
    ("a section of a document the repository does not contain",
     re.compile(r"(?<![\w/.])(?<!\d )§\s*\d")),  # "RFC 8536 §3.2" names its document
    ("a ticket number", re.compile(r"\b[Ii]ssues?\s*#?\d+\b|\b(ticket|jira)\s*#?\d+\b", re.I)),
    ("a ticket, by its number sign",
     re.compile(r"\b(see|fix(es|ed)?|close[sd]?|resolve[sd]?|per|in|from|after|since|for)\s+#\d+\b", re.I)),
    ("a brief", re.compile(r"\b(the|a|our|my)\s+brief\b", re.I)),
    ("how the code was made",
     re.compile(r"\b(added|introduced|came|landed|built|written|done)\s+(in|by|for|during)\s+"
                r"(the\s+)?(issue|ticket|session|helper|agent|sub-?agent|sprint|task)\b", re.I)),
    ("who made it", re.compile(r"\b(helper|sub-?agent|coding)\s+agent\b|\b(bench|codec|docs|tools|config)\s+helper\b"
                               r"|\b(earlier|previous|this|last|next)\s+session('s)?\b(?!\.timeout)", re.I)),
    ("a path of the machine it was made on", re.compile(r"/work/|\bprompts?/|/home/[a-z]+/", re.I)),
]

# Binary and generated inputs: a fuzz corpus holds arbitrary bytes by design.
SKIP_PREFIXES = ("tests/fuzz/corpus/codec/",)


def tracked_files(root):
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z"], check=True,
                             capture_output=True).stdout
        files = [f for f in out.decode().split("\0") if f]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for d, dirs, names in os.walk(root):
            dirs[:] = [x for x in dirs if not x.startswith((".", "build"))]
            files += [os.path.relpath(os.path.join(d, n), root) for n in names]
    return [f for f in files if os.path.isfile(os.path.join(root, f))]


def findings(root, files):
    me = os.path.relpath(os.path.abspath(__file__), root)
    out = []
    for f in files:
        if f == me or f.startswith(SKIP_PREFIXES):
            continue
        with open(os.path.join(root, f), "rb") as fh:
            data = fh.read()
        if b"\0" in data[:4096]:
            continue  # binary
        text = data.decode("utf-8", errors="replace")
        for n, line in enumerate(text.splitlines(), 1):
            for what, rx in PATTERNS:
                m = rx.search(line)
                if m:
                    out.append("%s:%d: %s (%r): %s" % (f, n, what, m.group(0), line.strip()[:160]))
                    break
    return out


SHOULD_FIND = [
    "/* see DES" "IGN §4 */",
    "the topics of DES" "IGN.md",
    '"doc": "Added in iss' 'ue 4: why routing is incomplete"',
    "# 2: interests appended (iss" "ue 4)",
    "Semantics chosen where the " "brief left room",
    "# End-to-end benchmark (bench " "helper): bare consumer vs handoffd",
    "docs in /wo" "rk/prompts/iss" "ue4_common.md",
    "fixed in #12",
    "and §2: after any crash every input is folded once",
    "written by a helper agent",
    "as the earlier session left it",
]
SHOULD_PASS = [
    "session_id: string",
    "{\"session.timeout.ms\", \"6000\"},",
    "a design choice explained against the alternative",
    "static int count_session(journey_t *j, const char *session_id, size_t max)",
    "see docs/CONTRACTS.md and docs/ARCHITECTURE.md",
    "the mock's thread is woken by a helper connection",
    "[#] 5 bytes",
    'assert_str_at(at(j, "buying_group", "#0", "contact_id", NULL), "c-7");',
    "RFC 8536 §3.2: UT offsets SHOULD lie in [-89999, 93599] seconds",
]


def self_test():
    """The check must find each phrase of SHOULD_FIND and none of SHOULD_PASS."""
    with tempfile.TemporaryDirectory() as d:
        names = []
        for i, line in enumerate(SHOULD_FIND + SHOULD_PASS):
            name = "f%02d.txt" % i
            with open(os.path.join(d, name), "w") as fh:
                fh.write("a first line\n" + line + "\n")
            names.append(name)
        found = {r.split(":", 1)[0] for r in findings(d, names)}
    bad = 0
    for i, line in enumerate(SHOULD_FIND + SHOULD_PASS):
        want = i < len(SHOULD_FIND)
        got = "f%02d.txt" % i in found
        print("%s %-6s %s" % ("ok  " if got == want else "FAIL", "found" if got else "clean", line))
        bad += got != want
    print("self-test: %d of %d phrases judged right" % (len(SHOULD_FIND + SHOULD_PASS) - bad,
                                                     len(SHOULD_FIND + SHOULD_PASS)))
    return 1 if bad else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    files = tracked_files(ROOT)
    out = findings(ROOT, files)
    for line in out:
        print(line)
    print("check_residue: %d files read, %d finding(s)" % (len(files), len(out)))
    return 1 if out else 0


if __name__ == "__main__":
    sys.exit(main())
