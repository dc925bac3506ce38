/* Unit tests of the logger's renderer (daemon/log.h) and of the ISO 8601 stamps it
 * prints (util/isotime.h).  JSON lines are read back with jansson, which also
 * refuses invalid UTF-8, so "it parses" means valid JSON and valid UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <unistd.h>

#include "daemon/log.h"
#include "util/isotime.h"

/* 2026-12-01T13:00:00.000Z */
#define T_MS 1796130000000LL

static char line[LOG_LINE_MAX];

static size_t render_json(size_t cap, const char *msg, const log_kv_t *kv, size_t n)
{
    return log_render(line, cap, HF_LOG_JSON, T_MS, LOG_LEVEL_INFO, LOG_HANDOFF, msg, kv, n);
}

static size_t render_text(size_t cap, const char *msg, const log_kv_t *kv, size_t n)
{
    return log_render(line, cap, HF_LOG_TEXT, T_MS, LOG_LEVEL_INFO, LOG_HANDOFF, msg, kv, n);
}

/* The line as a JSON object; fails the test if it is not one line of valid JSON. */
static json_t *parse(size_t len)
{
    assert_true(len > 0);
    assert_int_equal(line[len - 1], '\n');
    assert_null(memchr(line, '\n', len - 1));
    json_error_t err;
    json_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
    if (!j)
        fail_msg("not JSON (%s at %d): %s", err.text, err.position, line);
    assert_true(json_is_object(j));
    return j;
}

/* Whether @s[0..n) is valid UTF-8 (jansson checks strings it is given). */
static bool valid_utf8(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    json_decref(j);
    return j != NULL;
}

static void test_iso8601(void **state)
{
    (void)state;
    static const struct {
        int64_t ms;
        const char *want;
    } cases[] = {
        {0, "1970-01-01T00:00:00.000Z"},
        {-1, "1969-12-31T23:59:59.999Z"},
        {T_MS, "2026-12-01T13:00:00.000Z"},
        {951868799999LL, "2000-02-29T23:59:59.999Z"},
        {253402300799999LL, "9999-12-31T23:59:59.999Z"},
        {253402300800000LL, "+10000-01-01T00:00:00.000Z"},
        {-62135596800000LL, "0001-01-01T00:00:00.000Z"},
        {-62167219200000LL, "0000-01-01T00:00:00.000Z"},
        {-62167219200001LL, "-0001-12-31T23:59:59.999Z"},
        /* what java.time.Instant.ofEpochMilli prints for Long.MIN_VALUE / MAX_VALUE */
        {INT64_MIN, "-292275055-05-16T16:47:04.192Z"},
        {INT64_MAX, "+292278994-08-17T07:12:55.807Z"},
    };
    char out[HF_ISO8601_SIZE];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = hf_iso8601_ms(out, cases[i].ms);
        assert_string_equal(out, cases[i].want);
        assert_int_equal(n, strlen(cases[i].want));
    }
    /* against libc's gmtime_r, from 1900 to 2100 in steps that are no divisor of a
     * day, a month or a year */
    char want[64];
    for (int64_t ms = -2208988800000LL; ms < 4102444800000LL; ms += 86399999LL * 7 + 12345) {
        time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
        struct tm tm;
        assert_non_null(gmtime_r(&secs, &tm));
        size_t w = strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(want + w, sizeof want - w, ".%03dZ", (int)(ms - (int64_t)secs * 1000));
        hf_iso8601_ms(out, ms);
        assert_string_equal(out, want);
    }
}

static size_t reason_fields(const void *items, size_t i, log_kv_t *kv, size_t max)
{
    const int *points = items;
    assert_true(max >= 2);
    kv[0] = (log_kv_t)LOG_STR("rule", i == 0 ? "pricing_page" : "webinar");
    kv[1] = (log_kv_t)LOG_INT("points", points[i]);
    return 2;
}

