"""hftest: the harness of handoff's integration and end-to-end tests.

Everything here is independent of the daemon's own code: Avro single-object
framing, the Parsing Canonical Form and the CRC-64-AVRO fingerprint are computed
here from schemas/*.avsc with Debian's python3-avro; Kafka is spoken with Debian's
python3-kafka.  Run only with /usr/bin/python3 (meson's `system_python`).

Processes: `Broker` runs tools/hf-broker (librdkafka's mock cluster in its own
process), `Daemon` runs daemon/handoffd.  Every wait has a deadline, every loop a
maximum count, every process is killed at exit and every temporary directory is
removed (set HFTEST_KEEP=1 to keep them for a post-mortem).

Binaries come from the environment that meson's test(env: ...) sets: HANDOFFD,
HF_BROKER, HANDOFFCTL, SOURCE_ROOT.

python3-kafka (2.0.2) against librdkafka 2.0.2's mock cluster: the ApiVersions
probe works and reports (2, 3, 0); we pin api_version=(2, 3, 0) so no client
spends time probing, and because the (0, 10, x) protocol family the library falls
back to on a failed probe cannot fetch from the mock (tested: the consumer then
receives nothing).  Producers use acks=all and the library's default partitioner,
which is murmur2 over the key bytes like Java's (and librdkafka's murmur2_random).
"""

import atexit
import io
import json
import logging
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import avro.io
import avro.schema

logging.getLogger("kafka").setLevel(logging.CRITICAL)

from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402

KAFKA_API_VERSION = (2, 3, 0)

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.environ.get("SOURCE_ROOT") or os.path.normpath(os.path.join(HERE, "..", ".."))
FIXTURES = os.path.join(SOURCE_ROOT, "tests", "fixtures")
SCHEMA_DIR = os.path.join(SOURCE_ROOT, "schemas")


def binary(var):
    """Path of a built binary from the environment meson's test() sets."""
    path = os.environ.get(var)
    if not path:
        raise AssertionError("%s is not set (run through meson test, or export it)" % var)
    if not os.access(path, os.X_OK):
        raise AssertionError("%s=%s is not an executable" % (var, path))
    return path


# ---------------------------------------------------------------------------
# Avro: Parsing Canonical Form, CRC-64-AVRO, single-object encoding
# ---------------------------------------------------------------------------

CRC64_EMPTY = 0xC15D213AA4D7A795


def _crc64_table():
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (CRC64_EMPTY & -(fp & 1))
        table.append(fp)
    return table


_CRC64_TABLE = _crc64_table()


def crc64_avro(data):
    """The Rabin fingerprint the Avro spec calls CRC-64-AVRO."""
    fp = CRC64_EMPTY
    for b in data:
        fp = (fp >> 8) ^ _CRC64_TABLE[(fp ^ b) & 0xFF]
    return fp


# Fingerprints of the input schemas ("check values" of docs/CONTRACTS.md), as 64-bit
# values.
CHECK_VALUES = {
    "WebVisit": 0x0B46DBA92AF6CA69,
    "FormSubmission": 0x7D2B9468D134B2B7,
    "IdentityEvent": 0xD654392C07233663,
    "ContentDownload": 0x014E58D13D0BE34E,
    "WebinarEvent": 0x30F2D9B6F053DD69,
    "EmailEngagement": 0x4A5B8C026CDFED75,
    "SalesActivity": 0xD95A1C695956ECB1,
}

_PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
_PCF_ORDER = ("name", "type", "fields", "symbols", "items", "values", "size")


def _fullname(name, namespace):
    if "." in name or not namespace:
        return name
    return namespace + "." + name


def canonical_form(schema_json):
    """Parsing Canonical Form of a schema given as parsed JSON (Avro spec,
    "Transforming into Parsing Canonical Form"): primitives in simple form, full
    names, only the attributes that matter for parsing in the fixed order, named
    types written out at their first occurrence only, no whitespace.

    Written here rather than taken from python3-avro: its 1.11.1 `canonical_form`
    keeps {"type":"long"} for a long with a logicalType where the spec wants "long",
    so it does not reproduce the check values (test_harness.py shows both)."""
    seen = set()

    def walk(s, ns):
        if isinstance(s, str):
            if s in _PRIMITIVES:
                return json.dumps(s)
            full = _fullname(s, ns)
            return json.dumps(full)
        if isinstance(s, list):
            return "[" + ",".join(walk(b, ns) for b in s) + "]"
        t = s["type"]
        if isinstance(t, (dict, list)):
            return walk(t, ns)
        if t in _PRIMITIVES:
            return json.dumps(t)
        if t in ("record", "error", "enum", "fixed"):
            full = _fullname(s["name"], s.get("namespace", ns))
            if full in seen:
                return json.dumps(full)
            seen.add(full)
            inner_ns = full.rsplit(".", 1)[0] if "." in full else None
            parts = ['"name":' + json.dumps(full), '"type":' + json.dumps("record" if t == "error" else t)]
            if t in ("record", "error"):
                fields = []
                for f in s["fields"]:
                    fields.append('{"name":' + json.dumps(f["name"]) + ',"type":' + walk(f["type"], inner_ns) + "}")
                parts.append('"fields":[' + ",".join(fields) + "]")
            elif t == "enum":
                parts.append('"symbols":' + json.dumps(s["symbols"], separators=(",", ":")))
            else:
                parts.append('"size":' + str(int(s["size"])))
            return "{" + ",".join(parts) + "}"
        if t == "array":
            return '{"type":"array","items":' + walk(s["items"], ns) + "}"
        if t == "map":
            return '{"type":"map","values":' + walk(s["values"], ns) + "}"
        # a reference to a named type written as {"type": "Name"}
        return walk(t, ns)

    return walk(schema_json, None)


def _strip_logical_types(s):
    """The schema without logicalType annotations: python3-avro would otherwise want
    datetime objects for timestamp-millis; on the wire it is the same long, and the
    Parsing Canonical Form drops logicalType anyway."""
    if isinstance(s, list):
        return [_strip_logical_types(x) for x in s]
    if isinstance(s, dict):
        return {k: _strip_logical_types(v) for k, v in s.items() if k != "logicalType"}
    return s


class SchemaInfo:
    def __init__(self, path, role):
        with open(path, encoding="utf-8") as f:
            self.json = json.load(f)
        self.path = path
        self.role = role  # "input", "output", "history"
        self.name = self.json["name"]
        self.pcf = canonical_form(self.json)
        self.fingerprint = crc64_avro(self.pcf.encode("utf-8"))
        self.schema = avro.schema.parse(json.dumps(_strip_logical_types(self.json)))

    @property
    def header(self):
        return b"\xc3\x01" + struct.pack("<Q", self.fingerprint)


INPUT_RECORDS = ("WebVisit", "FormSubmission", "IdentityEvent", "ContentDownload", "WebinarEvent",
                 "EmailEngagement", "SalesActivity")
OUTPUT_RECORDS = ("ConversationReady", "SlaBreach", "LifecycleChange", "DeadLetter", "Digest")
# Records between the stages (schemas/internal/, namespace handoff.v1.internal) and
# entity states (schemas/state/, bodies without framing in the store).
INTERNAL_RECORDS = ("MemberUpdate", "RosterUpdate", "MergeRequest", "MergeState")


