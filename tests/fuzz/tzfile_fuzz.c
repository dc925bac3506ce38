/* Fuzz target of the tzdata readers of config/tzfile.c.  The first byte picks the
 * reader: even, tzfile_parse() on the rest (as zone "fuzz", or unnamed when bit 1
 * is set); odd, tzfile_parse_posix() on the rest as a NUL-terminated string.  A
 * zone either accepts is then used as processors/sla/calendar.c uses one: offsets at
 * a few instants and at every transition, local times back to UTC, and deadlines
 * of a Monday-Friday 09:00-17:00 calendar; the readers' and the calendar's
 * contracts are checked on every answer.
 *
 * Built normally (as meson does) it has a replay main() that runs every file of the
 * directories or files named on the command line, so the corpus is also an ordinary
 * test (suite 'fuzz').  `tzfile_fuzz --write-seeds tests/fuzz/corpus/tzfile` writes
 * the seed corpus from the system's tzdata ($TZDIR, else /usr/share/zoneinfo): five
 * real zones, a version 1 file, a leap-second file, truncated and corrupted ones,
 * and POSIX TZ strings; the fuzz_* files beside them are inputs libFuzzer found
 * (kept by hand, not rewritten).  For a libFuzzer run:
 *
 *     clang -g -O1 -DHF_FUZZING -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
 *         tests/fuzz/tzfile_fuzz.c config/tzfile.c $(find processors -name '*.c') -lm \
 *         -o tzfile_fuzz
 *     ./tzfile_fuzz -max_len=4096 tests/fuzz/corpus/tzfile
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/tzfile.h"
#include "processors/sla/calendar.h"
#include "replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HOUR_S 3600
#define DAY_S (24 * HOUR_S)
#define HOUR_MS (3600 * INT64_C(1000))
/* POSIX offsets are [+-]hh[:mm[:ss]] with hh <= 24; a DST offset left out is the
 * standard one plus an hour. */
#define POSIX_OFFSET_MAX_S (24 * HOUR_S + 59 * 60 + 59)
/* Times of day of a rule's changes: TZif v3 allows -167 h to +167 h. */
#define POSIX_TIME_MAX_S (167 * HOUR_S + 59 * 60 + 59)
/* RFC 8536 section 3.2: a TZif offset SHOULD lie in [-89999, 93599] (it MUST only
 * not be INT32_MIN). */
#define RFC8536_OFFSET_MIN_S (-89999)
#define RFC8536_OFFSET_MAX_S 93599
/* Instants past this are clamped by calendar.c; below it, arithmetic is exact. */
#define EXACT_LIMIT_S (INT64_C(1) << 40)

static void check_date(const hf_tz_date_t *date)
{
    switch (date->kind) {
    case HF_TZ_DATE_MONTH_WEEK_DAY:
        if (date->month < 1 || date->month > 12 || date->week < 1 || date->week > 5 ||
            date->wday < 0 || date->wday > 6)
            abort();
        break;
    case HF_TZ_DATE_JULIAN_NOLEAP:
        if (date->day < 1 || date->day > 365)
            abort();
        break;
    case HF_TZ_DATE_JULIAN:
        if (date->day < 0 || date->day > 365)
            abort();
        break;
    default:
        abort();
    }
    if (date->time_s < -POSIX_TIME_MAX_S || date->time_s > POSIX_TIME_MAX_S)
        abort();
}

/* What an accepted POSIX rule promises calendar.c (which asserts the dates). */
static void check_rule(const hf_tz_rule_t *rule)
{
    if (rule->std_offset_s < -POSIX_OFFSET_MAX_S || rule->std_offset_s > POSIX_OFFSET_MAX_S)
        abort();
    if (!rule->has_dst)
        return;
    if (rule->dst_offset_s < -POSIX_OFFSET_MAX_S ||
        rule->dst_offset_s > POSIX_OFFSET_MAX_S + HOUR_S)
        abort();
    check_date(&rule->dst_start);
    check_date(&rule->dst_end);
}

