/* The tzdata reader (config/tzfile.c) on the system's zones (/usr/share/zoneinfo,
 * Debian package tzdata) and on TZif files built here, POSIX TZ strings, and the
 * business arithmetic of processors/sla/calendar.c on the real zones.  Expected
 * instants are literals worked out by hand (and checked against python3's
 * zoneinfo); the comment beside each says what it is. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/tzfile.h"

#define ZONEINFO "/usr/share/zoneinfo"
#define MIN_S 60
#define HOUR_S 3600
#define HOUR_MS (3600 * 1000LL)
#define MIN_MS (60 * 1000LL)
#define DAY_MS (86400 * 1000LL)

/* Loads @name from /usr/share/zoneinfo, which must succeed. */
static hf_tz_t load(const char *name)
{
    hf_tz_t tz;
    char err[256] = "";
    int rc = tzfile_load(&tz, name, ZONEINFO, err, sizeof err);
    if (rc)
        fail_msg("%s: %d %s", name, rc, err);
    assert_string_equal(tz.name, name);
    return tz;
}

/* The bytes of a file under /usr/share/zoneinfo; the caller frees them. */
static uint8_t *read_zone(const char *name, size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, ZONEINFO "/%s", name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *data = malloc(1 << 20);
    assert_non_null(data);
    *len = fread(data, 1, 1 << 20, f);
    fclose(f);
    return data;
}

/* ---- offsets of the system's zones ---- */

static void test_new_york(void **state)
{
    (void)state;
    hf_tz_t tz = load("America/New_York");
    assert_true(tz.trans_count > 100);
    assert_true(tz.has_rule);
    assert_int_equal(tz.initial_offset_s, -17762);                   /* LMT -4:56:02 */
    assert_int_equal(hf_tz_offset_at(&tz, -5364662400), -17762);     /* 1800-01-01T00:00Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1772953199), -5 * HOUR_S); /* 2026-03-08T06:59:59Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1772953200), -4 * HOUR_S); /* 2026-03-08T07:00Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1793512799), -4 * HOUR_S); /* 2026-11-01T05:59:59Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1793512800), -5 * HOUR_S); /* 2026-11-01T06:00Z */

    /* 2045 is after the file's last transition: the footer rule answers. */
    assert_true(tz.trans_at_s[tz.trans_count - 1] < 2372914800);
    assert_int_equal(hf_tz_offset_at(&tz, 2372914799), -5 * HOUR_S); /* 2045-03-12T06:59:59Z */
    assert_int_equal(hf_tz_offset_at(&tz, 2372914800), -4 * HOUR_S); /* 2045-03-12T07:00Z */
    assert_int_equal(hf_tz_offset_at(&tz, 2393474399), -4 * HOUR_S); /* 2045-11-05T05:59:59Z */
    assert_int_equal(hf_tz_offset_at(&tz, 2393474400), -5 * HOUR_S); /* 2045-11-05T06:00Z */

    /* Consecutive transitions to the same offset are collapsed (the last stays). */
    for (size_t i = 1; i + 1 < tz.trans_count; i++)
        assert_int_not_equal(tz.trans_offset_s[i], tz.trans_offset_s[i - 1]);
    hf_tz_free(&tz);
}

static void test_berlin(void **state)
{
    (void)state;
    hf_tz_t tz = load("Europe/Berlin");
    assert_int_equal(hf_tz_offset_at(&tz, 1774745999), HOUR_S);     /* 2026-03-29T00:59:59Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1774746000), 2 * HOUR_S); /* 2026-03-29T01:00Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1792889999), 2 * HOUR_S); /* 2026-10-25T00:59:59Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1792890000), HOUR_S);     /* 2026-10-25T01:00Z */
    assert_int_equal(hf_tz_offset_at(&tz, 2374102799), HOUR_S);     /* 2045-03-26T00:59:59Z */
    assert_int_equal(hf_tz_offset_at(&tz, 2374102800), 2 * HOUR_S); /* 2045-03-26T01:00Z */
    assert_int_equal(hf_tz_offset_at(&tz, 2392851599), 2 * HOUR_S); /* 2045-10-29T00:59:59Z */
    assert_int_equal(hf_tz_offset_at(&tz, 2392851600), HOUR_S);     /* 2045-10-29T01:00Z */
    hf_tz_free(&tz);
}