class Avro:
    """The schemas of schemas/ (current) and schemas/history/ (older writers)."""

    def __init__(self, schema_dir=SCHEMA_DIR):
        self.current = {}
        self.history = {}
        self.by_fingerprint = {}
        for fn in sorted(os.listdir(schema_dir)):
            if fn.endswith(".avsc"):
                name = fn[:-5]
                role = "input" if name in INPUT_RECORDS else "output"
                info = SchemaInfo(os.path.join(schema_dir, fn), role)
                self.current[info.name] = info
                self.by_fingerprint[info.fingerprint] = info
        hdir = os.path.join(schema_dir, "history")
        if os.path.isdir(hdir):
            for fn in sorted(os.listdir(hdir)):
                if fn.endswith(".avsc"):
                    info = SchemaInfo(os.path.join(hdir, fn), "history")
                    self.history[fn[:-5]] = info
                    self.by_fingerprint[info.fingerprint] = info
        # the internal records are framed like everything else; states are bare
        # bodies in the store (kept apart from `current`, the public records)
        self.internal = {}
        self.states = {}
        for sub, role, into in (("internal", "internal", self.internal), ("state", "state", self.states)):
            d = os.path.join(schema_dir, sub)
            if not os.path.isdir(d):
                continue
            for fn in sorted(os.listdir(d)):
                if fn.endswith(".avsc"):
                    info = SchemaInfo(os.path.join(d, fn), role)
                    into[info.name] = info
                    if role == "internal":
                        self.by_fingerprint[info.fingerprint] = info

    def has(self, name):
        return name in self.current or name in self.internal or name in self.states

    def schema(self, name, version=None):
        """Current schema of record @name, or the history one "<name>.<version>"."""
        if version is None:
            for d in (self.current, self.internal, self.states):
                if name in d:
                    return d[name]
            raise KeyError(name)
        return self.history["%s.%s" % (name, version)]

    def body(self, name, datum, version=None):
        """Avro binary body (no framing) of @datum under record @name."""
        info = self.schema(name, version)
        out = io.BytesIO()
        avro.io.DatumWriter(info.schema).write(datum, avro.io.BinaryEncoder(out))
        return out.getvalue()

    def encode(self, name, datum, version=None):
        """Single-object encoding: C3 01, 8-byte little-endian fingerprint, body."""
        info = self.schema(name, version)
        return info.header + self.body(name, datum, version)

    def decode(self, buf, reader_name=None):
        """(record name, datum) of a single-object encoded record, the writer schema
        found by its fingerprint.  With @reader_name the datum is resolved to that
        current schema."""
        if len(buf) < 10 or buf[:2] != b"\xc3\x01":
            raise ValueError("not single-object encoded: %r" % bytes(buf[:10]))
        (fp,) = struct.unpack("<Q", buf[2:10])
        writer = self.by_fingerprint.get(fp)
        if writer is None:
            raise ValueError("unknown fingerprint %016x" % fp)
        reader = self.schema(reader_name) if reader_name else writer
        dec = avro.io.BinaryDecoder(io.BytesIO(buf[10:]))
        datum = avro.io.DatumReader(writer.schema, reader.schema).read(dec)
        if dec.reader.read(1):
            raise ValueError("trailing bytes after a %s body" % writer.name)
        return writer.name, datum


def confluent_frame(schema_id, body):
    """Confluent Schema Registry framing: 0x00, 4-byte big-endian schema id, body."""
    return b"\x00" + struct.pack(">I", schema_id) + body


_JSON_BRANCHES = _PRIMITIVES | {"array", "map"}


def avro_json_plain(x):
    """A value in Avro's JSON encoding (what `handoffctl dump` prints as "state")
    with every union branch unwrapped: {"string": "a"} -> "a",
    {"handoff.v1.state.StoredRoster": {...}} -> {...}."""
    if isinstance(x, list):
        return [avro_json_plain(v) for v in x]
    if isinstance(x, dict):
        if len(x) == 1:
            (k, v), = x.items()
            if k in _JSON_BRANCHES or k.startswith("handoff."):
                return avro_json_plain(v)
        return {k: avro_json_plain(v) for k, v in x.items()}
    return x


# ---------------------------------------------------------------------------
# Ids the daemon derives (recomputed independently)
# ---------------------------------------------------------------------------

FNV64_OFFSET = 0xCBF29CE484222325
FNV64_PRIME = 0x100000001B3


def fnv1a64(data):
    h = FNV64_OFFSET
    for b in data:
        h ^= b
        h = (h * FNV64_PRIME) & 0xFFFFFFFFFFFFFFFF
    return h


def handoff_id(entity_id, cycle=1, entity_type="contact"):
    """"ho_" + 16 lower-hex digits of FNV-1a-64 over type 0x1f id 0x1f cycle."""
    data = b"%s\x1f%s\x1f%d" % (entity_type.encode(), entity_id.encode(), cycle)
    return "ho_%016x" % fnv1a64(data)


def murmur2_partition(key, partitions):
    """Java's (and python3-kafka's, librdkafka's murmur2) partition of @key."""
    data = bytearray(key)
    length = len(data)
    seed = 0x9747B28C
    m = 0x5BD1E995
    h = (seed ^ length) & 0xFFFFFFFF
    for i in range(length // 4):
        k = struct.unpack_from("<I", data, i * 4)[0]
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> 24
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
    rest = length & 3
    tail = length & ~3
    if rest >= 3:
        h ^= data[tail + 2] << 16
    if rest >= 2:
        h ^= data[tail + 1] << 8
    if rest >= 1:
        h ^= data[tail]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return (h & 0x7FFFFFFF) % partitions


# ---------------------------------------------------------------------------
# Scratch directories and processes
# ---------------------------------------------------------------------------

_cleanup_lock = threading.Lock()
_live_procs = []
_temp_dirs = []


def _cleanup():
    with _cleanup_lock:
        procs = list(_live_procs)
        dirs = list(_temp_dirs)
    for p in procs:
        p.kill()
    if not os.environ.get("HFTEST_KEEP"):
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)
    elif dirs:
        sys.stderr.write("hftest: kept %s\n" % ", ".join(dirs))


atexit.register(_cleanup)


def _on_sigterm(signum, frame):
    # meson test kills a test that timed out with SIGTERM: clean up, then die.
    _cleanup()
    os._exit(128 + signum)


signal.signal(signal.SIGTERM, _on_sigterm)


def scratch_dir(prefix):
    d = tempfile.mkdtemp(prefix="hftest-%s-" % prefix)
    with _cleanup_lock:
        _temp_dirs.append(d)
    return d


