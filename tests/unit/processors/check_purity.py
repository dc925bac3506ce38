"""processors/ (and util/, which it builds on) is pure: no I/O, no clock, no
environment, no randomness, no threads, no logging.  Checked on what the compiler
made, not on the source: every symbol the static libraries need from outside
(`nm -u`) must be one of the libc and libm functions below, which compute from
their arguments alone.

    check_purity.py LIB.a...                   exit 1 and list what is not allowed
    check_purity.py --expect-impure LIB.a...   the check must object (self-test on a
                                               library that does I/O)
"""

import subprocess
import sys

ALLOWED = {
    # memory and strings
    "malloc", "calloc", "realloc", "free", "memcpy", "memmove", "memset", "memcmp", "memchr",
    "strlen", "strnlen", "strcmp", "strncmp", "strcasecmp", "strncasecmp", "strchr", "strrchr",
    "strstr", "strpbrk", "strspn", "strcspn", "strdup", "strndup", "strtol", "strtoll", "strtoul",
    "strtoull", "strtod", "snprintf", "vsnprintf", "vasprintf", "asprintf", "qsort", "bsearch",
    "fnmatch", "__ctype_b_loc", "__ctype_tolower_loc", "__ctype_toupper_loc", "tolower", "toupper",
    # calendar arithmetic on a given instant (UTC), formatting it
    "gmtime_r", "timegm", "strftime",
    # math
    "exp", "exp2", "log", "log2", "log10", "pow", "sqrt", "floor", "ceil", "round", "lround",
    "llround", "fabs", "fmod", "ldexp", "frexp", "trunc", "nearbyint", "rint", "lrint", "llrint",
    # compiler and runtime support
    "__assert_fail", "__stack_chk_fail", "_GLOBAL_OFFSET_TABLE_", "__errno_location",
}
# Instrumentation of the sanitizer and coverage builds.
ALLOWED_PREFIXES = ("__asan_", "__ubsan_", "__sanitizer_", "__lsan_", "__msan_", "__tsan_",
                    "__sancov_", "__llvm_", "__gcov_", "__gcc_", "_GLOBAL__")


def symbols(libs, defined):
    args = ["nm", "--defined-only" if defined else "-u"] + libs
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and not line.endswith(":"):
            names.add(parts[-1])
    return names


def impure(libs):
    needed = symbols(libs, False) - symbols(libs, True)
    return sorted(s for s in needed if s not in ALLOWED and not s.startswith(ALLOWED_PREFIXES))


def main():
    args = sys.argv[1:]
    expect_impure = bool(args) and args[0] == "--expect-impure"
    libs = args[1:] if expect_impure else args
    if not libs:
        print(__doc__)
        return 2
    bad = impure(libs)
    if expect_impure:
        print("self-test: %s needs %d symbol(s) outside the allow-list, e.g. %s"
              % (" ".join(libs), len(bad), ", ".join(bad[:8]) or "none"))
        return 0 if bad else 1
    for s in bad:
        print("not pure: %s needs %s" % (" ".join(libs), s))
    print("purity: %d library(ies), %d symbol(s) outside the allow-list" % (len(libs), len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