/* What an accepted TZif file promises: transitions strictly ascending (the lookup
 * is a binary search), no offset of INT32_MIN (RFC 8536 forbids it), the name
 * copied. */
static void check_zone(const hf_tz_t *tz, const char *name)
{
    if (name ? !tz->name || strcmp(tz->name, name) != 0 : tz->name != NULL)
        abort();
    if (tz->trans_count && (!tz->trans_at_s || !tz->trans_offset_s))
        abort();
    if (tz->initial_offset_s == INT32_MIN)
        abort();
    for (size_t i = 0; i < tz->trans_count; i++)
        if (tz->trans_offset_s[i] == INT32_MIN || (i && tz->trans_at_s[i] <= tz->trans_at_s[i - 1]))
            abort();
    if (tz->has_rule)
        check_rule(&tz->rule);
}

/* True when @offset_s is one the zone can be in. */
static bool zone_has_offset(const hf_tz_t *tz, int64_t offset_s)
{
    if (offset_s == tz->initial_offset_s)
        return true;
    for (size_t i = 0; i < tz->trans_count; i++)
        if (offset_s == tz->trans_offset_s[i])
            return true;
    return tz->has_rule && (offset_s == tz->rule.std_offset_s ||
                            (tz->rule.has_dst && offset_s == tz->rule.dst_offset_s));
}

static void exercise_instant(const hf_tz_t *tz, int64_t t_s)
{
    int32_t offset_s = hf_tz_offset_at(tz, t_s);
    if (!zone_has_offset(tz, offset_s))
        abort();
    if ((tz->trans_count && t_s < tz->trans_at_s[0]) || (!tz->trans_count && !tz->has_rule))
        if (offset_s != tz->initial_offset_s)
            abort();
    /* @t_s read as a local time: the instant is @t_s less one of the zone's offsets. */
    int64_t utc_s = hf_tz_local_to_utc(tz, t_s);
    if (t_s > -EXACT_LIMIT_S && t_s < EXACT_LIMIT_S && !zone_has_offset(tz, t_s - utc_s))
        abort();
}

static bool offset_in_rfc8536_range(int32_t offset_s)
{
    return offset_s >= RFC8536_OFFSET_MIN_S && offset_s <= RFC8536_OFFSET_MAX_S;
}

static bool change_within_a_day(int32_t from_s, int32_t to_s)
{
    int64_t change_s = (int64_t)to_s - from_s;
    return change_s >= -DAY_S && change_s <= DAY_S;
}

/* True when the zone is one calendar.c's span walks see whole: its offsets within
 * RFC 8536's range (OFFSET_REACH_S assumes it, tzfile_parse() accepts any but
 * INT32_MIN) and no change of more than a day (hf_calendar_is_open looks one local
 * day either side; a longer gap moves a day's hours out of its sight).  Real zones
 * are: the largest changes, Samoa's in 2011 and Kwajalein's in 1993, are a day.
 * Elsewhere deadlines are still computed, but add, between and is_open need not
 * agree. */
static bool zone_calendar_exact(const hf_tz_t *tz)
{
    int32_t previous_s = tz->initial_offset_s;
    if (!offset_in_rfc8536_range(previous_s))
        return false;
    for (size_t i = 0; i < tz->trans_count; i++) {
        if (!offset_in_rfc8536_range(tz->trans_offset_s[i]) ||
            !change_within_a_day(previous_s, tz->trans_offset_s[i]))
            return false;
        previous_s = tz->trans_offset_s[i];
    }
    if (!tz->has_rule)
        return true;
    const hf_tz_rule_t *rule = &tz->rule;
    if (!offset_in_rfc8536_range(rule->std_offset_s) ||
        !change_within_a_day(previous_s, rule->std_offset_s))
        return false;
    return !rule->has_dst || (offset_in_rfc8536_range(rule->dst_offset_s) &&
                              change_within_a_day(previous_s, rule->dst_offset_s) &&
                              change_within_a_day(rule->std_offset_s, rule->dst_offset_s));
}

/* Deadlines of a Monday-Friday 09:00-17:00 calendar in the zone: after the start
 * and, in a zone the calendar sees whole, in working hours and as much working time
 * after it as was asked for. */