class Proc:
    """A child process whose stdout and stderr lines are collected (and copied to
    files) by reader threads; waiting for a line is bounded by a deadline."""

    MAX_WAIT_ROUNDS = 100000

    def __init__(self, name, argv, log_dir, env=None):
        self.name = name
        self.argv = argv
        self.cond = threading.Condition()
        self.out = []  # stdout lines
        self.err = []  # stderr lines
        self.returncode = None
        self.log_path = os.path.join(log_dir, "%s.log" % name)
        self._log = open(self.log_path, "a", encoding="utf-8", errors="replace")
        self._log.write("=== %s\n" % " ".join(argv))
        self._log.flush()
        self.popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, env=child_env(env), start_new_session=True)
        with _cleanup_lock:
            _live_procs.append(self)
        self._threads = [threading.Thread(target=self._reader, args=(self.popen.stdout, self.out), daemon=True),
                         threading.Thread(target=self._reader, args=(self.popen.stderr, self.err), daemon=True)]
        for t in self._threads:
            t.start()

    def _reader(self, stream, lines):
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            with self.cond:
                lines.append(line)
                if not self._log.closed:
                    self._log.write(line + "\n")
                    self._log.flush()
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_for(self, pattern, timeout, stream="err", start=0):
        """The first match of @pattern in a line of @stream ("out"/"err") from line
        index @start on, waiting at most @timeout seconds.  Returns (index, match), or
        raises AssertionError on timeout or when the process exited first."""
        rx = re.compile(pattern)
        lines = self.err if stream == "err" else self.out
        deadline = time.monotonic() + timeout
        i = start
        with self.cond:
            for _ in range(self.MAX_WAIT_ROUNDS):
                while i < len(lines):
                    m = rx.search(lines[i])
                    if m:
                        return i, m
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                if self.popen.poll() is not None and all(not t.is_alive() for t in self._threads):
                    raise AssertionError("%s exited (rc %s) before printing /%s/:\n%s" %
                                         (self.name, self.popen.returncode, pattern, self.tail()))
                self.cond.wait(min(left, 1.0))
        raise AssertionError("%s: no line /%s/ within %.0f s:\n%s" % (self.name, pattern, timeout, self.tail()))

    def wait_exit(self, timeout):
        """Waits for the process and its output threads; returns the exit code.
        Raises if the process printed a sanitizer report."""
        try:
            self.returncode = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("%s still running after %.0f s:\n%s" % (self.name, timeout, self.tail()))
        for t in self._threads:
            t.join(timeout=10)
        self._forget()
        assert_no_sanitizer_reports(self.name, self.err)
        return self.returncode

    def signal(self, sig):
        if self.popen.poll() is None:
            os.kill(self.popen.pid, sig)

    def kill(self):
        """SIGKILL to the process group; reaps it."""
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.returncode = self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        for t in self._threads:
            t.join(timeout=5)
        self._forget()

    def _forget(self):
        with _cleanup_lock:
            if self in _live_procs:
                _live_procs.remove(self)
        with self.cond:
            if not self._log.closed:
                self._log.close()

    def running(self):
        return self.popen.poll() is None

    def tail(self, n=40):
        with self.cond:
            err = self.err[-n:]
            out = self.out[-n:]
        return "  [stderr]\n" + "\n".join("    " + l for l in err) + "\n  [stdout]\n" + \
               "\n".join("    " + l for l in out)


# In a -Db_sanitize=address,undefined build, make every finding fatal and visible:
# UBSan only prints and carries on by default.
SANITIZER_RX = re.compile(r"runtime error:|AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer")


def child_env(env=None):
    e = dict(os.environ if env is None else env)
    e.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
    e.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    return e


def assert_no_sanitizer_reports(name, lines):
    found = [l for l in lines if SANITIZER_RX.search(l)]
    if found:
        raise AssertionError("%s: sanitizer reports:\n%s" % (name, "\n".join(found[:20])))


def run(argv, timeout=60, env=None):
    """Runs a short command; returns CompletedProcess with text stdout/stderr."""
    r = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout, env=child_env(env))
    assert_no_sanitizer_reports(os.path.basename(argv[0]), r.stderr.splitlines())
    return r


# ---------------------------------------------------------------------------
# Topics, config, broker
# ---------------------------------------------------------------------------

OUTPUT_TOPIC_KEYS = ("conversation_ready", "sla_breach", "lifecycle", "dlq")
TOPIC_KEYS = ("web_visits", "form_submissions", "content_downloads", "webinar_attendance",
              "email_engagement", "identity", "sales_activity", "conversation_ready", "sla_breach",
              "lifecycle", "dlq", "digest")
DEFAULT_TOPICS = {
    "web_visits": "mkt.web.visits",
    "form_submissions": "mkt.form.submissions",
    "content_downloads": "mkt.content.downloads",
    "webinar_attendance": "mkt.webinar.attendance",
    "email_engagement": "mkt.email.engagement",
    "identity": "mkt.identity",
    "sales_activity": "sales.activity",
    "conversation_ready": "handoff.conversation-ready",
    "sla_breach": "handoff.sla-breach",
    "lifecycle": "handoff.lifecycle",
    "dlq": "handoff.dlq",
    "digest": "handoff.digest",
}
RECORD_TOPIC = {
    "WebVisit": "web_visits",
    "FormSubmission": "form_submissions",
    "ContentDownload": "content_downloads",
    "WebinarEvent": "webinar_attendance",
    "EmailEngagement": "email_engagement",
    "IdentityEvent": "identity",
    "SalesActivity": "sales_activity",
}
INTERNAL_TOPICS = ("by-anonymous", "by-contact", "by-account")


def namespace_topics(ns):
    """Topic names of one test's world: every topic prefixed by its namespace, and
    the internal ones derived from app.id = @ns as the daemon derives them."""
    t = {k: "%s.%s" % (ns, v) for k, v in DEFAULT_TOPICS.items()}
    t["by_anonymous"] = "%s.by-anonymous" % ns
    t["by_contact"] = "%s.by-contact" % ns
    t["by_account"] = "%s.by-account" % ns
    return t


def on_commit(text):
    """The fixture with the default member-update mode (summaries sent at commit)."""
    assert "member_updates: every_event" in text
    return text.replace("member_updates: every_event", "member_updates: on_commit")


def read_fixture(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
        return f.read()


def yaml_blocks(text):
    """Splits a block-style YAML document into its top-level sections, keeping
    comments with the section that follows them: [(key or None, text)]."""
    blocks = []
    cur_key, cur = None, []
    pending = []
    for line in text.splitlines(keepends=True):
        m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*):", line)
        if m:
            blocks.append((cur_key, "".join(cur)))
            cur_key, cur = m.group(1), pending + [line]
            pending = []
        elif line.startswith("#") or not line.strip():
            pending.append(line)
        else:
            cur.extend(pending)
            pending = []
            cur.append(line)
    cur.extend(pending)
    blocks.append((cur_key, "".join(cur)))
    return [(k, t) for k, t in blocks if t]


def yaml_set_block(text, key, block):
    """@text with its top-level section @key replaced by @block (appended if absent)."""
    out, done = [], False
    for k, t in yaml_blocks(text):
        if k == key:
            out.append(block if block.endswith("\n") else block + "\n")
            done = True
        else:
            out.append(t)
    if not done:
        out.append(block if block.endswith("\n") else block + "\n")
    return "".join(out)


def yaml_set(text, section, key, value):
    """@text with `section.key` (a two-level scalar) set to @value (already YAML)."""
    for k, t in yaml_blocks(text):
        if k != section:
            continue
        rx = re.compile(r"^(  %s:)[^\n]*$" % re.escape(key), re.M)
        if rx.search(t):
            nt = rx.sub(lambda m: m.group(1) + " " + value, t, count=1)
        else:
            head, sep, rest = t.partition("\n")
            nt = head + "\n  %s: %s\n" % (key, value) + rest
        return yaml_set_block(text, section, nt)
    return yaml_set_block(text, section, "%s:\n  %s: %s\n" % (section, key, value))


