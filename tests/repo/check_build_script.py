"""scripts/build.sh says why a build failed, and fails.

The demo and the test command build through scripts/build.sh; a failure that it
swallowed would leave the user with nothing but a silent exit.  Two failures are
provoked in a scratch build directory: meson refusing an option (setup), and ninja
missing an input (build).  Each must exit non-zero and show the tool's own error.
"""

import os
import subprocess
import sys
import tempfile

ROOT = os.environ.get("SOURCE_ROOT") or os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.path.join(ROOT, "scripts", "build.sh")


def run(*args):
    r = subprocess.run([BUILD] + list(args), capture_output=True, text=True, timeout=300)
    return r.returncode, r.stdout + r.stderr


def expect(name, rc, out, *needles):
    ok = rc != 0 and all(n in out for n in needles)
    print("%s %s: exit %d, %s" % ("ok  " if ok else "FAIL", name, rc,
                                  "error shown" if ok else "output was:\n" + out[-2000:]))
    return ok


def main():
    good = True
    with tempfile.TemporaryDirectory(prefix="hf-build-") as tmp:
        rc, out = run(os.path.join(tmp, "a"), "-Dtests=bogus")
        good &= expect("meson setup with a bad option", rc, out, "bogus", "meson setup")

        d = os.path.join(tmp, "b")
        r = subprocess.run(["meson", "setup", d, "-Dtests=disabled"], cwd=ROOT,
                           capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            print("FAIL could not configure a scratch build:\n" + r.stdout + r.stderr)
            return 1
        with open(os.path.join(d, "build.ninja"), "a") as f:
            f.write("\nbuild hf_scratch_target: phony hf_input_that_does_not_exist\n"
                    "default hf_scratch_target\n")
        rc, out = run(d)
        good &= expect("ninja with a missing input", rc, out, "hf_input_that_does_not_exist",
                       "build in")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