static void exercise_calendar(const hf_tz_t *tz, int64_t from_ms)
{
    bool exact = zone_calendar_exact(tz);
    hf_calendar_t cal = {.tz = *tz}; /* borrows the zone; not freed here */
    for (int wday = 1; wday <= 5; wday++)
        cal.hours[wday] =
            (hf_day_hours_t){.open_s = {9 * HOUR_S}, .close_s = {17 * HOUR_S}, .span_count = 1};
    static const int64_t business_ms[] = {1, HOUR_MS, 5 * 8 * HOUR_MS + 1};
    for (size_t i = 0; i < sizeof business_ms / sizeof business_ms[0]; i++) {
        int64_t deadline_ms = hf_calendar_add(&cal, from_ms, business_ms[i]);
        if (deadline_ms <= from_ms)
            abort();
        if (deadline_ms == INT64_MAX || !exact)
            continue;
        if (hf_calendar_between(&cal, from_ms, deadline_ms) != business_ms[i])
            abort();
        if (!hf_calendar_is_open(&cal, deadline_ms - 1))
            abort();
    }
}

static void exercise_zone(const hf_tz_t *tz)
{
    static const int64_t instants_s[] = {
        INT64_MIN,     -EXACT_LIMIT_S, INT32_MIN, -1, 0,
        1700000000,    1711846800, /* 2024-03-31 01:00Z: the EU change */
        INT32_MAX,     4102444800, /* 2100-01-01: the footer rule */
        EXACT_LIMIT_S, INT64_MAX,
    };
    for (size_t i = 0; i < sizeof instants_s / sizeof instants_s[0]; i++)
        exercise_instant(tz, instants_s[i]);

    /* Each transition's offset is in effect from it on, the previous one until it. */
    for (size_t i = 0; i < tz->trans_count; i++) {
        int64_t at_s = tz->trans_at_s[i];
        if (hf_tz_offset_at(tz, at_s) != tz->trans_offset_s[i])
            abort();
        int32_t before_s = i ? tz->trans_offset_s[i - 1] : tz->initial_offset_s;
        if (at_s > INT64_MIN && hf_tz_offset_at(tz, at_s - 1) != before_s)
            abort();
    }
    if (tz->trans_count) {
        exercise_instant(tz, tz->trans_at_s[0]);
        exercise_instant(tz, tz->trans_at_s[tz->trans_count - 1]);
    }

    exercise_calendar(tz, 1700000000 * INT64_C(1000));
    exercise_calendar(tz, 4102444800 * INT64_C(1000));
    int64_t last_s = tz->trans_count ? tz->trans_at_s[tz->trans_count - 1] : 0;
    if (last_s > -EXACT_LIMIT_S && last_s < EXACT_LIMIT_S)
        exercise_calendar(tz, last_s * 1000 - 1);
}

static void fuzz_tzif(const uint8_t *data, size_t size, const char *name)
{
    hf_tz_t tz, untouched;
    memset(&tz, 0x5a, sizeof tz);
    memcpy(&untouched, &tz, sizeof tz);
    char err[512];
    err[0] = '\0';
    int r = tzfile_parse(&tz, name, data, size, err, sizeof err);
    if (r > 0 || (r < 0 && r != -EINVAL && r != -ENOTSUP && r != -ENOMEM))
        abort();
    if (r < 0) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "time zone \"%s\": ", name ? name : "(unnamed)");
        if (strncmp(err, prefix, strlen(prefix)) != 0)
            abort();
        if (memcmp(&tz, &untouched, sizeof tz) != 0)
            abort(); /* written only on success */
        return;
    }
    check_zone(&tz, name);
    exercise_zone(&tz);
    hf_tz_free(&tz);
}