def localized_config(text, ns, address, partitions, state_dir):
    """A rule file pointed at namespace @ns (app.id and topics), a broker and a
    state dir."""
    text = yaml_set_block(text, "app", "app:\n  id: %s\n" % ns)
    text = yaml_set(text, "kafka", "brokers", json.dumps(address))
    text = yaml_set(text, "kafka", "partitions", str(partitions))
    text = yaml_set(text, "state", "path", json.dumps(state_dir))
    t = namespace_topics(ns)
    topics = "topics:\n" + "".join("  %s: %s\n" % (k, json.dumps(t[k])) for k in TOPIC_KEYS)
    return yaml_set_block(text, "topics", topics)


# Wall-clock traces a state keeps: when each remembered event id was seen (dedupe
# ages in processing time), and the SLA clocks a handoff starts (business time from
# the wall clock at the handoff).  Runs of one input compare states without them.
WALL_CLOCK = {"dedupe": {"at"}, "sla": {"handoff_at", "deadline", "due", "no_response_due"}}


def strip_wall_clock(x, drop=frozenset()):
    """@x without the keys of WALL_CLOCK, at any depth below the key that names them."""
    if isinstance(x, dict):
        return {k: strip_wall_clock(v, drop | WALL_CLOCK.get(k, set())) for k, v in x.items() if k not in drop}
    if isinstance(x, list):
        return [strip_wall_clock(v, drop) for v in x]
    return x


def shared_key(path):
    """A config edit: e-mail addresses hashed with the key in @path, as the instances of
    a group (or two runs to be compared) do."""
    line = "\nstate:\n"
    return lambda text: text.replace(line, line + "  email_hash_key_file: %s\n" % json.dumps(path), 1)


class Broker:
    """tools/hf-broker in its own process: a mock cluster with the topics of
    @config (a rule file) and @topics created."""

    def __init__(self, topics, partitions, log_dir, config=None):
        argv = [binary("HF_BROKER"), "--partitions", str(partitions)]
        if config:
            argv += ["-c", config]
        for t in topics:
            argv += ["--topic", t]
        self.partitions = partitions
        self.proc = Proc("hf-broker", argv, log_dir)
        _, m = self.proc.wait_for(r"^(\S+:\d+)\s*$", timeout=30, stream="out")
        self.address = m.group(1)

    def stop(self):
        self.proc.signal(signal.SIGTERM)
        try:
            self.proc.wait_exit(15)
        finally:
            self.proc.kill()


# The broker launcher creates at most this many --topic names.
BROKER_MAX_EXTRA_TOPICS = 64


class Cluster:
    """Brokers shared by the tests of one file.  Each test gets a namespace: its own
    topics (see namespace_topics) and app id, so tests never see each other's
    records while the group joins stay the only per-test cost."""

    def __init__(self, namespaces, partitions=4, name="cluster"):
        self.dir = scratch_dir(name)
        self.partitions = partitions
        self.brokers = []
        self.where = {}
        # The first namespace of a broker comes from a config file (hf-broker -c,
        # so it does not create its built-in default topics), the others as
        # --topic, of which it takes at most BROKER_MAX_EXTRA_TOPICS.
        per_ns = len(DEFAULT_TOPICS) + len(INTERNAL_TOPICS)
        per_broker = 1 + BROKER_MAX_EXTRA_TOPICS // per_ns
        namespaces = list(namespaces)
        for i in range(0, len(namespaces), per_broker):
            group = namespaces[i:i + per_broker]
            config = os.path.join(self.dir, "broker-%d.yaml" % i)
            with open(config, "w", encoding="utf-8") as f:
                f.write(localized_config(read_fixture("handoff-test.yaml"), group[0], "127.0.0.1:9092",
                                         partitions, os.path.join(self.dir, "unused-state")))
            topics = []
            for ns in group[1:]:
                topics += sorted(namespace_topics(ns).values())
            b = Broker(topics, partitions, self.dir, config=config)
            self.brokers.append(b)
            for ns in group:
                self.where[ns] = b

    def env(self, ns, **kw):
        return TestEnv(self, ns, **kw)

    def stop(self):
        for b in self.brokers:
            b.stop()


class TestEnv:
    """One test's world: namespace, broker, config file, state directory, a
    producer, and the daemons it runs."""

    def __init__(self, cluster, ns, fixture="handoff-test.yaml", config_edit=None):
        self.cluster = cluster
        self.ns = ns
        self.broker = cluster.where[ns]
        self.address = self.broker.address
        self.partitions = cluster.partitions
        self.topics = namespace_topics(ns)
        self.dir = scratch_dir(ns)
        self.state_dir = os.path.join(self.dir, "state")
        self.avro = AVRO
        text = read_fixture(fixture)
        text = self.localize(text)
        if config_edit:
            text = config_edit(text)
        self.config_path = os.path.join(self.dir, "handoff.yaml")
        with open(self.config_path, "w", encoding="utf-8") as f:
            f.write(text)
        self._producer = None
        self.daemons = []
        self.sent = []  # (topic, key, value bytes) in produce order

    def localize(self, text):
        return localized_config(text, self.ns, self.address, self.partitions, self.state_dir)

    # -- producing ----------------------------------------------------------
    @property
    def producer(self):
        if self._producer is None:
            self._producer = KafkaProducer(bootstrap_servers=self.address, acks="all", linger_ms=2,
                                           api_version=KAFKA_API_VERSION, max_block_ms=20000,
                                           request_timeout_ms=20000)
        return self._producer

    def send_raw(self, topic_key, key, value):
        """Produces @value (bytes or None) under @key (str/bytes/None) to the topic
        with config name @topic_key; returns (partition, offset) once acknowledged."""
        topic = self.topics[topic_key]
        if isinstance(key, str):
            key = key.encode("utf-8")
        fut = self.producer.send(topic, key=key, value=value)
        md = fut.get(timeout=30)
        self.sent.append((topic, key, value))
        return md.partition, md.offset

    def send(self, event, wait=True):
        """Produces an Event (see the builders below); returns (partition, offset) when
        @wait, else the future."""
        value = event.encode(self.avro)
        topic = self.topics[RECORD_TOPIC[event.record]]
        key = event.key.encode("utf-8") if event.key is not None else None
        fut = self.producer.send(topic, key=key, value=value)
        self.sent.append((topic, key, value))
        if not wait:
            return fut
        md = fut.get(timeout=30)
        return md.partition, md.offset

    def send_all(self, events):
        futs = [self.send(e, wait=False) for e in events]
        self.flush()
        return [f.get(timeout=30) for f in futs]

    def flush(self):
        if self._producer is not None:
            self._producer.flush(timeout=30)

    # -- consuming ----------------------------------------------------------
    def consume(self, topic_key, expect=None, timeout=20.0, start=None):
        """Records of the topic from the beginning (or from @start, {partition:
        offset}, see output_marks), as a list of Record.  Stops at @expect records,
        or (expect None) once the end offsets seen at the start are reached;
        bounded by @timeout in any case."""
        return consume(self.address, self.topics[topic_key], expect=expect, timeout=timeout, start=start)

    def decoded(self, topic_key, expect=None, timeout=20.0, start=None):
        """consume() with each value decoded by python3-avro: list of (Record, datum)."""
        out = []
        for r in self.consume(topic_key, expect=expect, timeout=timeout, start=start):
            name, datum = self.avro.decode(r.value)
            out.append((r, datum))
        return out

    def output_marks(self, topic_keys=OUTPUT_TOPIC_KEYS):
        """{topic key: {partition: end offset}} of @topic_keys now: where the
        outputs of the next run start when several runs share one namespace
        (pass a topic's marks as decoded(..., start=))."""
        ends = self.end_offsets(topic_keys)
        return {k: {p: off for (t, p), off in ends.items() if t == self.topics[k]} for k in topic_keys}

    def end_offsets(self, topic_keys):
        return end_offsets(self.address, [self.topics[k] for k in topic_keys])

    def generate(self, *args, timeout=600):
        """hf-gen's traffic (@args: --contacts, --seed, ...) produced to this env's
        topics; the number of records, from its report."""
        path = os.path.join(self.dir, "gen.json")
        r = run([binary("HF_GEN"), "-c", self.config_path, "--brokers", self.address, "--quiet",
                 "--report", path] + list(args), timeout=timeout)
        if r.returncode != 0:
            raise AssertionError("hf-gen: rc %d\n%s" % (r.returncode, r.stderr))
        with open(path, encoding="utf-8") as f:
            return json.load(f)["records"]

    # -- daemons --------------------------------------------------------------
    def daemon(self, *extra, log_level="debug", environ=None, name=None):
        """A Daemon of this env; @environ: variables added to its environment
        (e.g. {"HANDOFF_CLOCK": ...}); @name: what its log files are called after
        (several instances of one env: one set of files each)."""
        d = Daemon(self, list(extra), log_level=log_level, environ=environ, name=name)
        self.daemons.append(d)
        return d

    def ctl(self, *args, timeout=60):
        return run([binary("HANDOFFCTL")] + list(args), timeout=timeout)

    def dump(self, what, *extra, state_dir=None):
        """`handoffctl dump` of this test's store (or of @state_dir, another
        instance's): a list of JSON objects."""
        r = self.ctl("dump", "--state", state_dir or self.state_dir, "-c", self.config_path, what, *extra)
        if r.returncode != 0:
            raise AssertionError("handoffctl dump %s: rc %d\n%s%s" % (what, r.returncode, r.stdout, r.stderr))
        return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]

    def close(self):
        for d in self.daemons:
            d.proc and d.proc.kill()
        if self._producer is not None:
            self._producer.close(timeout=5)
            self._producer = None