static void test_sydney(void **state)
{
    (void)state;
    hf_tz_t tz = load("Australia/Sydney");
    assert_int_equal(hf_tz_offset_at(&tz, 1775318399), 11 * HOUR_S); /* 2026-04-04T15:59:59Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1775318400), 10 * HOUR_S); /* 2026-04-04T16:00Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1791043199), 10 * HOUR_S); /* 2026-10-03T15:59:59Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1791043200), 11 * HOUR_S); /* 2026-10-03T16:00Z */
    assert_int_equal(hf_tz_offset_at(&tz, 2368051200), 11 * HOUR_S); /* 2045-01-15T00:00Z */
    assert_int_equal(hf_tz_offset_at(&tz, 2374675199), 11 * HOUR_S); /* 2045-04-01T15:59:59Z */
    assert_int_equal(hf_tz_offset_at(&tz, 2374675200), 10 * HOUR_S); /* 2045-04-01T16:00Z */
    assert_int_equal(hf_tz_offset_at(&tz, 2383689600), 10 * HOUR_S); /* 2045-07-15T00:00Z */
    hf_tz_free(&tz);
}

static void test_fixed_zones(void **state)
{
    (void)state;
    hf_tz_t kolkata = load("Asia/Kolkata");
    assert_int_equal(hf_tz_offset_at(&kolkata, 1767225600), 19800); /* 2026-01-01T00:00Z, +05:30 */
    assert_int_equal(hf_tz_offset_at(&kolkata, 2382480000), 19800); /* 2045-07-01T00:00Z */
    assert_true(kolkata.has_rule);
    assert_false(kolkata.rule.has_dst);
    hf_tz_free(&kolkata);

    hf_tz_t utc = load("UTC");
    assert_int_equal(utc.trans_count, 0);
    assert_int_equal(hf_tz_offset_at(&utc, 1782864000), 0); /* 2026-07-01T00:00Z */
    assert_int_equal(hf_tz_local_to_utc(&utc, 1782864000), 1782864000);
    hf_tz_free(&utc);
}

static void test_local_to_utc(void **state)
{
    (void)state;
    hf_tz_t ny = load("America/New_York");
    /* 2026-03-08 02:30 does not exist: read as EST, 07:30Z = 03:30 EDT */
    assert_int_equal(hf_tz_local_to_utc(&ny, 20520 * 86400LL + 2 * HOUR_S + 30 * MIN_S),
                     1772955000);
    /* 2026-11-01 01:30 happens twice: the first, EDT, 05:30Z */
    assert_int_equal(hf_tz_local_to_utc(&ny, 20758 * 86400LL + HOUR_S + 30 * MIN_S), 1793511000);
    hf_tz_free(&ny);

    hf_tz_t berlin = load("Europe/Berlin");
    /* 2026-03-29 02:30 does not exist: 01:30Z = 03:30 CEST */
    assert_int_equal(hf_tz_local_to_utc(&berlin, 20541 * 86400LL + 2 * HOUR_S + 30 * MIN_S),
                     1774747800);
    /* 2026-10-25 02:30 happens twice: the first, CEST, 00:30Z */
    assert_int_equal(hf_tz_local_to_utc(&berlin, 20751 * 86400LL + 2 * HOUR_S + 30 * MIN_S),
                     1792888200);
    hf_tz_free(&berlin);
}

/* ---- names ---- */

static void expect_refused(const char *name, const char *dir, int rc, const char *message)
{
    hf_tz_t tz = {.name = (char *)"untouched"};
    char err[256] = "";
    assert_int_equal(tzfile_load(&tz, name, dir, err, sizeof err), rc);
    assert_string_equal(err, message);
    assert_string_equal(tz.name, "untouched");
}

static void test_names(void **state)
{
    (void)state;
    expect_refused("../etc/passwd", NULL, -EINVAL,
                   "bad time zone name \"../etc/passwd\": \"..\" not allowed");
    expect_refused("America/../../etc/passwd", NULL, -EINVAL,
                   "bad time zone name \"America/../../etc/passwd\": \"..\" not allowed");
    expect_refused("/etc/x", NULL, -EINVAL,
                   "bad time zone name \"/etc/x\": a name, not a path (no leading '/')");
    expect_refused("America/New York", NULL, -EINVAL,
                   "bad time zone name \"America/New York\": only A-Z a-z 0-9 / _ + - allowed");
    expect_refused("Europe/Berlin\n", NULL, -EINVAL,
                   "bad time zone name \"Europe/Berlin\n\": only A-Z a-z 0-9 / _ + - allowed");
    expect_refused("", NULL, -EINVAL, "empty time zone name");
    expect_refused(NULL, NULL, -EINVAL, "empty time zone name");
    expect_refused("Mars/Olympus", ZONEINFO, -ENOENT,
                   "unknown time zone \"Mars/Olympus\": no /usr/share/zoneinfo/Mars/Olympus (is "
                   "the tzdata package installed?)");
    expect_refused("America", ZONEINFO, -EISDIR,
                   "unknown time zone \"America\": /usr/share/zoneinfo/America is a directory");
    expect_refused("UTC", "/nonexistent", -ENOENT,
                   "unknown time zone \"UTC\": no /nonexistent/UTC (is the tzdata package "
                   "installed?)");
    /* not a TZif file */
    char err[256] = "";
    hf_tz_t tz;
    assert_int_equal(tzfile_load(&tz, "leapseconds", ZONEINFO, err, sizeof err), -EINVAL);
    assert_string_equal(err, "time zone \"leapseconds\": not a TZif file");
    /* a NULL or empty error buffer is fine */
    assert_int_equal(tzfile_load(&tz, "../x", NULL, NULL, 0), -EINVAL);
    assert_int_equal(tzfile_load(&tz, "Mars/Olympus", NULL, err, 0), -ENOENT);
}