/* Every kind of field, as JSON members of the right types after the fixed ones. */
static void test_json_fields(void **state)
{
    (void)state;
    const char *tags[] = {"a", NULL, "c d"};
    const int points[] = {30, -5};
    const log_kv_t kv[] = {
        LOG_STR("entity_id", "c-1"), LOG_STR("owner", NULL),
        LOG_INT("score", -12),       LOG_UINT("consumed", (uint64_t)1 << 62),
        LOG_FLOAT("rate", 2.5),      LOG_FLOAT("nan", NAN),
        LOG_BOOL("sync", true),      LOG_TIME("due_at", T_MS + 7),
        LOG_STRS("tags", tags, 3),   LOG_OBJS("reasons", points, 2, reason_fields),
        LOG_STRS("none", tags, 0),   LOG_INT("level", 2),
        LOG_INT("msg", 3),
    };
    json_t *j = parse(render_json(sizeof line, "contact c-1", kv, sizeof kv / sizeof kv[0]));
    assert_string_equal(json_string_value(json_object_get(j, "ts")), "2026-12-01T13:00:00.000Z");
    assert_string_equal(json_string_value(json_object_get(j, "level")), "info");
    assert_string_equal(json_string_value(json_object_get(j, "component")), "handoff");
    assert_string_equal(json_string_value(json_object_get(j, "msg")), "contact c-1");
    assert_string_equal(json_string_value(json_object_get(j, "entity_id")), "c-1");
    assert_true(json_is_null(json_object_get(j, "owner")));
    assert_int_equal(json_integer_value(json_object_get(j, "score")), -12);
    assert_int_equal(json_integer_value(json_object_get(j, "consumed")), (int64_t)1 << 62);
    assert_true(json_real_value(json_object_get(j, "rate")) == 2.5);
    assert_true(json_is_null(json_object_get(j, "nan")));
    assert_true(json_is_true(json_object_get(j, "sync")));
    assert_string_equal(json_string_value(json_object_get(j, "due_at")),
                        "2026-12-01T13:00:00.007Z");
    json_t *t = json_object_get(j, "tags");
    assert_int_equal(json_array_size(t), 3);
    assert_string_equal(json_string_value(json_array_get(t, 0)), "a");
    assert_true(json_is_null(json_array_get(t, 1)));
    assert_string_equal(json_string_value(json_array_get(t, 2)), "c d");
    json_t *r = json_object_get(j, "reasons");
    assert_int_equal(json_array_size(r), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(r, 1), "rule")),
                        "webinar");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(r, 1), "points")), -5);
    assert_int_equal(json_array_size(json_object_get(j, "none")), 0);
    /* a field named like one of the record's own members does not repeat it */
    assert_int_equal(json_integer_value(json_object_get(j, "level_")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "msg_")), 3);
    assert_null(json_object_get(j, "truncated"));
    json_decref(j);
    /* above INT64_MAX (jansson reads no such integer) */
    const log_kv_t big[] = {LOG_UINT("consumed", UINT64_MAX)};
    render_json(sizeof line, "m", big, 1);
    assert_non_null(strstr(line, ",\"consumed\":18446744073709551615}\n"));
}

/* Text: the message, two spaces, key=value pairs; values quoted only when needed. */
static void test_text_fields(void **state)
{
    (void)state;
    const char *tags[] = {"a", "c d"};
    const int points[] = {30, -5};
    const log_kv_t kv[] = {
        LOG_STR("rule", "high_intent"),
        LOG_INT("score", 100),
        LOG_STR("because", "score 100 >= 100"),
        LOG_STR("owner", NULL),
        LOG_STR("empty", ""),
        LOG_TIME("due_at", T_MS),
        LOG_STRS("tags", tags, 2),
        LOG_OBJS("reasons", points, 2, reason_fields),
    };
    size_t n = render_text(sizeof line, "contact c-1", kv, sizeof kv / sizeof kv[0]);
    assert_string_equal(line, "2026-12-01T13:00:00.000Z info  handoff  contact c-1  "
                              "rule=high_intent score=100 because=\"score 100 >= 100\" owner=- "
                              "empty=\"\" due_at=2026-12-01T13:00:00.000Z tags=[a,\"c d\"] "
                              "reasons=[{rule=pricing_page points=30},{rule=webinar points=-5}]\n");
    assert_int_equal(n, strlen(line));
    /* without fields, the message ends the line */
    render_text(sizeof line, "stopped cleanly", NULL, 0);
    assert_string_equal(line, "2026-12-01T13:00:00.000Z info  handoff  stopped cleanly\n");
}