class Record:
    __slots__ = ("topic", "partition", "offset", "key", "value")

    def __init__(self, topic, partition, offset, key, value):
        self.topic, self.partition, self.offset, self.key, self.value = topic, partition, offset, key, value

    def __repr__(self):
        return "Record(%s[%d]@%d key=%r %d bytes)" % (self.topic, self.partition, self.offset, self.key,
                                                       len(self.value or b""))


def _consumer(address):
    return KafkaConsumer(bootstrap_servers=address, group_id=None, enable_auto_commit=False,
                         auto_offset_reset="earliest", api_version=KAFKA_API_VERSION,
                         consumer_timeout_ms=1000, request_timeout_ms=20000)


def end_offsets(address, topics):
    """{(topic, partition): end offset} of every partition of @topics."""
    c = _consumer(address)
    try:
        tps = []
        for t in topics:
            parts = _partitions(c, t)
            tps += [TopicPartition(t, p) for p in parts]
        return {(tp.topic, tp.partition): off for tp, off in c.end_offsets(tps).items()}
    finally:
        c.close()


def _partitions(c, topic, timeout=20.0):
    deadline = time.monotonic() + timeout
    for _ in range(200):
        parts = c.partitions_for_topic(topic)
        if parts:
            return sorted(parts)
        if time.monotonic() > deadline:
            break
        c.topics()  # forces a metadata refresh; bounded by request_timeout_ms
    raise AssertionError("topic %s not found on the broker" % topic)


def consume(address, topic, expect=None, timeout=20.0, start=None):
    """Records of @topic from the beginning, or from @start ({partition: offset});
    see TestEnv.consume."""
    c = _consumer(address)
    try:
        tps = [TopicPartition(topic, p) for p in _partitions(c, topic)]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        for tp in tps:
            if start and start.get(tp.partition):
                c.seek(tp, start[tp.partition])
        target = None
        if expect is None:
            target = {tp: off for tp, off in c.end_offsets(tps).items()}
        records = []
        deadline = time.monotonic() + timeout
        for _ in range(100000):
            if expect is not None and len(records) >= expect:
                break
            if target is not None and all(c.position(tp) >= off for tp, off in target.items()):
                break
            left = deadline - time.monotonic()
            if left <= 0:
                break
            batch = c.poll(timeout_ms=int(min(left, 0.5) * 1000), max_records=5000)
            for tp, msgs in batch.items():
                for m in msgs:
                    records.append(Record(m.topic, m.partition, m.offset, m.key, m.value))
        records.sort(key=lambda r: (r.partition, r.offset))
        return records
    finally:
        c.close()


def fetch_records(address, wanted, timeout=60.0):
    """The records at the (topic, partition, offset) triples of @wanted, as
    {(topic, partition, offset): Record}: each partition read from the smallest
    offset wanted up to the largest, bounded by @timeout."""
    spans = {}
    for t, p, o in wanted:
        lo, hi = spans.get((t, p), (o, o))
        spans[(t, p)] = (min(lo, o), max(hi, o))
    want = set(wanted)
    found = {}
    if not spans:
        return found
    c = _consumer(address)
    try:
        tps = [TopicPartition(t, p) for t, p in sorted(spans)]
        c.assign(tps)
        for tp in tps:
            c.seek(tp, spans[(tp.topic, tp.partition)][0])
        deadline = time.monotonic() + timeout
        for _ in range(100000):
            done = [tp for tp in tps if c.position(tp) > spans[(tp.topic, tp.partition)][1]]
            if len(done) == len(tps) or time.monotonic() > deadline:
                break
            if done:
                c.pause(*done)
            batch = c.poll(timeout_ms=500, max_records=5000)
            for tp, msgs in batch.items():
                for m in msgs:
                    if (m.topic, m.partition, m.offset) in want:
                        found[(m.topic, m.partition, m.offset)] = Record(m.topic, m.partition, m.offset, m.key,
                                                                          m.value)
        return found
    finally:
        c.close()


# ---------------------------------------------------------------------------
# The daemon
# ---------------------------------------------------------------------------