/* The directory: @dir, else $TZDIR, else /usr/share/zoneinfo. */
static void test_directory(void **state)
{
    (void)state;
    const char *saved = getenv("TZDIR");
    char *saved_copy = saved ? strdup(saved) : NULL;
    hf_tz_t tz;
    char err[256] = "";

    assert_int_equal(setenv("TZDIR", ZONEINFO "/America", 1), 0);
    assert_int_equal(tzfile_load(&tz, "New_York", NULL, err, sizeof err), 0);
    assert_int_equal(hf_tz_offset_at(&tz, 1772953200), -4 * HOUR_S); /* 2026-03-08T07:00Z */
    hf_tz_free(&tz);
    assert_int_equal(tzfile_load(&tz, "Europe/Berlin", NULL, err, sizeof err), -ENOENT);
    assert_int_equal(tzfile_load(&tz, "Europe/Berlin", ZONEINFO, err, sizeof err), 0);
    hf_tz_free(&tz);

    assert_int_equal(unsetenv("TZDIR"), 0);
    assert_int_equal(tzfile_load(&tz, "Europe/Berlin", NULL, err, sizeof err), 0);
    hf_tz_free(&tz);

    if (saved_copy)
        setenv("TZDIR", saved_copy, 1);
    free(saved_copy);
}

/* ---- TZif files built here ---- */

typedef struct tzif_spec {
    uint8_t version; /* 0 (version 1) or '2', '3', '4' */
    const int64_t *at_s;
    const uint8_t *type_of;
    uint32_t timecnt;
    const int32_t *utoff_s;
    uint32_t typecnt;
    uint32_t leapcnt;
    const char *footer; /* NULL: none */
} tzif_spec_t;

typedef struct tzif_writer {
    uint8_t buf[4096];
    size_t len;
} tzif_writer_t;