/* Control characters, quotes, backslashes and line separators are escaped; the
 * JSON string reads back as the original. */
static void test_escaping(void **state)
{
    (void)state;
    const char *nasty =
        "a\"b\\c\nd\re\tf\x01g\x1fh\x7fi\xe2\x80\xa8j\xe2\x80\xa9k/\xc3\xa9\xf0\x9f\x98\x80";
    const log_kv_t kv[] = {LOG_STR("v", nasty)};
    json_t *j = parse(render_json(sizeof line, nasty, kv, 1));
    assert_string_equal(json_string_value(json_object_get(j, "msg")), nasty);
    assert_string_equal(json_string_value(json_object_get(j, "v")), nasty);
    json_decref(j);
    assert_non_null(strstr(line, "\\u0001"));
    assert_non_null(strstr(line, "\\u2028"));

    size_t n = render_text(sizeof line, nasty, kv, 1);
    assert_null(memchr(line, '\n', n - 1));
    assert_null(memchr(line, '\r', n));
    assert_true(valid_utf8(line, n));
    assert_non_null(strstr(line, "a\"b\\c\\nd\\re\\tf\\x01g\\x1fh\\x7fi\\u2028j\\u2029k/"));
    assert_non_null(strstr(line, "v=\"a\\\"b\\\\c\\nd"));
}

/* Invalid UTF-8 becomes U+FFFD in JSON (\xNN in text), byte by byte; valid
 * sequences around it are kept. */
static void test_invalid_utf8(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"a\x80z", "a\xef\xbf\xbdz"},                                 /* lone continuation byte */
        {"a\xc0\x80z", "a\xef\xbf\xbd\xef\xbf\xbdz"},                 /* overlong NUL */
        {"a\xed\xa0\x80z", "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz"}, /* a surrogate */
        {"a\xf4\x90\x80\x80z", "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz"},
        {"a\xf5z", "a\xef\xbf\xbdz"},
        {"\xc3\xa9\xe2\x82", "\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd"}, /* cut short at the end */
        {"\xf0\x9f\x98\x80\xff", "\xf0\x9f\x98\x80\xef\xbf\xbd"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const log_kv_t kv[] = {LOG_STR("v", cases[i].in)};
        json_t *j = parse(render_json(sizeof line, cases[i].in, kv, 1));
        assert_string_equal(json_string_value(json_object_get(j, "msg")), cases[i].want);
        assert_string_equal(json_string_value(json_object_get(j, "v")), cases[i].want);
        json_decref(j);
        size_t n = render_text(sizeof line, cases[i].in, kv, 1);
        assert_true(valid_utf8(line, n));
    }
    render_text(sizeof line, "a\xc0\x80z", NULL, 0);
    assert_non_null(strstr(line, "a\\xc0\\x80z"));
}

/* A record longer than the line: cut between characters and escapes, the line
 * still one valid JSON object marked truncated, at every size. */