class Summary:
    """The `== handoffd summary ==` block of a run's stdout."""

    def __init__(self, lines):
        try:
            start = lines.index("== handoffd summary ==")
        except ValueError:
            raise AssertionError("no summary in stdout:\n" + "\n".join(lines))
        self.lines = lines[start:]
        self.text = "\n".join(self.lines)
        m = re.search(r"^this run: (\d+) records consumed, (\d+) events folded, (\d+) handoffs", self.text, re.M)
        if not m:
            raise AssertionError("summary without a 'this run' line:\n" + self.text)
        self.consumed, self.folded, self.handoffs = (int(x) for x in m.groups())
        self.handoffs_by_rule = self._group("handoffs")
        self.dead_letters_by_reason = self._group("dead letters")
        m = re.search(r"^handoffs: (\d+)", self.text, re.M)
        self.handoffs_total = int(m.group(1)) if m else None
        m = re.search(r"^dead letters: (\d+)", self.text, re.M)
        self.dead_letters = int(m.group(1)) if m else None
        m = re.search(r"duplicates dropped (\d+)", self.text)
        self.duplicates = int(m.group(1)) if m else None
        m = re.search(r"^peak RSS: ([\d.]+) MiB", self.text, re.M)
        self.peak_rss_mib = float(m.group(1)) if m else None
        self.gaps = "offset gaps" in self.text
        # records released later than ordering.allowed_lateness, by topic
        self.late = self._group("late")
        m = re.search(r"^late: (\d+)", self.text, re.M)
        self.late_total = int(m.group(1)) if m else None

    def _group(self, label):
        m = re.search(r"^%s: \d+ \(([^)]*)\)" % re.escape(label), self.text, re.M)
        out = {}
        if m:
            for part in m.group(1).split(","):
                k, _, v = part.strip().partition("=")
                if k:
                    out[k] = int(v)
        return out


# The log line of a handoff: "<time> info  handoff  contact c-17  rule=..."
HANDOFF_LINE = re.compile(r"^\S+\s+\w+\s+handoff\s")


class Daemon:
    """handoffd for one TestEnv; start/stop/kill/restart, all bounded."""

    def __init__(self, env, extra, log_level="debug", environ=None, name=None):
        self.env = env
        self.extra = extra
        self.log_level = log_level
        self.environ = dict(environ) if environ else None
        self.name = name
        self.proc = None
        self.runs = 0
        self.summary = None

    def start(self, wait_ready=True, timeout=60):
        assert self.proc is None or not self.proc.running(), "already running"
        self.runs += 1
        argv = [binary("HANDOFFD"), "-c", self.env.config_path, "--log-level", self.log_level] + self.extra
        penv = dict(os.environ, **self.environ) if self.environ else None
        self.proc = Proc("handoffd-%s%s-run%d" % (self.env.ns, "-" + self.name if self.name else "", self.runs), argv,
                         self.env.dir, env=penv)
        if wait_ready:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=60):
        """Until the consumer group assigned partitions (the mock's group join takes
        about 3 s)."""
        self.proc.wait_for(r"assigned ([1-9]\d*) partitions", timeout=timeout)

    def stop(self, timeout=60):
        """SIGTERM; checks exit 0 and parses the summary."""
        self.proc.signal(signal.SIGTERM)
        rc = self.proc.wait_exit(timeout)
        if rc != 0:
            raise AssertionError("handoffd exited %s after SIGTERM:\n%s" % (rc, self.proc.tail()))
        self.summary = Summary(self.proc.out)
        return self.summary

    def wait_exit(self, timeout=60):
        return self.proc.wait_exit(timeout)

    def kill9(self):
        self.proc.signal(signal.SIGKILL)
        self.proc.wait_exit(30)
        assert self.proc.returncode == -signal.SIGKILL, self.proc.returncode

    def restart(self, **kw):
        return self.start(**kw)

    def sighup(self):
        """SIGHUP (reload the rule file); returns the stderr line index to wait from."""
        mark = len(self.proc.err)
        self.proc.signal(signal.SIGHUP)
        return mark

    def log(self):
        return list(self.proc.err)

    def handoff_lines(self):
        return [l for l in self.proc.err if HANDOFF_LINE.search(l)]

    def http_address(self, timeout=30):
        """host:port of this run's HTTP server (http.listen is any free port)."""
        _, m = self.proc.wait_for(r"http: listening on (\S+:\d+)", timeout=timeout)
        return m.group(1)

    def assigned_partitions(self, timeout=5.0):
        """{(topic, partition): lag} of the partitions the group assigned to this
        run, from its /metrics (`handoff_consumer_lag`, which lists the assigned
        partitions whose position and high watermark are known; the status behind
        it is rebuilt about once a second).  None when the daemon does not answer,
        or when some assigned partition has no lag known yet."""
        import urllib.request
        try:
            with urllib.request.urlopen("http://%s/metrics" % self.http_address(), timeout=timeout) as r:
                text = r.read().decode("utf-8", errors="replace")
        except (OSError, AssertionError):
            return None
        lags = {}
        assigned = None
        for line in text.splitlines():
            m = re.match(r'^handoff_consumer_lag\{topic="([^"]*)",partition="(\d+)"\} (\d+)', line)
            if m:
                lags[(m.group(1), int(m.group(2)))] = int(m.group(3))
            m = re.match(r"^handoff_assigned_partitions (\S+)", line)
            if m:
                assigned = int(float(m.group(1)))
        if assigned is None or assigned != len(lags):
            return None
        return lags

    def wait_caught_up(self, timeout=60):
        """Until the store's offsets reach the end of every topic the daemon reads:
        every input produced so far is folded, and so is everything it re-keyed
        through its internal topics.  The store offsets are read before the
        broker's end offsets, so equality means nothing was pending in between.
        Paced by the daemon's commit log lines (log level debug)."""
        env = self.env
        read = ["web_visits", "form_submissions", "content_downloads", "webinar_attendance",
                "email_engagement", "identity", "sales_activity", "by_anonymous", "by_contact", "by_account"]
        deadline = time.monotonic() + timeout
        last = None
        for _ in range(10000):
            mark = len(self.proc.err)
            stored = {(o["topic"], o["partition"]): o["next_offset"] for o in env.dump("offsets")}
            ends = env.end_offsets(read)
            behind = {tp: (stored.get(tp, 0), end) for tp, end in ends.items() if stored.get(tp, 0) < end}
            if not behind:
                return
            last = behind
            left = deadline - time.monotonic()
            if left <= 0 or not self.proc.running():
                break
            try:
                self.proc.wait_for(r"\bcommitted\b", timeout=min(left, 2.0), start=mark)
            except AssertionError:
                if not self.proc.running():
                    break
        raise AssertionError("daemon not caught up within %.0f s; behind (stored, end): %r\n%s" %
                             (timeout, last, self.proc.tail()))


AVRO = Avro()


# ---------------------------------------------------------------------------
# Input events
# ---------------------------------------------------------------------------

class Event:
    """One input record: record name, key, datum (as python3-avro wants it), and
    the writer schema version (None = current)."""

    def __init__(self, record, key, datum, version=None):
        self.record, self.key, self.datum, self.version = record, key, datum, version

    def encode(self, avro_):
        return avro_.encode(self.record, self.datum, self.version)

    @property
    def event_id(self):
        return self.datum["event_id"]

    @property
    def at(self):
        return self.datum["occurred_at"]

    def __repr__(self):
        return "Event(%s %s @%d)" % (self.record, self.datum["event_id"], self.datum["occurred_at"])


TRAIT_FIELDS = ("email", "full_name", "title", "seniority", "department", "company_name", "account_id",
                "industry", "employees", "country", "region")


def traits(**kw):
    unknown = set(kw) - set(TRAIT_FIELDS)
    assert not unknown, unknown
    return {f: kw.get(f) for f in TRAIT_FIELDS}