static void put_bytes(tzif_writer_t *w, const void *p, size_t n)
{
    assert_true(w->len + n <= sizeof w->buf);
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static void put_be(tzif_writer_t *w, uint64_t v, unsigned bytes)
{
    for (unsigned i = bytes; i-- > 0;) {
        uint8_t b = (uint8_t)(v >> (8 * i));
        put_bytes(w, &b, 1);
    }
}

/* A header with the given counts (isutcnt and isstdcnt 0). */
static void put_header(tzif_writer_t *w, uint8_t version, uint32_t leapcnt, uint32_t timecnt,
                       uint32_t typecnt, uint32_t charcnt)
{
    static const uint8_t zeros[15] = {0};
    put_bytes(w, "TZif", 4);
    put_bytes(w, &version, 1);
    put_bytes(w, zeros, 15);
    put_be(w, 0, 4);
    put_be(w, 0, 4);
    put_be(w, leapcnt, 4);
    put_be(w, timecnt, 4);
    put_be(w, typecnt, 4);
    put_be(w, charcnt, 4);
}

/* The data block of @s with @time_bytes per timestamp; designations "LMT\0". */
static void put_block(tzif_writer_t *w, const tzif_spec_t *s, unsigned time_bytes)
{
    for (uint32_t i = 0; i < s->timecnt; i++)
        put_be(w, (uint64_t)s->at_s[i], time_bytes);
    put_bytes(w, s->type_of, s->timecnt);
    for (uint32_t i = 0; i < s->typecnt; i++) {
        put_be(w, (uint32_t)s->utoff_s[i], 4);
        put_be(w, s->utoff_s[i] != s->utoff_s[0], 1); /* isdst: all but type 0 */
        put_be(w, 0, 1);
    }
    put_bytes(w, "LMT", 4);
    for (uint32_t i = 0; i < s->leapcnt; i++) {
        put_be(w, 78796800 + i, time_bytes);
        put_be(w, i + 1, 4);
    }
}

static tzif_writer_t *tzif_build(const tzif_spec_t *s)
{
    tzif_writer_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    if (s->version == 0) {
        put_header(w, 0, s->leapcnt, s->timecnt, s->typecnt, 4);
        put_block(w, s, 4);
        return w;
    }
    /* a version 1 block as zic -b slim writes it: one type, one character */
    put_header(w, s->version, 0, 0, 1, 1);
    put_bytes(w, "\0\0\0\0\0\0\0", 7);
    put_header(w, s->version, s->leapcnt, s->timecnt, s->typecnt, 4);
    put_block(w, s, 8);
    if (s->footer) {
        put_bytes(w, "\n", 1);
        put_bytes(w, s->footer, strlen(s->footer));
        put_bytes(w, "\n", 1);
    }
    return w;
}

static const int32_t lmt_est_edt[] = {-17762, -5 * HOUR_S, -4 * HOUR_S};

static void test_built(void **state)
{
    (void)state;
    /* 1883-11-18 17:00Z (to EST), and the 2026 changes */
    static const int64_t at_s[] = {-2717650800, 1772953200, 1793512800};
    static const uint8_t type_of[] = {1, 2, 1};
    tzif_spec_t spec = {'2', at_s, type_of, 3, lmt_est_edt, 3, 0, "EST5EDT,M3.2.0,M11.1.0"};
    tzif_writer_t *w = tzif_build(&spec);
    hf_tz_t tz;
    char err[256] = "";
    assert_int_equal(tzfile_parse(&tz, "Test/Built", w->buf, w->len, err, sizeof err), 0);
    assert_string_equal(tz.name, "Test/Built");
    assert_int_equal(tz.initial_offset_s, -17762);
    assert_int_equal(tz.trans_count, 3);
    assert_int_equal(tz.trans_at_s[1], 1772953200);
    assert_int_equal(tz.trans_offset_s[1], -4 * HOUR_S);
    assert_true(tz.has_rule && tz.rule.has_dst);
    assert_int_equal(hf_tz_offset_at(&tz, 2372914800), -4 * HOUR_S); /* 2045-03-12T07:00Z */
    hf_tz_free(&tz);

    /* version 3 and 4 read the same; an empty footer is no rule */
    spec.version = '4';
    spec.footer = "";
    free(w);
    w = tzif_build(&spec);
    assert_int_equal(tzfile_parse(&tz, "Test/Built", w->buf, w->len, err, sizeof err), 0);
    assert_false(tz.has_rule);
    assert_int_equal(hf_tz_offset_at(&tz, 2372914800), -5 * HOUR_S); /* the last offset stays */
    hf_tz_free(&tz);

    /* version 1: 32-bit times (1906-08-16T20:26:40Z first), no footer */
    static const int64_t at32_s[] = {-2000000000, 1772953200, 1793512800};
    spec = (tzif_spec_t){0, at32_s, type_of, 3, lmt_est_edt, 3, 0, NULL};
    free(w);
    w = tzif_build(&spec);
    assert_int_equal(tzfile_parse(&tz, "Test/V1", w->buf, w->len, err, sizeof err), 0);
    assert_int_equal(tz.trans_count, 3);
    assert_int_equal(tz.trans_at_s[0], -2000000000);
    assert_int_equal(tz.trans_offset_s[2], -5 * HOUR_S);
    assert_false(tz.has_rule);
    hf_tz_free(&tz);
    free(w);
}

/* Transitions to the offset already in effect are dropped, except the last. */
static void test_collapse(void **state)
{
    (void)state;
    static const int64_t at_s[] = {100, 200, 300, 400, 500, 600};
    static const uint8_t type_of[] = {0, 1, 2, 2, 1, 1};
    static const int32_t utoff_s[] = {-5 * HOUR_S, -5 * HOUR_S, -4 * HOUR_S};
    tzif_spec_t spec = {'2', at_s, type_of, 6, utoff_s, 3, 0, ""};
    tzif_writer_t *w = tzif_build(&spec);
    hf_tz_t tz;
    char err[256] = "";
    assert_int_equal(tzfile_parse(&tz, "Test/Collapse", w->buf, w->len, err, sizeof err), 0);
    /* 100 and 200 keep -5 h (the initial offset), 400 repeats 300's -4 h, 500 is
     * -5 h again and 600 repeats it but is the last */
    assert_int_equal(tz.trans_count, 3);
    assert_int_equal(tz.trans_at_s[0], 300);
    assert_int_equal(tz.trans_offset_s[0], -4 * HOUR_S);
    assert_int_equal(tz.trans_at_s[1], 500);
    assert_int_equal(tz.trans_offset_s[1], -5 * HOUR_S);
    assert_int_equal(tz.trans_at_s[2], 600);
    assert_int_equal(tz.trans_offset_s[2], -5 * HOUR_S);
    for (int64_t t = 0; t < 700; t++) {
        int32_t expect = t >= 300 && t < 500 ? -4 * HOUR_S : -5 * HOUR_S;
        assert_int_equal(hf_tz_offset_at(&tz, t), expect);
    }
    hf_tz_free(&tz);
    free(w);
}

/* Parses @data, which must fail with @rc and an error naming the zone; *out untouched. */
static void expect_corrupt(const uint8_t *data, size_t len, int rc, const char *message)
{
    hf_tz_t tz = {.name = (char *)"untouched"};
    char err[256] = "";
    assert_int_equal(tzfile_parse(&tz, "Test/Corrupt", data, len, err, sizeof err), rc);
    assert_string_equal(tz.name, "untouched");
    if (!strstr(err, message) || strncmp(err, "time zone \"Test/Corrupt\": ", 26) != 0)
        fail_msg("message \"%s\", wanted \"%s\"", err, message);
}

static void test_corrupt_built(void **state)
{
    (void)state;
    static const int64_t at_s[] = {-2717650800, 1772953200, 1793512800};
    static const uint8_t type_of[] = {1, 2, 1};
    tzif_spec_t good = {'2', at_s, type_of, 3, lmt_est_edt, 3, 0, "EST5EDT,M3.2.0,M11.1.0"};
    tzif_writer_t *w = tzif_build(&good);
    const size_t v2_header = 44 + 7; /* after the version 1 header and block */

    uint8_t copy[4096];
#define MUTATE(offset, byte, rc, message)                                                          \
    do {                                                                                           \
        memcpy(copy, w->buf, w->len);                                                              \
        copy[offset] = (byte);                                                                     \
        expect_corrupt(copy, w->len, rc, message);                                                 \
    } while (0)
    MUTATE(0, 'X', -EINVAL, "not a TZif file");
    MUTATE(4, '1', -EINVAL, "unknown TZif version 0x31");
    MUTATE(v2_header + 4, '1', -EINVAL, "unknown TZif version 0x31");
    MUTATE(v2_header + 39, 0, -EINVAL, "corrupt TZif header (typecnt 0"); /* typecnt */
    MUTATE(v2_header + 23, 2, -EINVAL, "corrupt TZif header");            /* isutcnt 2 != 3 */
    MUTATE(v2_header + 32, 0xff, -EINVAL, "truncated TZif data");         /* timecnt huge */
    MUTATE(v2_header + 35, 200, -EINVAL, "truncated TZif data");          /* timecnt 200 */
    MUTATE(v2_header + 44 + 24 + 1, 7, -EINVAL, "transition 1 has no local time type 7");
    MUTATE(v2_header + 44 + 16, 0x80, -EINVAL, "transition 2 out of order");
    /* the first ttinfo: utoff INT32_MIN, isdst 2, designation past the characters */
    size_t ttinfo = v2_header + 44 + 3 * 9;
    memcpy(copy, w->buf, w->len);
    memcpy(copy + ttinfo, "\x80\0\0\0", 4);
    expect_corrupt(copy, w->len, -EINVAL, "corrupt local time type 0");
    MUTATE(ttinfo + 6 + 4, 2, -EINVAL, "corrupt local time type 1");
    MUTATE(ttinfo + 12 + 5, 4, -EINVAL, "corrupt local time type 2");
    /* the footer */
    size_t footer = w->len - strlen(good.footer) - 2;
    MUTATE(footer, 'X', -EINVAL, "TZif footer missing");
    MUTATE(w->len - 1, 'X', -EINVAL, "TZif footer missing");
    MUTATE(footer + 3, '\0', -EINVAL, "corrupt TZif footer");
    MUTATE(footer + 4, 'X', -EINVAL, "bad TZ string \"ESTXEDT,M3.2.0,M11.1.0\" in footer");
#undef MUTATE

    /* every prefix of the file is truncated */
    for (size_t len = 0; len < w->len; len++)
        expect_corrupt(w->buf, len, -EINVAL, "");
    expect_corrupt(NULL, 0, -EINVAL, "no data");

    /* leap seconds are refused */
    tzif_spec_t leap = good;
    leap.leapcnt = 2;
    tzif_writer_t *lw = tzif_build(&leap);
    expect_corrupt(lw->buf, lw->len, -ENOTSUP, "leap-second zones");
    free(lw);
    free(w);
}

/* Every prefix of a real file is refused, and flipped bytes never crash. */
static void test_corrupt_real(void **state)
{
    (void)state;
    size_t len;
    uint8_t *data = read_zone("America/New_York", &len);
    hf_tz_t tz;
    char err[256];
    assert_int_equal(tzfile_parse(&tz, "America/New_York", data, len, err, sizeof err), 0);
    hf_tz_free(&tz);
    for (size_t n = 0; n < len; n++)
        expect_corrupt(data, n, -EINVAL, "");

    uint8_t *copy = malloc(len);
    assert_non_null(copy);
    uint32_t seed = 12345;
    for (int round = 0; round < 20000; round++) {
        memcpy(copy, data, len);
        for (int k = 0; k < 1 + round % 4; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = round < 2000 ? (size_t)round % 120 : (seed >> 8) % len;
            seed = seed * 1103515245u + 12345u;
            copy[at] = (uint8_t)(seed >> 16);
        }
        int rc = tzfile_parse(&tz, "Fuzz", copy, len, err, sizeof err);
        assert_true(rc == 0 || rc == -EINVAL || rc == -ENOTSUP || rc == -ENOMEM);
        if (rc == 0) {
            (void)hf_tz_offset_at(&tz, 1772953200);
            (void)hf_tz_local_to_utc(&tz, 1772953200);
            hf_tz_free(&tz);
        }
    }
    free(copy);
    free(data);

    /* right/ zones count leap seconds (skipped where tzdata leaves them out) */
    int rc = tzfile_load(&tz, "right/UTC", ZONEINFO, err, sizeof err);
    if (rc != -ENOENT) {
        assert_int_equal(rc, -ENOTSUP);
        assert_string_equal(
            err, "time zone \"right/UTC\": leap-second zones (\"right/...\") are not supported");
    }
}

/* ---- POSIX TZ strings ---- */

static void expect_date(const hf_tz_date_t *d, hf_tz_date_kind_t kind, int32_t a, int32_t b,
                        int32_t c, int32_t time_s)
{
    assert_int_equal(d->kind, kind);
    if (kind == HF_TZ_DATE_MONTH_WEEK_DAY) {
        assert_int_equal(d->month, a);
        assert_int_equal(d->week, b);
        assert_int_equal(d->wday, c);
    } else {
        assert_int_equal(d->day, a);
    }
    assert_int_equal(d->time_s, time_s);
}

static void test_posix(void **state)
{
    (void)state;
    const hf_tz_date_kind_t mwd = HF_TZ_DATE_MONTH_WEEK_DAY;
    hf_tz_rule_t r;
    assert_int_equal(tzfile_parse_posix(&r, "EST5EDT,M3.2.0,M11.1.0"), 0);
    assert_int_equal(r.std_offset_s, -5 * HOUR_S);
    assert_true(r.has_dst);
    assert_int_equal(r.dst_offset_s, -4 * HOUR_S);
    expect_date(&r.dst_start, mwd, 3, 2, 0, 2 * HOUR_S);
    expect_date(&r.dst_end, mwd, 11, 1, 0, 2 * HOUR_S);

    assert_int_equal(tzfile_parse_posix(&r, "CET-1CEST,M3.5.0,M10.5.0/3"), 0);
    assert_int_equal(r.std_offset_s, HOUR_S);
    assert_int_equal(r.dst_offset_s, 2 * HOUR_S);
    expect_date(&r.dst_start, mwd, 3, 5, 0, 2 * HOUR_S);
    expect_date(&r.dst_end, mwd, 10, 5, 0, 3 * HOUR_S);

    assert_int_equal(tzfile_parse_posix(&r, "<+0330>-3:30"), 0);
    assert_int_equal(r.std_offset_s, 3 * HOUR_S + 30 * MIN_S);
    assert_false(r.has_dst);

    assert_int_equal(tzfile_parse_posix(&r, "IST-2IDT,M3.4.4/26,M10.5.0"), 0);
    assert_int_equal(r.std_offset_s, 2 * HOUR_S);
    assert_int_equal(r.dst_offset_s, 3 * HOUR_S);
    expect_date(&r.dst_start, mwd, 3, 4, 4, 26 * HOUR_S);
    expect_date(&r.dst_end, mwd, 10, 5, 0, 2 * HOUR_S);

    assert_int_equal(tzfile_parse_posix(&r, "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1"), 0);
    assert_int_equal(r.std_offset_s, -3 * HOUR_S);
    assert_int_equal(r.dst_offset_s, -2 * HOUR_S);
    expect_date(&r.dst_start, mwd, 3, 5, 0, -2 * HOUR_S);
    expect_date(&r.dst_end, mwd, 10, 5, 0, -HOUR_S);

    assert_int_equal(tzfile_parse_posix(&r, "UTC0"), 0);
    assert_int_equal(r.std_offset_s, 0);
    assert_false(r.has_dst);

    /* a DST name without rules: the US rules */
    assert_int_equal(tzfile_parse_posix(&r, "EST5EDT"), 0);
    assert_int_equal(r.dst_offset_s, -4 * HOUR_S);
    expect_date(&r.dst_start, mwd, 3, 2, 0, 2 * HOUR_S);
    expect_date(&r.dst_end, mwd, 11, 1, 0, 2 * HOUR_S);

    /* an explicit DST offset, seconds, a signed std offset */
    assert_int_equal(tzfile_parse_posix(&r, "NZST-12NZDT-13:45:30,M9.5.0,M4.1.0/3"), 0);
    assert_int_equal(r.std_offset_s, 12 * HOUR_S);
    assert_int_equal(r.dst_offset_s, 13 * HOUR_S + 45 * MIN_S + 30);
    assert_int_equal(tzfile_parse_posix(&r, "<-0930>+9:30"), 0);
    assert_int_equal(r.std_offset_s, -9 * HOUR_S - 30 * MIN_S);

    /* the Julian forms, TZif v3 times */
    assert_int_equal(tzfile_parse_posix(&r, "XXX0YYY,J60/0,300/167"), 0);
    expect_date(&r.dst_start, HF_TZ_DATE_JULIAN_NOLEAP, 60, 0, 0, 0);
    expect_date(&r.dst_end, HF_TZ_DATE_JULIAN, 300, 0, 0, 167 * HOUR_S);
    assert_int_equal(tzfile_parse_posix(&r, "EST5EDT,0/0,J365/25"), 0);
    expect_date(&r.dst_start, HF_TZ_DATE_JULIAN, 0, 0, 0, 0);
    expect_date(&r.dst_end, HF_TZ_DATE_JULIAN_NOLEAP, 365, 0, 0, 25 * HOUR_S);
}

static void test_posix_refused(void **state)
{
    (void)state;
    hf_tz_rule_t r;
    static const char *const bad[] = {
        "",
        "E5",
        "EST",
        "EST-",
        "5EST",
        "EST25",
        "EST5:60",
        "EST5:30:60",
        "EST123",
        "<AB>5",
        "<+0330-3:30",
        "EST5ED",
        "EST5EDT,",
        "EST5EDT,M3.2.0",
        "EST5EDT,M3.2.0,",
        "EST5EDT,M13.2.0,M11.1.0",
        "EST5EDT,M0.2.0,M11.1.0",
        "EST5EDT,M3.6.0,M11.1.0",
        "EST5EDT,M3.0.0,M11.1.0",
        "EST5EDT,M3.2.7,M11.1.0",
        "EST5EDT,M3.2,M11.1.0",
        "EST5EDT,J0,J365",
        "EST5EDT,J1,J366",
        "EST5EDT,366,1",
        "EST5EDT,M3.2.0/168,M11.1.0",
        "EST5EDT,M3.2.0/,M11.1.0",
        "EST5EDT,M3.2.0,M11.1.0x",
        "EST5EDT,M3.2.0,M11.1.0,",
        "EST5 EDT",
        "EST5EDT4,",
        "EST5EDT25,M3.2.0,M11.1.0",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hf_tz_rule_t untouched = {.std_offset_s = 4242};
        if (tzfile_parse_posix(&untouched, bad[i]) != -EINVAL)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(untouched.std_offset_s, 4242);
    }
    assert_int_equal(tzfile_parse_posix(&r, NULL), -EINVAL);
}

/* ---- business time on the real zones ---- */

/* Monday to Friday, 09:00-17:00 local. */
static hf_calendar_t office(const char *zone)
{
    hf_calendar_t cal = {.tz = load(zone)};
    for (int wday = 1; wday <= 5; wday++)
        cal.hours[wday] = (hf_day_hours_t){{9 * HOUR_S}, {17 * HOUR_S}, 1};
    return cal;
}

static void test_business_new_york(void **state)
{
    (void)state;
    hf_calendar_t cal = office("America/New_York");
    cal.holidays = malloc(sizeof *cal.holidays);
    assert_non_null(cal.holidays);
    cal.holidays[0] = 20783; /* 2026-11-26, Thanksgiving */
    cal.holiday_count = 1;

    /* Friday 2026-03-06 16:00 EST (21:00Z) + 2 h across the spring-forward weekend:
     * Monday 2026-03-09 10:00 EDT = 14:00Z */
    assert_int_equal(hf_calendar_add(&cal, 1772830800000, 2 * HOUR_MS), 1773064800000);
    /* Friday 2026-10-30 16:00 EDT (20:00Z) + 2 h across the fall-back weekend:
     * Monday 2026-11-02 10:00 EST = 15:00Z */
    assert_int_equal(hf_calendar_add(&cal, 1793390400000, 2 * HOUR_MS), 1793631600000);
    /* Tuesday 2026-03-10 17:00 EDT (21:00Z) + 1 h: Wednesday 10:00 EDT = 14:00Z */
    assert_int_equal(hf_calendar_add(&cal, 1773176400000, HOUR_MS), 1773237600000);
    /* Wednesday 2026-11-25 16:00 EST (21:00Z) + 2 h, Thanksgiving skipped: Friday
     * 2026-11-27 10:00 EST = 15:00Z */
    assert_int_equal(hf_calendar_add(&cal, 1795640400000, 2 * HOUR_MS), 1795791600000);
    assert_false(hf_calendar_is_open(&cal, 1795705200000)); /* Thanksgiving 10:00 EST */
    /* Friday 2045-03-10 16:00 EST (21:00Z), beyond the listed transitions, + 2 h:
     * Monday 2045-03-13 10:00 EDT = 14:00Z */
    assert_int_equal(hf_calendar_add(&cal, 2372792400000, 2 * HOUR_MS), 2373026400000);

    /* a deadline three weeks of work after Monday 2026-10-19 09:00 EDT (13:00Z), across
     * the fall-back: Friday 2026-11-06 17:00 EST = 22:00Z */
    assert_int_equal(hf_calendar_add(&cal, 1792414800000, 120 * HOUR_MS), 1794002400000);

    /* lunch break: 09:00-12:00 and 13:00-17:00; Monday 2026-03-09 11:00 EDT (15:00Z)
     * + 2 h: 14:00 EDT = 18:00Z */
    for (int wday = 1; wday <= 5; wday++)
        cal.hours[wday] =
            (hf_day_hours_t){{9 * HOUR_S, 13 * HOUR_S}, {12 * HOUR_S, 17 * HOUR_S}, 2};
    assert_int_equal(hf_calendar_add(&cal, 1773068400000, 2 * HOUR_MS), 1773079200000);
    assert_int_equal(hf_calendar_between(&cal, 1773068400000, 1773090000000), 5 * HOUR_MS);

    /* between(a, add(a, d)) == d around both changes */
    static const int64_t amounts_ms[] = {1,           37 * MIN_MS,  2 * HOUR_MS, 7 * HOUR_MS + 1,
                                         9 * HOUR_MS, 33 * HOUR_MS, 70 * HOUR_MS};
    static const int64_t starts_ms[] = {1772409600000 /* 2026-03-02 */,
                                        1792454400000 /* 2026-10-20 */};
    for (size_t s = 0; s < 2; s++)
        for (int64_t a = starts_ms[s]; a < starts_ms[s] + 21 * DAY_MS; a += 41 * MIN_MS)
            for (size_t i = 0; i < sizeof amounts_ms / sizeof amounts_ms[0]; i++) {
                int64_t deadline = hf_calendar_add(&cal, a, amounts_ms[i]);
                assert_true(deadline < INT64_MAX);
                assert_int_equal(hf_calendar_between(&cal, a, deadline), amounts_ms[i]);
            }
    hf_calendar_free(&cal);
    assert_null(cal.holidays);
}

static void test_business_berlin_sydney(void **state)
{
    (void)state;
    hf_calendar_t berlin = office("Europe/Berlin");
    /* Friday 2026-03-27 16:00 CET (15:00Z) + 2 h: Monday 2026-03-30 10:00 CEST = 08:00Z */
    assert_int_equal(hf_calendar_add(&berlin, 1774623600000, 2 * HOUR_MS), 1774857600000);
    /* Friday 2026-10-23 16:00 CEST (14:00Z) + 2 h: Monday 2026-10-26 10:00 CET = 09:00Z */
    assert_int_equal(hf_calendar_add(&berlin, 1792764000000, 2 * HOUR_MS), 1793005200000);
    hf_calendar_free(&berlin);

    hf_calendar_t sydney = office("Australia/Sydney");
    /* Friday 2026-04-03 16:00 AEDT (05:00Z) + 2 h: Monday 2026-04-06 10:00 AEST = 00:00Z */
    assert_int_equal(hf_calendar_add(&sydney, 1775192400000, 2 * HOUR_MS), 1775433600000);
    /* Friday 2026-10-02 16:00 AEST (06:00Z) + 2 h: Monday 2026-10-05 10:00 AEDT =
     * 2026-10-04T23:00Z */
    assert_int_equal(hf_calendar_add(&sydney, 1790920800000, 2 * HOUR_MS), 1791154800000);
    hf_calendar_free(&sydney);
}

static void test_business_always_and_closed(void **state)
{
    (void)state;
    hf_calendar_t always = {.always = true};
    /* Saturday 2026-03-07 15:00Z + 2 h of wall time */
    assert_int_equal(hf_calendar_add(&always, 1772895600000, 2 * HOUR_MS), 1772902800000);
    assert_int_equal(hf_calendar_between(&always, 1772895600000, 1772902800000), 2 * HOUR_MS);

    hf_calendar_t closed = {.tz = load("America/New_York")};
    assert_int_equal(hf_calendar_add(&closed, 1772830800000, 1), INT64_MAX);
    assert_int_equal(hf_calendar_between(&closed, 1772830800000, 1798761600000), 0);
    hf_calendar_free(&closed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_york),
        cmocka_unit_test(test_berlin),
        cmocka_unit_test(test_sydney),
        cmocka_unit_test(test_fixed_zones),
        cmocka_unit_test(test_local_to_utc),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_directory),
        cmocka_unit_test(test_built),
        cmocka_unit_test(test_collapse),
        cmocka_unit_test(test_corrupt_built),
        cmocka_unit_test(test_corrupt_real),
        cmocka_unit_test(test_posix),
        cmocka_unit_test(test_posix_refused),
        cmocka_unit_test(test_business_new_york),
        cmocka_unit_test(test_business_berlin_sydney),
        cmocka_unit_test(test_business_always_and_closed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