static void fuzz_posix(const uint8_t *data, size_t size)
{
    char *spec = malloc(size + 1);
    if (!spec)
        return;
    memcpy(spec, data, size);
    spec[size] = '\0';
    hf_tz_rule_t rule, untouched;
    memset(&rule, 0x5a, sizeof rule);
    memcpy(&untouched, &rule, sizeof rule);
    int r = tzfile_parse_posix(&rule, spec);
    free(spec);
    if (r != 0 && r != -EINVAL)
        abort();
    if (r) {
        if (memcmp(&rule, &untouched, sizeof rule) != 0)
            abort(); /* written only on success */
        return;
    }
    check_rule(&rule);
    hf_tz_t tz = {.initial_offset_s = rule.std_offset_s, .has_rule = true, .rule = rule};
    exercise_zone(&tz);
    hf_tz_free(&tz);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t selector = data[0];
    if (selector & 1)
        fuzz_posix(data + 1, size - 1);
    else
        fuzz_tzif(data + 1, size - 1, selector & 2 ? NULL : "fuzz");
    return 0;
}

#ifndef HF_FUZZING

/* --- seeds -------------------------------------------------------------------------- */

#define SEED_TZIF 0x00
#define SEED_TZIF_UNNAMED 0x02
#define SEED_POSIX 0x01
#define SEED_MAX_BYTES 8192

static int write_seed(const char *dir, const char *name, uint8_t selector, const void *data,
                      size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fputc(selector, f) == EOF || fwrite(data, 1, len, f) != len || fclose(f)) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Reads zone @name of @zoneinfo into @buf (SEED_MAX_BYTES); returns its length or -1. */
static long read_zone(const char *zoneinfo, const char *name, uint8_t *buf)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", zoneinfo, name);
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, SEED_MAX_BYTES, f) : 0;
    if (!f || ferror(f) || !feof(f) || n < 44) {
        fprintf(stderr, "%s: cannot read a TZif file\n", path);
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    return (long)n;
}

static uint32_t seed_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Bytes of the header and data block at @p, with @time_bytes per timestamp. */
static size_t seed_block_end(const uint8_t *p, unsigned time_bytes)
{
    uint32_t isutcnt = seed_be32(p + 20), isstdcnt = seed_be32(p + 24);
    uint32_t leapcnt = seed_be32(p + 28), timecnt = seed_be32(p + 32);
    uint32_t typecnt = seed_be32(p + 36), charcnt = seed_be32(p + 40);
    return 44 + (size_t)timecnt * (time_bytes + 1) + (size_t)typecnt * 6 + charcnt +
           (size_t)leapcnt * (time_bytes + 4) + isstdcnt + isutcnt;
}