def web_visit(eid, at, anon, url, contact=None, session="s1", title=None, referrer=None, utm_source=None,
              utm_medium=None, utm_campaign=None, duration_ms=30000, country=None, source="web", version=None):
    d = {"event_id": eid, "occurred_at": at, "source": source, "anonymous_id": anon, "contact_id": contact,
         "session_id": session, "url": url, "title": title, "referrer": referrer, "utm_source": utm_source,
         "utm_medium": utm_medium, "utm_campaign": utm_campaign, "duration_ms": duration_ms}
    if version is None:
        d["country"] = country
    return Event("WebVisit", anon, d, version)


def form(eid, at, anon, contact, form_type="content_gate", form_id="f-1", url=None, source="web", **trait_kw):
    d = {"event_id": eid, "occurred_at": at, "source": source, "anonymous_id": anon, "contact_id": contact,
         "form_id": form_id, "form_type": form_type, "url": url, "traits": traits(**trait_kw)}
    return Event("FormSubmission", anon, d)


def identity(eid, at, contact, kind="identify", anon=None, merged=None, source="crm", trait_kw=None):
    d = {"event_id": eid, "occurred_at": at, "source": source, "kind": kind, "contact_id": contact,
         "anonymous_id": anon, "merged_contact_id": merged,
         "traits": traits(**trait_kw) if trait_kw is not None else None}
    return Event("IdentityEvent", contact, d)


def download(eid, at, contact, asset_id, title, asset_type="whitepaper", tags=(), campaign=None, anon=None,
             source="marketo"):
    d = {"event_id": eid, "occurred_at": at, "source": source, "contact_id": contact, "anonymous_id": anon,
         "asset_id": asset_id, "asset_title": title, "asset_type": asset_type, "tags": list(tags),
         "campaign": campaign}
    return Event("ContentDownload", contact, d)


def webinar(eid, at, contact, webinar_id, title, action="attended", minutes=45, questions=0, campaign=None,
            source="zoom"):
    d = {"event_id": eid, "occurred_at": at, "source": source, "contact_id": contact, "webinar_id": webinar_id,
         "webinar_title": title, "action": action, "minutes_attended": minutes, "questions_asked": questions,
         "campaign": campaign}
    return Event("WebinarEvent", contact, d)


def email(eid, at, contact, action="opened", email_id="em-1", campaign="spring-launch", link_url=None,
          source="marketo"):
    d = {"event_id": eid, "occurred_at": at, "source": source, "contact_id": contact, "email_id": email_id,
         "campaign": campaign, "action": action, "link_url": link_url}
    return Event("EmailEngagement", contact, d)


def sales(eid, at, entity_id, action="accepted", entity_type="contact", handoff=None, owner="rep-1", reason=None,
          channel=None, source="salesforce", product=None, version=None):
    d = {"event_id": eid, "occurred_at": at, "source": source, "entity_type": entity_type, "entity_id": entity_id,
         "handoff_id": handoff, "owner_id": owner, "action": action, "reason": reason, "channel": channel}
    if version is None:
        d["product"] = product
    return Event("SalesActivity", entity_id, d, version)


# 2026-03-02T09:00:00Z: event times of the tests start here (scoring runs on event
# time, so wall time does not matter except for emitted_at and SLA deadlines).
T0 = 1772442000000
MINUTE = 60 * 1000
HOUR = 60 * MINUTE
DAY = 24 * HOUR


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


def now_ms():
    return int(time.time() * 1000)


# ---------------------------------------------------------------------------
# SLA clocks, feedback and outcomes (processors/sla/sla.h; docs/ARCHITECTURE.md "SLA and
# feedback")
# ---------------------------------------------------------------------------

SLA_KINDS = ("accept", "first_touch", "follow_up")


def breach_id(handoff_id_, sla, level):
    """"br_" + 16 lower-hex digits of FNV-1a-64 over handoff_id 0x1f sla 0x1f level
    (processors/model/output.h hf_breach_id)."""
    assert sla in SLA_KINDS, sla
    data = b"%s\x1f%s\x1f%d" % (handoff_id_.encode(), sla.encode(), level)
    return "br_%016x" % fnv1a64(data)


def _yaml_list(items):
    return "[" + ", ".join(str(x) for x in items) + "]"


def sla_block(accept="0", accept_escalate=(), first_touch="0", first_touch_escalate=(), follow_up="0",
              attempts=1, follow_up_escalate=(), calendar=None, on_reload=None):
    """The top-level `sla:` section with every clock written out (a clock left out
    would take the shipped defaults): durations as YAML scalars ("3s"; "0" = off),
    escalation delays as lists."""
    lines = ["sla:"]
    if calendar is not None:
        lines.append("  calendar: %s" % calendar)
    lines += ["  accept:", "    within: %s" % accept, "    escalate_after: %s" % _yaml_list(accept_escalate),
              "  first_touch:", "    within: %s" % first_touch,
              "    escalate_after: %s" % _yaml_list(first_touch_escalate),
              "  follow_up:", "    attempts: %d" % attempts, "    within: %s" % follow_up,
              "    escalate_after: %s" % _yaml_list(follow_up_escalate)]
    if on_reload is not None:
        lines.append("  on_reload: %s" % on_reload)
    return "\n".join(lines) + "\n"


def with_sla(text, **kw):
    """@text (a rule file) with its sla section replaced by sla_block(**kw)."""
    return yaml_set_block(text, "sla", sla_block(**kw))


class TopicTail:
    """One topic read from its beginning by a consumer that keeps what it read, so
    a test can wait for records as they appear without re-reading the topic.
    Values are decoded with python3-avro: .items is [(Record, record name, datum)].
    Every wait is bounded by a deadline and a round count."""

    MAX_ROUNDS = 100000

    def __init__(self, env, topic_key):
        self.env = env
        self.topic = env.topics[topic_key]
        self.c = _consumer(env.address)
        self.tps = [TopicPartition(self.topic, p) for p in _partitions(self.c, self.topic)]
        self.c.assign(self.tps)
        self.c.seek_to_beginning(*self.tps)
        self.items = []

    def close(self):
        if self.c is not None:
            self.c.close()
            self.c = None

    def poll(self, timeout=0.2):
        """One fetch round: what arrived within @timeout seconds is appended."""
        batch = self.c.poll(timeout_ms=max(1, int(timeout * 1000)), max_records=5000)
        got = []
        for tp, msgs in batch.items():
            for m in msgs:
                r = Record(m.topic, m.partition, m.offset, m.key, m.value)
                name, datum = AVRO.decode(m.value)
                got.append((r, name, datum))
        got.sort(key=lambda x: (x[0].partition, x[0].offset))
        self.items.extend(got)
        return got

    def caught_up(self):
        """Everything up to the partitions' current end offsets has been read."""
        ends = self.c.end_offsets(self.tps)
        return all(self.c.position(tp) >= off for tp, off in ends.items())

    def drain(self, timeout=10.0):
        """Reads up to the end offsets seen now; returns every datum read so far."""
        deadline = time.monotonic() + timeout
        for _ in range(self.MAX_ROUNDS):
            if self.caught_up() or time.monotonic() > deadline:
                break
            self.poll(0.2)
        return self.data()

    def data(self, pred=None):
        return [d for _, _, d in self.items if pred is None or pred(d)]

    def wait(self, pred=None, count=1, timeout=20.0, what=None):
        """Until at least @count data matching @pred were read; returns them all (in
        the order read).  AssertionError on timeout, listing what was read."""
        deadline = time.monotonic() + timeout
        for _ in range(self.MAX_ROUNDS):
            found = self.data(pred)
            if len(found) >= count:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.poll(min(left, 0.2))
        raise AssertionError("%s: %s not seen %d time(s) within %.0f s; read %d records:\n%s" %
                             (self.topic, what or "records", count, timeout, len(self.items),
                              "\n".join("  %r" % (d,) for d in self.data()[-30:])))

    def settle(self, until_ms):
        """Keeps reading until wall time @until_ms (epoch ms), bounded; returns all."""
        for _ in range(self.MAX_ROUNDS):
            left = (until_ms - now_ms()) / 1000.0
            if left <= 0:
                break
            self.poll(min(left, 0.2))
        return self.drain()