static void test_truncation(void **state)
{
    (void)state;
    char msg[3000];
    size_t len = 0;
    /* multi-byte characters, escapes of several widths, an invalid byte */
    const char *pieces[] = {"\xc3\xa9", "\x01", "\"", "\xf0\x9f\x98\x80", "x", "\xff", "\n"};
    for (size_t k = 0; len + 4 < sizeof msg; k++) {
        const char *p = pieces[k % 7];
        memcpy(msg + len, p, strlen(p));
        len += strlen(p);
    }
    msg[len] = 0;
    for (size_t cap = 256; cap < 1200; cap += 7) {
        size_t n = render_json(cap, msg, NULL, 0);
        assert_true(n <= cap - 1);
        json_t *j = parse(n);
        assert_true(json_is_true(json_object_get(j, "truncated")));
        const char *got = json_string_value(json_object_get(j, "msg"));
        /* what is kept is a prefix of the message, to a whole character */
        assert_true(strlen(got) > 0);
        json_decref(j);
        n = render_text(cap, msg, NULL, 0);
        assert_true(n <= cap - 1);
        assert_true(valid_utf8(line, n));
        assert_int_equal(line[n - 1], '\n');
        assert_null(memchr(line, '\n', n - 1));
        assert_non_null(strstr(line, " truncated=true\n"));
    }
    /* arrays lose whole elements, and fields that no longer fit are left out whole */
    const char *many[200];
    for (size_t i = 0; i < 200; i++)
        many[i] = "element-\xc3\xa9-0123456789";
    const int points[] = {1, 2};
    const log_kv_t kv[] = {LOG_INT("before", 7), LOG_STRS("many", many, 200),
                           LOG_OBJS("objs", points, 2, reason_fields)};
    json_t *j = parse(render_json(1024, "m", kv, 3));
    json_t *a = json_object_get(j, "many");
    assert_true(json_array_size(a) > 10 && json_array_size(a) < 200);
    for (size_t i = 0; i < json_array_size(a); i++)
        assert_string_equal(json_string_value(json_array_get(a, i)), many[i]);
    assert_int_equal(json_integer_value(json_object_get(j, "before")), 7);
    assert_null(json_object_get(j, "objs"));
    assert_true(json_is_true(json_object_get(j, "truncated")));
    json_decref(j);
    /* a record that fits is not marked */
    const log_kv_t fits[] = {kv[0], kv[2]};
    j = parse(render_json(1024, "m", fits, 2));
    assert_int_equal(json_array_size(json_object_get(j, "objs")), 2);
    assert_null(json_object_get(j, "truncated"));
    json_decref(j);
}

/* Anything shaped like an e-mail address is masked, in messages and fields, in
 * both formats; what only looks alike is kept. */
static void test_email_masked(void **state)
{
    (void)state;
    const char *in = "to dana.x+1@hooli.example, <Lee@Private.Example.COM>; user@host; a@b.c; "
                     "me@example.com.";
    const char *want = "to <e-mail>, <<e-mail>>; user@host; a@b.c; <e-mail>.";
    const char *list[] = {"kim@kim.example"};
    const log_kv_t kv[] = {LOG_STR("v", in), LOG_STRS("l", list, 1)};
    json_t *j = parse(render_json(sizeof line, in, kv, 2));
    assert_string_equal(json_string_value(json_object_get(j, "msg")), want);
    assert_string_equal(json_string_value(json_object_get(j, "v")), want);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "l"), 0)), "<e-mail>");
    json_decref(j);
    render_text(sizeof line, in, kv, 2);
    assert_null(strstr(line, "hooli"));
    assert_null(strstr(line, "Private"));
    assert_null(strstr(line, "kim@"));
    assert_non_null(strstr(line, "user@host"));
}

static int evaluated;

static const char *counted(const char *s)
{
    evaluated++;
    return s;
}

/* Below the level in force neither the fields nor the message arguments are
 * evaluated, and nothing is written; at it, one line is. */
static void test_level_checked_first(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    log_setup(LOG_LEVEL_WARN, HF_LOG_JSON, f);
    evaluated = 0;
    log_record(LOG_LEVEL_INFO, LOG_PIPE, LOG_FIELDS(LOG_STR("a", counted("x"))), "%s",
               counted("m"));
    log_info(LOG_PIPE, "%s", counted("m"));
    assert_int_equal(evaluated, 0);
    assert_int_equal(ftell(f), 0);
    log_record(LOG_LEVEL_WARN, LOG_PIPE, LOG_FIELDS(LOG_STR("a", counted("x"))), "%s %d",
               counted("m"), 5);
    assert_int_equal(evaluated, 2);
    /* a message over LOG_MSG_MAX ending inside a character is cut before it */
    char big[LOG_MSG_MAX + 16];
    memset(big, 'a', sizeof big);
    for (size_t i = LOG_MSG_MAX - 4; i + 1 < sizeof big; i += 2)
        big[i] = '\xc3', big[i + 1] = '\xa9';
    big[LOG_MSG_MAX - 2] = '\xc3'; /* byte LOG_MSG_MAX - 1 would be its second half */
    big[sizeof big - 1] = 0;
    log_warn(LOG_PIPE, "%s", big);
    rewind(f);
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    log_setup(LOG_LEVEL_INFO, HF_LOG_TEXT, NULL);
    line[n] = 0;
    char *second = strchr(line, '\n') + 1;
    assert_int_equal(strchr(second, '\n') - line + 1, n);
    json_error_t err;
    json_t *j = json_loads(second, 0, &err);
    assert_non_null(j);
    const char *msg = json_string_value(json_object_get(j, "msg"));
    assert_int_equal(strlen(msg), LOG_MSG_MAX - 2);
    assert_int_equal((unsigned char)msg[strlen(msg) - 1], 0xa9);
    json_decref(j);
    *second = 0;
    j = parse(strlen(line));
    assert_string_equal(json_string_value(json_object_get(j, "msg")), "m 5");
    json_decref(j);
}