static int write_seeds(const char *dir)
{
    const char *zoneinfo = getenv("TZDIR");
    if (!zoneinfo || !*zoneinfo)
        zoneinfo = "/usr/share/zoneinfo";
    static const struct {
        const char *zone, *seed;
    } zones[] = {
        {"UTC", "utc.tzif"},
        {"America/New_York", "new_york.tzif"},
        {"Europe/Berlin", "berlin.tzif"},
        {"Australia/Sydney", "sydney.tzif"},
        {"Asia/Kolkata", "kolkata.tzif"},
        {"right/UTC", "right_utc_leap.tzif"}, /* leap seconds: refused */
    };
    static uint8_t file[SEED_MAX_BYTES], copy[SEED_MAX_BYTES];
    long len;
    int r = 0;
    for (size_t i = 0; !r && i < sizeof zones / sizeof zones[0]; i++) {
        if ((len = read_zone(zoneinfo, zones[i].zone, file)) < 0)
            return 1;
        r = write_seed(dir, zones[i].seed, SEED_TZIF, file, (size_t)len);
    }
    if (r || (len = read_zone(zoneinfo, "Asia/Kolkata", file)) < 0)
        return 1;
    size_t v1_end = seed_block_end(file, 4), v2_end = v1_end + seed_block_end(file + v1_end, 8);
    size_t v2_times = v1_end + 44, v2_indices = v2_times + 8 * seed_be32(file + v1_end + 32);
    if (v2_end >= (size_t)len) {
        fprintf(stderr, "Asia/Kolkata: not a version 2+ TZif file\n");
        return 1;
    }
    r = write_seed(dir, "kolkata_unnamed.tzif", SEED_TZIF_UNNAMED, file, (size_t)len);
    /* Version 1: the first block alone, no footer. */
    memcpy(copy, file, v1_end);
    copy[4] = 0;
    if (!r)
        r = write_seed(dir, "kolkata_v1.tzif", SEED_TZIF, copy, v1_end);
    /* Cut in the header, in each block, before the footer, in the footer. */
    static const char *const cut_names[] = {"kolkata_cut_header.tzif", "kolkata_cut_v1.tzif",
                                            "kolkata_cut_v2.tzif", "kolkata_no_footer.tzif",
                                            "kolkata_cut_footer.tzif"};
    size_t cuts[] = {30, v1_end / 2, (v1_end + v2_end) / 2, v2_end, (size_t)len - 1};
    for (size_t i = 0; !r && i < sizeof cuts / sizeof cuts[0]; i++)
        r = write_seed(dir, cut_names[i], SEED_TZIF, file, cuts[i]);
    /* One field broken each: version '1', a huge timecnt, a transition to a missing
     * type, two transitions swapped, isdst 2, an abbreviation index past charcnt, a
     * footer that is no TZ string, a NUL in the footer. */
    struct {
        const char *name;
        size_t at;
        uint8_t byte;
    } flips[] = {
        {"kolkata_version_1.tzif", 4, '1'},
        {"kolkata_timecnt_huge.tzif", v1_end + 32, 0x80},
        {"kolkata_bad_type.tzif", v2_indices + 1, 0xff},
        {"kolkata_out_of_order.tzif", v2_times + 8, 0x7f},
        {"kolkata_isdst_2.tzif", v2_indices + 7 + 4, 2},
        {"kolkata_abbr_index.tzif", v2_indices + 7 + 5, 0xf0},
        {"kolkata_bad_footer.tzif", v2_end + 1, '?'},
        {"kolkata_nul_footer.tzif", v2_end + 4, 0},
    };
    for (size_t i = 0; !r && i < sizeof flips / sizeof flips[0]; i++) {
        memcpy(copy, file, (size_t)len);
        copy[flips[i].at] = flips[i].byte;
        r = write_seed(dir, flips[i].name, SEED_TZIF, copy, (size_t)len);
    }

    static const struct {
        const char *seed, *spec;
    } posix[] = {
        {"posix_new_york", "EST5EDT,M3.2.0,M11.1.0"},
        {"posix_berlin", "CET-1CEST,M3.5.0,M10.5.0/3"},
        {"posix_tehran", "<+0330>-3:30"},
        {"posix_jerusalem", "IST-2IDT,M3.4.4/26,M10.5.0"},
        {"posix_greenland", "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1"},
        {"posix_sydney", "AEST-10AEDT,M10.1.0,M4.1.0/3"},
        {"posix_utc", "UTC0"},
        {"posix_default_rules", "EST5EDT"},
        {"posix_dst_offset", "NZST-12:00:00NZDT-13:00:00,M9.5.0,M4.1.0/3"},
        {"posix_julian", "EST5EDT,J60/25,300/-167"},
        {"posix_all_year_dst", "EST5EDT,0/0,J365/25"},
        {"posix_hours_25", "ABC25"},
        {"posix_month_13", "EST5EDT,M13.1.0,M11.1.0"},
        {"posix_time_168", "EST5EDT,M3.2.0/168,M11.1.0"},
        {"posix_short_name", "AB5"},
        {"posix_unclosed", "<+03-3"},
        {"posix_trailing", "EST5EDT,M3.2.0,M11.1.0,"},
        {"posix_garbage", "\xff\x01,M.5.:"},
        {"posix_empty", ""},
    };
    for (size_t i = 0; !r && i < sizeof posix / sizeof posix[0]; i++)
        r = write_seed(dir, posix[i].seed, SEED_POSIX, posix[i].spec, strlen(posix[i].spec));
    return r ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--write-seeds"))
        return write_seeds(argv[2]);
    return fuzz_replay_main("tzfile_fuzz", argc, argv);
}

#endif