def parse_outcomes(text):
    """`handoffctl outcomes` (daemon/outcomes.c) as a dict:
    {"funnel": {table title: {row: {column: n}}},
     "reasons": {rejection reason: n},
     "sla": {table title: {row: {"accept": (met, breached), "first_touch": ..., "follow_up": ...,
                                 "median_accept": str, "median_first_touch": str}}},
     "feedback": {"early": n, "stale": n, "unknown_handoff": n, "ignored": n, ...}}.
    Row labels are the first 28 columns (40 for the rejection reasons)."""
    out = {"funnel": {}, "reasons": {}, "sla": {}, "feedback": {}}
    sections = [s for s in re.split(r"\n\s*\n", text) if s.strip()]
    for sec in sections:
        lines = sec.splitlines()
        head = lines[0]
        if head.startswith("feedback:"):
            # "feedback: early (before its handoff) 1, stale (...) 0, unknown handoff 0, ..."
            # -> {"early": 1, "stale": 0, "unknown_handoff": 0, ...}
            pairs = re.findall(r"([a-z][a-z ]*?)(?: \([^)]*\))? (\d+)(?:,|$)", head[len("feedback:"):])
            if not pairs:
                raise AssertionError("outcomes: unexpected feedback line %r" % head)
            out["feedback"] = {k.strip().replace(" ", "_"): int(v) for k, v in pairs}
        elif head.startswith("rejected because"):
            for l in lines[1:]:
                out["reasons"][l[:40].rstrip()] = int(l[40:].strip())
        elif head.startswith("rejected, by "):
            by = out.setdefault("reasons_by", {}).setdefault(head[len("rejected, by "):28].rstrip(), {})
            for l in lines[1:]:
                by[(l[:28].rstrip(), l[29:69].rstrip())] = int(l[69:].strip())
        elif "accept met/br" in head:
            title = head[:28].rstrip()
            rows = {}
            for l in lines[1:]:
                cells = l[28:].split()
                if len(cells) != 5:
                    raise AssertionError("outcomes: unexpected SLA row %r" % l)
                row = {}
                for k, cell in zip(SLA_KINDS, cells[:3]):
                    met, br = cell.split("/")
                    row[k] = (int(met), int(br))
                row["median_accept"], row["median_first_touch"] = cells[3], cells[4]
                rows[l[:28].rstrip()] = row
            out["sla"][title] = rows
        elif head.startswith("Outcomes") or head.startswith("no outcomes"):
            continue
        else:
            title = head[:28].rstrip()
            cols = head[28:].split()
            rows = {}
            for l in lines[1:]:
                vals = l[28:].split()
                if len(vals) != len(cols):
                    raise AssertionError("outcomes: row %r does not match columns %r" % (l, cols))
                rows[l[:28].rstrip()] = dict(zip(cols, (int(v) for v in vals)))
            out["funnel"][title] = rows
    return out


def business_add(tz_name, start_ms, dur_ms, hours=None, holidays=(), max_days=3700):
    """@start_ms plus @dur_ms of business time in calendar (@tz_name, @hours,
    @holidays), computed with zoneinfo, independently of processors/sla/calendar.c.
    @hours: {weekday (0 = Monday): [("HH:MM", "HH:MM"), ...]}, default Monday to
    Friday 09:00-17:00; @holidays: local dates "YYYY-MM-DD".  The result is
    where the remaining time runs out (a deadline that ends exactly at a closing
    time stays there)."""
    import datetime
    import zoneinfo
    tz = zoneinfo.ZoneInfo(tz_name)
    if hours is None:
        hours = {wd: [("09:00", "17:00")] for wd in range(5)}
    closed = {datetime.date.fromisoformat(d) for d in holidays}

    def at(day, hhmm):
        hh, mm = (int(x) for x in hhmm.split(":"))
        extra = datetime.timedelta(0)
        if hh == 24:
            hh, extra = 0, datetime.timedelta(days=1)
        local = datetime.datetime.combine(day + extra, datetime.time(hh, mm), tzinfo=tz)
        return int(local.timestamp() * 1000)

    left = dur_ms
    t = start_ms
    day = datetime.datetime.fromtimestamp(start_ms / 1000, tz).date()
    for _ in range(max_days):
        if day not in closed:
            for open_, close in hours.get(day.weekday(), []):
                o, c = at(day, open_), at(day, close)
                s = max(o, t)
                if s >= c:
                    continue
                if c - s >= left:
                    return s + left
                left -= c - s
                t = c
        day += datetime.timedelta(days=1)
    raise AssertionError("business_add: no end within %d days" % max_days)


def local_ms(tz_name, y, mo, d, hh, mm, ss=0):
    """Epoch ms of a local wall time in @tz_name (zoneinfo; fold 0)."""
    import datetime
    import zoneinfo
    return int(datetime.datetime(y, mo, d, hh, mm, ss, tzinfo=zoneinfo.ZoneInfo(tz_name)).timestamp() * 1000)


# ---------------------------------------------------------------------------
# unittest glue
# ---------------------------------------------------------------------------

class ClusterTestCase(unittest.TestCase):
    """A TestCase class whose tests share one cluster; each test method gets its
    own namespace (its name) through self.env()."""

    partitions = 4
    _cluster = None

    @classmethod
    def setUpClass(cls):
        names = [n for n in unittest.TestLoader().getTestCaseNames(cls)]
        cls._cluster = Cluster([cls._ns(n) for n in names], partitions=cls.partitions, name=cls.__name__)

    @classmethod
    def tearDownClass(cls):
        if cls._cluster:
            cls._cluster.stop()

    @classmethod
    def _ns(cls, method_name):
        return re.sub(r"[^a-z0-9]+", "-", method_name.lower().replace("test_", "", 1)).strip("-")

    def env(self, **kw):
        e = self._cluster.env(self._ns(self._testMethodName), **kw)
        self.addCleanup(e.close)
        return e

    def tails(self, env, *keys):
        """A TopicTail of each output topic of @keys (topic keys of env.topics),
        closed when the test ends."""
        out = []
        for k in keys:
            t = TopicTail(env, k)
            self.addCleanup(t.close)
            out.append(t)
        return out


def main():
    """unittest.main() with verbose output and the process exit code meson reads."""
    # warnings="ignore": python3-kafka 2.0.2 leaves ResourceWarnings and
    # ImportWarnings that would bury the test output.
    unittest.main(verbosity=2, buffer=False, warnings="ignore")
