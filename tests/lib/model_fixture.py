"""The rule file of the integration and end-to-end tests (tests/fixtures/handoff-test.yaml),
read for tests/lib/model.py so that the model's numbers, patterns and rules are the
file's, not a copy of them.

The file is read here, independently of the daemon's loader (config/), so that a
loader that misreads it (a unit, a default, a list) shows as a difference between the
daemon and the model instead of being copied into both.  No YAML library is used (the
tests run on /usr/bin/python3 with Debian's packages only): parse() reads the subset
of YAML the fixture is written in and refuses everything else with the line it
stopped at, so that a fixture edited beyond the subset fails loudly instead of being
misread:

- block mappings (`key: value`, `key:` and an indented block) and block sequences
  (`- item`, `- key: value` opening a mapping), indented with spaces;
- flow mappings and sequences on one line (`{ a: 1, b: [x, y] }`);
- scalars: plain (`true`/`false`, `null`/`~`, integers, decimals, else a string),
  "double-quoted" (escapes \\" \\\\ \\n \\t) and 'single-quoted';
- comments (`#` at the start of a line or after a blank).

Not in the subset: anchors, aliases, tags, block scalars (| >), multi-line flow
collections or strings, several documents, tabs, duplicate keys.
"""

import re

# ---- the YAML subset ---------------------------------------------------------------


class FixtureError(ValueError):
    pass


_INT = re.compile(r"^[-+]?[0-9]+$")
_FLOAT = re.compile(r"^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$")
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "/": "/"}


class _Line:
    def __init__(self, number, indent, text):
        self.number, self.indent, self.text = number, indent, text


class _Reader:
    def __init__(self, name):
        self.name = name
        self.number = 0

    def fail(self, why, number=None):
        raise FixtureError("%s:%d: %s (tests/lib/model_fixture.py reads a subset of YAML)"
                           % (self.name, number if number is not None else self.number, why))

    # -- one line ------------------------------------------------------------------
    def strip_comment(self, text):
        """@text without its comment; quotes are respected."""
        quote = None
        i = 0
        while i < len(text):
            c = text[i]
            if quote == '"' and c == "\\":
                i += 2
                continue
            if quote:
                if c == quote:
                    quote = None
            elif c in "\"'" and (i == 0 or text[i - 1] in " \t[{,:"):
                quote = c
            elif c == "#" and (i == 0 or text[i - 1] == " "):
                return text[:i].rstrip()
            i += 1
        if quote:
            self.fail("a quoted string must end on its line")
        return text.rstrip()

    def lines(self, text):
        out = []
        for number, raw in enumerate(text.splitlines(), 1):
            self.number = number
            if "\t" in raw[:len(raw) - len(raw.lstrip())]:
                self.fail("tabs are not indentation")
            body = self.strip_comment(raw)
            if not body.strip():
                continue
            if body.strip() in ("---", "..."):
                self.fail("one document only")
            indent = len(body) - len(body.lstrip(" "))
            out.append(_Line(number, indent, body.strip()))
        return out

    # -- scalars and flow collections ----------------------------------------------
    def quoted(self, text, i):
        """The string quoted at text[i], and the index after it."""
        q = text[i]
        out = []
        i += 1
        while i < len(text):
            c = text[i]
            if q == '"' and c == "\\":
                if i + 1 >= len(text) or text[i + 1] not in _ESCAPES:
                    self.fail("escape %r is not in the subset" % text[i:i + 2])
                out.append(_ESCAPES[text[i + 1]])
                i += 2
                continue
            if c == q:
                if q == "'" and text[i + 1:i + 2] == "'":
                    out.append("'")
                    i += 2
                    continue
                return "".join(out), i + 1
            out.append(c)
            i += 1
        self.fail("unterminated string")

    def plain(self, word):
        if not word:
            return None
        if word[0] in "&*!|>%@`?":
            self.fail("%r: anchors, aliases, tags and block scalars are not in the subset" % word)
        if word in ("null", "~"):
            return None
        if word in ("true", "false"):
            return word == "true"
        if _INT.match(word):
            return int(word)
        if _FLOAT.match(word):
            return float(word)
        return word

    def scalar_or_flow(self, text):
        """The value written inline as @text (a whole line's rest)."""
        value, end = self.flow_value(text, 0, "")
        if text[end:].strip():
            self.fail("unexpected %r after the value" % text[end:].strip())
        return value

    def flow_value(self, text, i, stops):
        """One value at text[i] inside a flow collection whose terminators are @stops."""
        while i < len(text) and text[i] == " ":
            i += 1
        if i >= len(text):
            return None, i
        c = text[i]
        if c == "{":
            return self.flow_mapping(text, i + 1)
        if c == "[":
            return self.flow_sequence(text, i + 1)
        if c in "\"'":
            return self.quoted(text, i)
        j = i
        while j < len(text) and text[j] not in stops and not (
                text[j] == ":" and stops and (j + 1 == len(text) or text[j + 1] in " ,]}")):
            j += 1
        return self.plain(text[i:j].strip()), j

    def flow_sequence(self, text, i):
        out = []
        while True:
            while i < len(text) and text[i] == " ":
                i += 1
            if i >= len(text):
                self.fail("a flow sequence must close on its line")
            if text[i] == "]":
                return out, i + 1
            value, i = self.flow_value(text, i, ",]")
            out.append(value)
            while i < len(text) and text[i] == " ":
                i += 1
            if i < len(text) and text[i] == ",":
                i += 1
            elif i >= len(text) or text[i] != "]":
                self.fail("expected , or ] in a flow sequence")

    def flow_mapping(self, text, i):
        out = {}
        while True:
            while i < len(text) and text[i] == " ":
                i += 1
            if i >= len(text):
                self.fail("a flow mapping must close on its line")
            if text[i] == "}":
                return out, i + 1
            key, i = self.flow_value(text, i, ",}:")
            if i >= len(text) or text[i] != ":":
                self.fail("expected key: value in a flow mapping")
            value, i = self.flow_value(text, i + 1, ",}")
            self.put(out, key, value)
            while i < len(text) and text[i] == " ":
                i += 1
            if i < len(text) and text[i] == ",":
                i += 1
            elif i >= len(text) or text[i] != "}":
                self.fail("expected , or } in a flow mapping")

    def put(self, mapping, key, value):
        if not isinstance(key, (str, int)):
            self.fail("a key must be a scalar")
        if key in mapping:
            self.fail("duplicate key %r" % key)
        mapping[key] = value

    # -- blocks --------------------------------------------------------------------
    def split_key(self, text):
        """(key, rest) of a block mapping's line `key: rest`, or None."""
        if text[0] in "\"'":
            key, end = self.quoted(text, 0)
        else:
            m = re.match(r"^([^\s\[\]{},#:][^:]*?)\s*:(\s|$)", text)
            if not m:
                return None
            key, end = self.plain(m.group(1)), m.end(1)
        rest = text[end:].lstrip()
        if not rest.startswith(":"):
            return None
        rest = rest[1:]
        if rest and rest[0] != " ":
            return None
        return key, rest.strip()

    def block(self, lines, i, indent):
        """The block at lines[i] (indented exactly @indent): (value, next index)."""
        if lines[i].text == "-" or lines[i].text.startswith("- "):
            return self.sequence(lines, i, indent)
        return self.mapping(lines, i, indent)

    def child(self, lines, i, parent_indent, allow_same_indent_sequence=True):
        """The value of a key or item whose value is on the lines after lines[i - 1]."""
        if i < len(lines) and (lines[i].indent > parent_indent or (
                allow_same_indent_sequence and lines[i].indent == parent_indent and
                (lines[i].text == "-" or lines[i].text.startswith("- ")))):
            return self.block(lines, i, lines[i].indent)
        return None, i

    def mapping(self, lines, i, indent):
        out = {}
        while i < len(lines) and lines[i].indent == indent:
            line = lines[i]
            self.number = line.number
            if line.text == "-" or line.text.startswith("- "):
                break
            kv = self.split_key(line.text)
            if kv is None:
                self.fail("expected key: value")
            key, rest = kv
            if rest:
                value, i = self.scalar_or_flow(rest), i + 1
            else:
                value, i = self.child(lines, i + 1, indent)
            self.put(out, key, value)
        if i < len(lines) and lines[i].indent > indent:
            self.fail("unexpected indentation", lines[i].number)
        return out, i

    def sequence(self, lines, i, indent):
        out = []
        while i < len(lines) and lines[i].indent == indent and (
                lines[i].text == "-" or lines[i].text.startswith("- ")):
            line = lines[i]
            self.number = line.number
            rest = line.text[1:].lstrip(" ")
            if not rest:
                value, i = self.child(lines, i + 1, indent, allow_same_indent_sequence=False)
            elif rest[0] not in "{[\"'" and self.split_key(rest) is not None:
                # "- key: value" opens a mapping whose keys line up with "key"
                column = indent + len(line.text) - len(rest)
                lines[i] = _Line(line.number, column, rest)
                value, i = self.mapping(lines, i, column)
            else:
                value, i = self.scalar_or_flow(rest), i + 1
            out.append(value)
        if i < len(lines) and lines[i].indent > indent:
            self.fail("unexpected indentation", lines[i].number)
        return out, i