/* What config_load_each() hands over, joined as "file:line:col: path: message". */
typedef struct joined {
    hf_buf_t text;
    size_t count;
} joined_t;

static void join_problem(void *opaque, const config_problem_t *p)
{
    joined_t *j = opaque;
    j->count++;
    if (p->line)
        hf_buf_printf(&j->text, "%s:%zu:%zu: ", p->file, p->line, p->column);
    else
        hf_buf_printf(&j->text, "%s: ", p->file);
    hf_buf_printf(&j->text, "%s%s%s\n", p->path, *p->path ? ": " : "", p->message);
}

/* The problems of a file as items (the reload's JSON record): the same ones, in the
 * same order and words, as the text config_load() renders, without the quoted
 * source lines (which carry a password here); a file that cannot be opened is one
 * problem without a position. */
static void test_config_problems_as_items(void **state)
{
    (void)state;
    char path[] = "/tmp/hf-test-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *yaml = "kafka:\n"
                       "  partitions: many\n"
                       "  properties:\n"
                       "    sasl.password: hunter2-secret\n"
                       "sla:\n"
                       "  accept: { within: \"la\\\"ter\" }\n"
                       "nonsense: 1\n";
    assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
    close(fd);
    hf_config_t *cfg = (hf_config_t *)0x1;
    hf_buf_t rendered = HF_BUF_INIT;
    int want = config_load(&cfg, path, &rendered);
    assert_true(want >= 3);
    joined_t got = {HF_BUF_INIT, 0};
    assert_int_equal(config_load_each(&cfg, path, join_problem, &got), want);
    assert_ptr_equal(cfg, (hf_config_t *)0x1);
    assert_int_equal(got.count, (size_t)want);
    /* the rendered text without its quoted lines and carets */
    hf_buf_t bare = HF_BUF_INIT;
    for (char *l = strtok((char *)rendered.data, "\n"); l; l = strtok(NULL, "\n"))
        if (strncmp(l, "    ", 4) != 0)
            hf_buf_printf(&bare, "%s\n", l);
    hf_buf_append(&got.text, "", 1);
    hf_buf_append(&bare, "", 1);
    assert_string_equal((char *)got.text.data, (char *)bare.data);
    assert_non_null(strstr((char *)got.text.data, ":2:15: kafka.partitions: "));
    assert_non_null(strstr((char *)got.text.data, "got \"la\\\"ter\""));
    assert_null(strstr((char *)got.text.data, "hunter2"));
    unlink(path);
    hf_buf_free(&rendered);
    hf_buf_free(&bare);
    hf_buf_free(&got.text);

    got = (joined_t){HF_BUF_INIT, 0};
    assert_int_equal(config_load_each(&cfg, "/nonexistent/handoff.yaml", join_problem, &got),
                     -ENOENT);
    assert_int_equal(got.count, 1);
    hf_buf_append(&got.text, "", 1);
    assert_string_equal((char *)got.text.data,
                        "/nonexistent/handoff.yaml: cannot open: No such file or directory\n");
    hf_buf_free(&got.text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iso8601),
        cmocka_unit_test(test_json_fields),
        cmocka_unit_test(test_text_fields),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_email_masked),
        cmocka_unit_test(test_level_checked_first),
        cmocka_unit_test(test_config_problems_as_items),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