def parse(text, name="<fixture>"):
    """The document @text (in the subset above) as dicts, lists and scalars."""
    reader = _Reader(name)
    lines = reader.lines(text)
    if not lines:
        return {}
    if lines[0].indent:
        reader.fail("the document starts indented", lines[0].number)
    value, i = reader.block(lines, 0, 0)
    if i < len(lines):
        reader.fail("unexpected line", lines[i].number)
    return value


# ---- values of the rule file --------------------------------------------------------

_UNITS_MS = {"ms": 1, "s": 1000, "m": 60000, "h": 3600000, "d": 86400000, "w": 604800000}


def duration_ms(value):
    """A duration of the rule file (docs/CONFIG.md): `500ms`, `4h`, `1h30m`; a bare
    number is milliseconds."""
    if isinstance(value, bool):
        raise FixtureError("not a duration: %r" % value)
    if isinstance(value, int):
        return value
    parts = re.findall(r"([0-9]+)(ms|s|m|h|d|w)", value or "")
    if not parts or "".join(n + u for n, u in parts) != value:
        raise FixtureError("not a duration: %r" % value)
    return sum(int(n) * _UNITS_MS[u] for n, u in parts)


def as_list(value):
    """A value the rule file allows as one item or a list of them."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


class Fixture:
    """The parsed rule file, read by dotted path."""

    def __init__(self, path):
        self.path = path
        with open(path, encoding="utf-8") as f:
            self.doc = parse(f.read(), path)

    def has(self, dotted):
        node = self.doc
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return False
            node = node[part]
        return True

    def get(self, dotted):
        """The value at @dotted ("scoring.half_life"); the model has no defaults of its
        own, so a missing key is an error that names it."""
        node = self.doc
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                raise FixtureError("%s has no %s, which tests/lib/model.py needs" % (self.path, dotted))
            node = node[part]
        return node
