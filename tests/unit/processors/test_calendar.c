/* Business calendars (processors/sla/calendar.c) on hand-built zones: civil dates, the
 * POSIX rule (both hemispheres, Julian days, times past midnight), transition
 * tables, local time to UTC across gaps and overlaps, and working time added,
 * counted and tested across nights, weekends, holidays, lunch breaks and DST
 * changes.  Expected instants are literals, worked out by hand (and checked
 * against python3's zoneinfo); the comment beside each says what it is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "processors/sla/calendar.h"

#define MIN_S 60
#define HOUR_S 3600
#define HOUR_MS (3600 * 1000LL)
#define MIN_MS (60 * 1000LL)
#define DAY_S 86400LL

/* ---- zones, built by hand ---- */

static hf_tz_date_t mwd(int32_t month, int32_t week, int32_t wday, int32_t time_s)
{
    return (hf_tz_date_t){.kind = HF_TZ_DATE_MONTH_WEEK_DAY,
                          .month = month,
                          .week = week,
                          .wday = wday,
                          .time_s = time_s};
}

/* EST5EDT,M3.2.0,M11.1.0 */
static hf_tz_rule_t new_york_rule(void)
{
    return (hf_tz_rule_t){.std_offset_s = -5 * HOUR_S,
                          .has_dst = true,
                          .dst_offset_s = -4 * HOUR_S,
                          .dst_start = mwd(3, 2, 0, 2 * HOUR_S),
                          .dst_end = mwd(11, 1, 0, 2 * HOUR_S)};
}

/* CET-1CEST,M3.5.0,M10.5.0/3 */
static hf_tz_rule_t berlin_rule(void)
{
    return (hf_tz_rule_t){.std_offset_s = HOUR_S,
                          .has_dst = true,
                          .dst_offset_s = 2 * HOUR_S,
                          .dst_start = mwd(3, 5, 0, 2 * HOUR_S),
                          .dst_end = mwd(10, 5, 0, 3 * HOUR_S)};
}

/* AEST-10AEDT,M10.1.0,M4.1.0/3: DST from October to April. */
static hf_tz_rule_t sydney_rule(void)
{
    return (hf_tz_rule_t){.std_offset_s = 10 * HOUR_S,
                          .has_dst = true,
                          .dst_offset_s = 11 * HOUR_S,
                          .dst_start = mwd(10, 1, 0, 2 * HOUR_S),
                          .dst_end = mwd(4, 1, 0, 3 * HOUR_S)};
}

/* A zone that is its POSIX rule at every instant (no transitions). */
static hf_tz_t rule_zone(hf_tz_rule_t rule)
{
    return (hf_tz_t){.initial_offset_s = rule.std_offset_s, .has_rule = true, .rule = rule};
}

/* America/New_York as a table: the two 2026 changes, the rule after them. */
static int64_t ny_2026_at_s[] = {1772953200, /* 2026-03-08T07:00Z = 02:00 EST */
                                 1793512800 /* 2026-11-01T06:00Z = 02:00 EDT */};
static int32_t ny_2026_offset_s[] = {-4 * HOUR_S, -5 * HOUR_S};

static hf_tz_t ny_table_zone(bool has_rule)
{
    return (hf_tz_t){.initial_offset_s = -5 * HOUR_S,
                     .trans_at_s = ny_2026_at_s,
                     .trans_offset_s = ny_2026_offset_s,
                     .trans_count = 2,
                     .has_rule = has_rule,
                     .rule = new_york_rule()};
}

/* ---- calendars ---- */

static hf_day_hours_t span(int32_t open_h, int32_t close_h)
{
    return (hf_day_hours_t){{open_h * HOUR_S}, {close_h * HOUR_S}, 1};
}

/* Monday to Friday, 09:00-17:00 local. */
static hf_calendar_t office(hf_tz_t tz)
{
    hf_calendar_t cal = {.tz = tz};
    for (int wday = 1; wday <= 5; wday++)
        cal.hours[wday] = span(9, 17);
    return cal;
}

/* 2026-01-01, 2026-11-26 (Thanksgiving), 2026-12-25: days since 1970. */
static int32_t us_holidays_2026[] = {20454, 20783, 20812};

/* ---- civil dates ---- */

static void test_civil_days(void **state)
{
    (void)state;
    assert_int_equal(hf_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(hf_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(hf_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(hf_days_from_civil(2024, 2, 29), 19782);
    assert_int_equal(hf_days_from_civil(2026, 3, 8), 20520);
    assert_int_equal(hf_days_from_civil(2026, 11, 26), 20783);
    assert_int_equal(hf_days_from_civil(1600, 2, 29), -135081);
    assert_int_equal(hf_days_from_civil(2400, 12, 31), 157419);
    assert_int_equal(hf_days_from_civil(0, 3, 1), -719468);

    int64_t y;
    int32_t m, d;
    hf_civil_from_days(-135081, &y, &m, &d);
    assert_true(y == 1600 && m == 2 && d == 29);
    hf_civil_from_days(-1, &y, &m, &d);
    assert_true(y == 1969 && m == 12 && d == 31);

    /* Every day of about 4400 years either side of 1970 maps back to itself, and
     * the dates follow each other. */
    int64_t prev_y = 0;
    int32_t prev_m = 0, prev_d = 0;
    for (int64_t days = -1600000; days <= 1600000; days++) {
        hf_civil_from_days(days, &y, &m, &d);
        assert_true(m >= 1 && m <= 12 && d >= 1 && d <= 31);
        if (hf_days_from_civil(y, m, d) != days)
            fail_msg("day %lld", (long long)days);
        if (days > -1600000 && d != 1)
            assert_true(y == prev_y && m == prev_m && d == prev_d + 1);
        prev_y = y;
        prev_m = m;
        prev_d = d;
    }
}

/* ---- the POSIX rule ---- */

static void test_rule_new_york(void **state)
{
    (void)state;
    hf_tz_t tz = rule_zone(new_york_rule());
    assert_int_equal(hf_tz_offset_at(&tz, 1772953199), -5 * HOUR_S); /* 2026-03-08T06:59:59Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1772953200), -4 * HOUR_S); /* 2026-03-08T07:00Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1793512799), -4 * HOUR_S); /* 2026-11-01T05:59:59Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1793512800), -5 * HOUR_S); /* 2026-11-01T06:00Z */
    assert_int_equal(hf_tz_offset_at(&tz, 2372914799), -5 * HOUR_S); /* 2045-03-12T06:59:59Z */
    assert_int_equal(hf_tz_offset_at(&tz, 2372914800), -4 * HOUR_S); /* 2045-03-12T07:00Z */
    assert_int_equal(hf_tz_offset_at(&tz, 2393474399), -4 * HOUR_S); /* 2045-11-05T05:59:59Z */
    assert_int_equal(hf_tz_offset_at(&tz, 2393474400), -5 * HOUR_S); /* 2045-11-05T06:00Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1798761540), -5 * HOUR_S); /* 2026-12-31T23:59Z */
    /* far instants clamp instead of overflowing */
    int32_t far = hf_tz_offset_at(&tz, INT64_MAX);
    assert_true(far == -5 * HOUR_S || far == -4 * HOUR_S);
    far = hf_tz_offset_at(&tz, INT64_MIN);
    assert_true(far == -5 * HOUR_S || far == -4 * HOUR_S);
}

static void test_rule_berlin(void **state)
{
    (void)state;
    hf_tz_t tz = rule_zone(berlin_rule());
    assert_int_equal(hf_tz_offset_at(&tz, 1774745999), HOUR_S);     /* 2026-03-29T00:59:59Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1774746000), 2 * HOUR_S); /* 2026-03-29T01:00Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1792889999), 2 * HOUR_S); /* 2026-10-25T00:59:59Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1792890000), HOUR_S);     /* 2026-10-25T01:00Z */
    assert_int_equal(hf_tz_offset_at(&tz, 2374102800), 2 * HOUR_S); /* 2045-03-26T01:00Z */
    assert_int_equal(hf_tz_offset_at(&tz, 2392851600), HOUR_S);     /* 2045-10-29T01:00Z */
}

static void test_rule_southern(void **state)
{
    (void)state;
    hf_tz_t tz = rule_zone(sydney_rule());
    assert_int_equal(hf_tz_offset_at(&tz, 1767225600), 11 * HOUR_S); /* 2026-01-01T00:00Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1775318399), 11 * HOUR_S); /* 2026-04-04T15:59:59Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1775318400), 10 * HOUR_S); /* 2026-04-04T16:00Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1782864000), 10 * HOUR_S); /* 2026-07-01T00:00Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1791043199), 10 * HOUR_S); /* 2026-10-03T15:59:59Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1791043200), 11 * HOUR_S); /* 2026-10-03T16:00Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1798761540), 11 * HOUR_S); /* 2026-12-31T23:59Z */
    assert_int_equal(hf_tz_offset_at(&tz, 2368051200), 11 * HOUR_S); /* 2045-01-15T00:00Z */
    assert_int_equal(hf_tz_offset_at(&tz, 2383689600), 10 * HOUR_S); /* 2045-07-15T00:00Z */
}

/* Change times past 24:00 and before 00:00. */
static void test_rule_odd_times(void **state)
{
    (void)state;
    /* IST-2IDT,M3.4.4/26,M10.5.0: Thursday 2026-03-26 at 26:00 is Friday 02:00. */
    hf_tz_t israel = rule_zone((hf_tz_rule_t){.std_offset_s = 2 * HOUR_S,
                                              .has_dst = true,
                                              .dst_offset_s = 3 * HOUR_S,
                                              .dst_start = mwd(3, 4, 4, 26 * HOUR_S),
                                              .dst_end = mwd(10, 5, 0, 2 * HOUR_S)});
    assert_int_equal(hf_tz_offset_at(&israel, 1774569599), 2 * HOUR_S); /* 2026-03-26T23:59:59Z */
    assert_int_equal(hf_tz_offset_at(&israel, 1774569600), 3 * HOUR_S); /* 2026-03-27T00:00Z */
    assert_int_equal(hf_tz_offset_at(&israel, 1792882799), 3 * HOUR_S); /* 2026-10-24T22:59:59Z */
    assert_int_equal(hf_tz_offset_at(&israel, 1792882800), 2 * HOUR_S); /* 2026-10-24T23:00Z */

    /* <-03>3<-02>,M3.5.0/-2,M10.5.0/-1: Saturday 22:00 and 23:00 local, 01:00Z Sunday. */
    hf_tz_t nuuk = rule_zone((hf_tz_rule_t){.std_offset_s = -3 * HOUR_S,
                                            .has_dst = true,
                                            .dst_offset_s = -2 * HOUR_S,
                                            .dst_start = mwd(3, 5, 0, -2 * HOUR_S),
                                            .dst_end = mwd(10, 5, 0, -1 * HOUR_S)});
    assert_int_equal(hf_tz_offset_at(&nuuk, 1774745999), -3 * HOUR_S); /* 2026-03-29T00:59:59Z */
    assert_int_equal(hf_tz_offset_at(&nuuk, 1774746000), -2 * HOUR_S); /* 2026-03-29T01:00Z */
    assert_int_equal(hf_tz_offset_at(&nuuk, 1792889999), -2 * HOUR_S); /* 2026-10-25T00:59:59Z */
    assert_int_equal(hf_tz_offset_at(&nuuk, 1792890000), -3 * HOUR_S); /* 2026-10-25T01:00Z */
}

static void test_rule_julian(void **state)
{
    (void)state;
    /* XXX0YYY,J60/0,300/0: from March 1 (J60, February 29 never counted) to day 300
     * counted from 0 with February 29 (October 27 in 2024, October 28 in 2025). */
    hf_tz_t tz = rule_zone((hf_tz_rule_t){
        .has_dst = true,
        .dst_offset_s = HOUR_S,
        .dst_start = {.kind = HF_TZ_DATE_JULIAN_NOLEAP, .day = 60},
        .dst_end = {.kind = HF_TZ_DATE_JULIAN, .day = 300},
    });
    assert_int_equal(hf_tz_offset_at(&tz, 1709251199), 0);      /* 2024-02-29T23:59:59Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1709251200), HOUR_S); /* 2024-03-01T00:00Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1729983599), HOUR_S); /* 2024-10-26T22:59:59Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1729983600), 0);      /* 2024-10-26T23:00Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1740787199), 0);      /* 2025-02-28T23:59:59Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1740787200), HOUR_S); /* 2025-03-01T00:00Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1761605999), HOUR_S); /* 2025-10-27T22:59:59Z */
    assert_int_equal(hf_tz_offset_at(&tz, 1761606000), 0);      /* 2025-10-27T23:00Z */

    /* EST5EDT,0/0,J365/25: daylight time all year, each end meeting the next start. */
    hf_tz_t always_dst = rule_zone((hf_tz_rule_t){
        .std_offset_s = -5 * HOUR_S,
        .has_dst = true,
        .dst_offset_s = -4 * HOUR_S,
        .dst_start = {.kind = HF_TZ_DATE_JULIAN, .day = 0, .time_s = 0},
        .dst_end = {.kind = HF_TZ_DATE_JULIAN_NOLEAP, .day = 365, .time_s = 25 * HOUR_S},
    });
    static const int64_t instants_s[] = {
        1782864000, /* 2026-07-01T00:00Z */
        1798761540, /* 2026-12-31T23:59Z */
        1798779599, /* 2027-01-01T04:59:59Z */
        1798779600, /* 2027-01-01T05:00Z, the end of 2026 and start of 2027 */
        1798779601, /* 2027-01-01T05:00:01Z */
    };
    for (size_t i = 0; i < sizeof instants_s / sizeof instants_s[0]; i++)
        assert_int_equal(hf_tz_offset_at(&always_dst, instants_s[i]), -4 * HOUR_S);

    /* No DST: the standard offset. */
    hf_tz_t kolkata = rule_zone((hf_tz_rule_t){.std_offset_s = 5 * HOUR_S + 30 * MIN_S});
    assert_int_equal(hf_tz_offset_at(&kolkata, 1782864000), 19800);
}

/* ---- transition tables ---- */

static void test_transitions(void **state)
{
    (void)state;
    hf_tz_t with_rule = ny_table_zone(true), without = ny_table_zone(false);
    /* before the first: the initial offset, even in summer */
    assert_int_equal(hf_tz_offset_at(&with_rule, 1751371200), -5 * HOUR_S); /* 2025-07-01T12Z */
    assert_int_equal(hf_tz_offset_at(&with_rule, 1772953199), -5 * HOUR_S);
    assert_int_equal(hf_tz_offset_at(&with_rule, 1772953200), -4 * HOUR_S);
    assert_int_equal(hf_tz_offset_at(&with_rule, 1793512799), -4 * HOUR_S);
    assert_int_equal(hf_tz_offset_at(&with_rule, 1793512800), -5 * HOUR_S);
    /* after the last: the rule, or the last offset when there is none */
    assert_int_equal(hf_tz_offset_at(&with_rule, 1814529600), -4 * HOUR_S); /* 2027-07-01T12Z */
    assert_int_equal(hf_tz_offset_at(&without, 1814529600), -5 * HOUR_S);

    /* A long table: every transition found by the binary search, at its instant and
     * the second before. */
    enum { N = 1001 };
    int64_t *at_s = malloc(N * sizeof *at_s);
    int32_t *offset_s = malloc(N * sizeof *offset_s);
    assert_non_null(at_s);
    assert_non_null(offset_s);
    for (int i = 0; i < N; i++) {
        at_s[i] = -1000000000LL + i * 1000003LL;
        offset_s[i] = (i % 7) * 900 - 3600;
    }
    hf_tz_t long_table = {.name = strdup("long"),
                          .initial_offset_s = 12345,
                          .trans_at_s = at_s,
                          .trans_offset_s = offset_s,
                          .trans_count = N};
    assert_int_equal(hf_tz_offset_at(&long_table, at_s[0] - 1), 12345);
    for (int i = 0; i < N; i++) {
        assert_int_equal(hf_tz_offset_at(&long_table, at_s[i]), offset_s[i]);
        assert_int_equal(hf_tz_offset_at(&long_table, at_s[i] + 1000002), offset_s[i]);
    }
    assert_int_equal(hf_tz_offset_at(&long_table, INT64_MAX), offset_s[N - 1]);
    hf_tz_free(&long_table);
    assert_null(long_table.name);
    assert_null(long_table.trans_at_s);
    assert_null(long_table.trans_offset_s);
    assert_int_equal(long_table.trans_count, 0);
    hf_tz_free(&long_table); /* twice is harmless */
    hf_tz_free(NULL);
}

/* ---- local time to UTC ---- */

/* Local wall time @hh:@mm on local date @days, in local seconds. */
static int64_t local_s(int64_t days, int hh, int mm)
{
    return days * DAY_S + hh * HOUR_S + mm * MIN_S;
}

static void test_local_to_utc(void **state)
{
    (void)state;
    hf_tz_t tables[] = {rule_zone(new_york_rule()), ny_table_zone(true)};
    for (size_t i = 0; i < 2; i++) {
        const hf_tz_t *ny = &tables[i];
        const int64_t mar8 = 20520, nov1 = 20758, jul1 = 20635; /* 2026 */
        /* 12:00 EDT = 16:00Z */
        assert_int_equal(hf_tz_local_to_utc(ny, local_s(jul1, 12, 0)), 1782921600);
        /* 01:59 EST = 06:59Z, the last minute before the gap */
        assert_int_equal(hf_tz_local_to_utc(ny, local_s(mar8, 1, 59)), 1772953140);
        /* 02:00 does not exist: read as EST, 07:00Z = 03:00 EDT */
        assert_int_equal(hf_tz_local_to_utc(ny, local_s(mar8, 2, 0)), 1772953200);
        /* 02:30 does not exist: 07:30Z = 03:30 EDT */
        assert_int_equal(hf_tz_local_to_utc(ny, local_s(mar8, 2, 30)), 1772955000);
        /* 03:00 EDT = 07:00Z */
        assert_int_equal(hf_tz_local_to_utc(ny, local_s(mar8, 3, 0)), 1772953200);
        /* 00:59 EDT = 04:59Z, before the repeated hour */
        assert_int_equal(hf_tz_local_to_utc(ny, local_s(nov1, 0, 59)), 1793509140);
        /* 01:00 and 01:30 happen twice: the first, EDT: 05:00Z and 05:30Z */
        assert_int_equal(hf_tz_local_to_utc(ny, local_s(nov1, 1, 0)), 1793509200);
        assert_int_equal(hf_tz_local_to_utc(ny, local_s(nov1, 1, 30)), 1793511000);
        /* 02:00 EST = 07:00Z */
        assert_int_equal(hf_tz_local_to_utc(ny, local_s(nov1, 2, 0)), 1793516400);
    }

    hf_tz_t berlin = rule_zone(berlin_rule());
    /* 2026-03-29 02:30 does not exist: read as CET, 01:30Z = 03:30 CEST */
    assert_int_equal(hf_tz_local_to_utc(&berlin, local_s(20541, 2, 30)), 1774747800);
    /* 2026-10-25 02:30 happens twice: the first, CEST, 00:30Z */
    assert_int_equal(hf_tz_local_to_utc(&berlin, local_s(20751, 2, 30)), 1792888200);

    hf_tz_t sydney = rule_zone(sydney_rule());
    /* 2026-10-04 02:30 does not exist: read as AEST, 2026-10-03T16:30Z */
    assert_int_equal(hf_tz_local_to_utc(&sydney, local_s(20730, 2, 30)), 1791045000);
    /* 2026-04-05 02:30 happens twice: the first, AEDT, 2026-04-04T15:30Z */
    assert_int_equal(hf_tz_local_to_utc(&sydney, local_s(20548, 2, 30)), 1775316600);

    /* Every instant of 2026 in 10-minute steps comes back from its local time, except
     * the second of a repeated pair (which reads as the first). */
    hf_tz_t ny = rule_zone(new_york_rule());
    for (int64_t t = 1767225600; t < 1798761600; t += 600) {
        int32_t off = hf_tz_offset_at(&ny, t);
        int64_t back = hf_tz_local_to_utc(&ny, t + off);
        if (t >= 1793512800 && t < 1793516400) /* 01:00-02:00 EST on 2026-11-01 */
            assert_int_equal(back, t - HOUR_S);
        else
            assert_int_equal(back, t);
    }
    /* extremes clamp without overflow */
    (void)hf_tz_local_to_utc(&ny, INT64_MAX);
    (void)hf_tz_local_to_utc(&ny, INT64_MIN);
}

/* ---- business time ---- */

static void test_add_new_york(void **state)
{
    (void)state;
    hf_calendar_t cal = office(rule_zone(new_york_rule()));
    cal.holidays = us_holidays_2026;
    cal.holiday_count = 3;

    /* Friday 2026-03-06 16:00 EST (21:00Z) + 2 h: 1 h on Friday, the spring-forward
     * weekend, then Monday 2026-03-09 10:00 EDT = 14:00Z. */
    assert_int_equal(hf_calendar_add(&cal, 1772830800000, 2 * HOUR_MS), 1773064800000);
    /* Tuesday 2026-03-10 17:00 EDT (21:00Z) + 1 h: Wednesday 10:00 EDT = 14:00Z */
    assert_int_equal(hf_calendar_add(&cal, 1773176400000, HOUR_MS), 1773237600000);
    /* Tuesday 16:00 EDT (20:00Z) + 1 h ends at closing, 17:00 EDT = 21:00Z */
    assert_int_equal(hf_calendar_add(&cal, 1773172800000, HOUR_MS), 1773176400000);
    /* Saturday 2026-03-07 10:00 EST (15:00Z) + 1 h: Monday 10:00 EDT = 14:00Z */
    assert_int_equal(hf_calendar_add(&cal, 1772895600000, HOUR_MS), 1773064800000);
    /* Friday 2026-10-30 16:00 EDT (20:00Z) + 2 h across the fall-back weekend:
     * Monday 2026-11-02 10:00 EST = 15:00Z */
    assert_int_equal(hf_calendar_add(&cal, 1793390400000, 2 * HOUR_MS), 1793631600000);
    /* Wednesday 2026-11-25 16:00 EST (21:00Z) + 2 h, Thanksgiving skipped: Friday
     * 2026-11-27 10:00 EST = 15:00Z */
    assert_int_equal(hf_calendar_add(&cal, 1795640400000, 2 * HOUR_MS), 1795791600000);
    /* a week of work from Monday 09:00 EDT (13:00Z): Friday 17:00 EDT (21:00Z) */
    assert_int_equal(hf_calendar_add(&cal, 1773061200000, 40 * HOUR_MS), 1773435600000);
    /* one millisecond more: next Monday 09:00:00.001 EDT (2026-03-16T13:00Z) */
    assert_int_equal(hf_calendar_add(&cal, 1773061200000, 40 * HOUR_MS + 1), 1773666000001);

    /* nothing to add */
    assert_int_equal(hf_calendar_add(&cal, 1772830800000, 0), 1772830800000);
    assert_int_equal(hf_calendar_add(&cal, 1772830800000, -5), 1772830800000);
}

static void test_add_berlin(void **state)
{
    (void)state;
    hf_calendar_t cal = office(rule_zone(berlin_rule()));
    /* Friday 2026-03-27 16:00 CET (15:00Z) + 2 h: Monday 2026-03-30 10:00 CEST = 08:00Z */
    assert_int_equal(hf_calendar_add(&cal, 1774623600000, 2 * HOUR_MS), 1774857600000);
    /* Friday 2026-10-23 16:00 CEST (14:00Z) + 2 h: Monday 2026-10-26 10:00 CET = 09:00Z */
    assert_int_equal(hf_calendar_add(&cal, 1792764000000, 2 * HOUR_MS), 1793005200000);
    assert_int_equal(hf_calendar_between(&cal, 1774623600000, 1774857600000), 2 * HOUR_MS);
    assert_int_equal(hf_calendar_between(&cal, 1792764000000, 1793005200000), 2 * HOUR_MS);
}

static void test_lunch_break(void **state)
{
    (void)state;
    hf_calendar_t cal = {.tz = rule_zone(new_york_rule())};
    for (int wday = 1; wday <= 5; wday++)
        cal.hours[wday] =
            (hf_day_hours_t){{9 * HOUR_S, 13 * HOUR_S}, {12 * HOUR_S, 17 * HOUR_S}, 2};

    /* Monday 2026-03-09 11:00 EDT (15:00Z) + 2 h: 11-12, 13-14: 14:00 EDT = 18:00Z */
    assert_int_equal(hf_calendar_add(&cal, 1773068400000, 2 * HOUR_MS), 1773079200000);
    /* 12:30 EDT (16:30Z), at lunch + 1 h: 14:00 EDT */
    assert_int_equal(hf_calendar_add(&cal, 1773073800000, HOUR_MS), 1773079200000);
    /* + 1 h from 11:00 ends at 12:00, not 13:00 */
    assert_int_equal(hf_calendar_add(&cal, 1773068400000, HOUR_MS), 1773072000000);
    /* 11:00-17:00 EDT holds 5 h of work */
    assert_int_equal(hf_calendar_between(&cal, 1773068400000, 1773090000000), 5 * HOUR_MS);
    assert_false(hf_calendar_is_open(&cal, 1773073800000)); /* 12:30 */
    assert_true(hf_calendar_is_open(&cal, 1773075600000));  /* 13:00 */
    assert_false(hf_calendar_is_open(&cal, 1773075600000 - 1));
}

/* A span on a DST-change day is as long as it really is. */
static void test_dst_day_lengths(void **state)
{
    (void)state;
    hf_calendar_t sundays = {.tz = rule_zone(new_york_rule())};
    sundays.hours[0] = span(0, 24);
    /* 2026-03-08 00:00 EST (05:00Z) to 2026-03-09 00:00 EDT (04:00Z): 23 h */
    assert_int_equal(hf_calendar_between(&sundays, 1772946000000, 1773028800000), 23 * HOUR_MS);
    assert_int_equal(hf_calendar_add(&sundays, 1772946000000, 23 * HOUR_MS), 1773028800000);
    /* 2026-11-01 00:00 EDT (04:00Z) to 2026-11-02 00:00 EST (05:00Z): 25 h */
    assert_int_equal(hf_calendar_between(&sundays, 1793505600000, 1793595600000), 25 * HOUR_MS);
    assert_int_equal(hf_calendar_add(&sundays, 1793505600000, 25 * HOUR_MS), 1793595600000);

    /* 01:00-04:00 across the change: 01:00 EST (06:00Z) to 04:00 EDT (08:00Z) is 2 h;
     * 01:00 EDT (05:00Z) to 04:00 EST (09:00Z) is 4 h. */
    sundays.hours[0] = span(1, 4);
    assert_int_equal(hf_calendar_add(&sundays, 1772946000000, 2 * HOUR_MS), 1772956800000);
    assert_int_equal(hf_calendar_between(&sundays, 1772946000000, 1773028800000), 2 * HOUR_MS);
    assert_int_equal(hf_calendar_add(&sundays, 1793505600000, 4 * HOUR_MS), 1793523600000);
    assert_int_equal(hf_calendar_between(&sundays, 1793505600000, 1793595600000), 4 * HOUR_MS);

    /* A span inside the gap (02:10-02:50 does not exist on 2026-03-08) is read an hour
     * later, 03:10-03:50 EDT, and keeps its 40 minutes. */
    sundays.hours[0] = (hf_day_hours_t){{2 * HOUR_S + 10 * MIN_S}, {2 * HOUR_S + 50 * MIN_S}, 1};
    /* 03:10 EDT = 07:10Z */
    assert_int_equal(hf_calendar_add(&sundays, 1772946000000, 1), 1772953800001);
    /* 2026-03-08 00:00 EST (05:00Z) to 2026-03-09 00:00 EDT (04:00Z) */
    assert_int_equal(hf_calendar_between(&sundays, 1772946000000, 1773028800000), 40 * MIN_MS);
}

static void test_is_open(void **state)
{
    (void)state;
    hf_calendar_t cal = office(rule_zone(new_york_rule()));
    cal.holidays = us_holidays_2026;
    cal.holiday_count = 3;
    assert_true(hf_calendar_is_open(&cal, 1773061200000));      /* Mon 2026-03-09 09:00 EDT */
    assert_false(hf_calendar_is_open(&cal, 1773061200000 - 1)); /* 08:59:59.999 */
    assert_true(hf_calendar_is_open(&cal, 1773090000000 - 1));  /* 16:59:59.999 */
    assert_false(hf_calendar_is_open(&cal, 1773090000000));     /* 17:00 */
    assert_false(hf_calendar_is_open(&cal, 1772895600000));     /* Sat 2026-03-07 10:00 EST */
    assert_false(hf_calendar_is_open(&cal, 1795705200000));     /* Thanksgiving 10:00 EST */
    assert_true(hf_calendar_is_open(&cal, 1795791600000));      /* the Friday after */
}

/* between(a, add(a, d)) == d, the deadline's last millisecond is working time, and
 * deadlines grow with d: from every 37 minutes of four weeks around each 2026 change,
 * on a calendar with a lunch break and a holiday. */
static void check_consistency(const hf_calendar_t *cal, int64_t from_ms, int64_t to_ms)
{
    static const int64_t amounts_ms[] = {
        1,           MIN_MS,       59 * MIN_MS,  HOUR_MS,      3 * HOUR_MS + 7,
        8 * HOUR_MS, 21 * HOUR_MS, 40 * HOUR_MS, 100 * HOUR_MS};
    for (int64_t a = from_ms; a < to_ms; a += 37 * MIN_MS) {
        int64_t prev = a;
        for (size_t i = 0; i < sizeof amounts_ms / sizeof amounts_ms[0]; i++) {
            int64_t deadline = hf_calendar_add(cal, a, amounts_ms[i]);
            assert_true(deadline > prev);
            assert_true(hf_calendar_is_open(cal, deadline - 1));
            if (hf_calendar_between(cal, a, deadline) != amounts_ms[i])
                fail_msg("a=%lld d=%lld", (long long)a, (long long)amounts_ms[i]);
            prev = deadline;
        }
    }
}

static void test_between_matches_add(void **state)
{
    (void)state;
    hf_calendar_t cal = {.tz = rule_zone(new_york_rule())};
    for (int wday = 1; wday <= 5; wday++)
        cal.hours[wday] =
            (hf_day_hours_t){{9 * HOUR_S, 13 * HOUR_S}, {12 * HOUR_S, 17 * HOUR_S}, 2};
    cal.hours[0] = span(1, 4); /* Sundays across the changes */
    cal.holidays = us_holidays_2026;
    cal.holiday_count = 3;
    check_consistency(&cal, 1771977600000, 1771977600000 + 28 * DAY_S * 1000); /* from 2026-02-25 */
    check_consistency(&cal, 1792540800000, 1792540800000 + 40 * DAY_S * 1000); /* from 2026-10-21 */

    hf_calendar_t berlin = office(rule_zone(berlin_rule()));
    check_consistency(&berlin, 1774051200000, 1774051200000 + 14 * DAY_S * 1000); /* 2026-03-21 */

    /* and the other way round: add(a, between(a, b)) never passes b */
    for (int64_t a = 1772830800000; a < 1773435600000; a += 53 * MIN_MS)
        for (int64_t b = a; b < a + 5 * DAY_S * 1000; b += 7 * HOUR_MS + 11)
            assert_true(hf_calendar_add(&cal, a, hf_calendar_between(&cal, a, b)) <= b);
    assert_int_equal(hf_calendar_between(&cal, 1773068400000, 1773068400000), 0);
    assert_int_equal(hf_calendar_between(&cal, 1773068400000, 1773061200000), 0);
}

static void test_always(void **state)
{
    (void)state;
    hf_calendar_t always = {.always = true};
    const hf_calendar_t *cals[] = {&always, NULL};
    for (size_t i = 0; i < 2; i++) {
        const hf_calendar_t *cal = cals[i];
        /* Saturday 2026-03-07 15:00Z + 2 h: wall time */
        assert_int_equal(hf_calendar_add(cal, 1772895600000, 2 * HOUR_MS), 1772902800000);
        assert_int_equal(hf_calendar_between(cal, 1772895600000, 1772902800000), 2 * HOUR_MS);
        assert_true(hf_calendar_is_open(cal, 1772895600000));
        assert_int_equal(hf_calendar_add(cal, INT64_MAX - 5, 10), INT64_MAX);
        assert_int_equal(hf_calendar_between(cal, INT64_MIN, INT64_MAX), INT64_MAX);
        assert_int_equal(hf_calendar_between(cal, 5, 3), 0);
    }
}

static void test_no_working_time(void **state)
{
    (void)state;
    hf_calendar_t closed = {.tz = rule_zone(new_york_rule())};
    assert_int_equal(hf_calendar_add(&closed, 1772830800000, 1), INT64_MAX);
    assert_int_equal(hf_calendar_between(&closed, 1772830800000, 1798761600000), 0);
    assert_false(hf_calendar_is_open(&closed, 1772830800000));

    /* More work than HF_CALENDAR_MAX_DAYS days hold (about 21000 office hours). */
    hf_calendar_t cal = office(rule_zone(new_york_rule()));
    assert_int_equal(hf_calendar_add(&cal, 1772830800000, 30000 * HOUR_MS), INT64_MAX);
    int64_t far = hf_calendar_add(&cal, 1772830800000, 20000 * HOUR_MS);
    assert_true(far < INT64_MAX);
    assert_int_equal(hf_calendar_between(&cal, 1772830800000, far), 20000 * HOUR_MS);

    /* Holidays on every Monday..Friday of the look-ahead: nothing. */
    hf_calendar_t mondays = {.tz = rule_zone(new_york_rule())};
    mondays.hours[1] = span(9, 17);
    int32_t *holidays = malloc((HF_CALENDAR_MAX_DAYS / 7 + 4) * sizeof *holidays);
    assert_non_null(holidays);
    size_t n = 0;
    for (int32_t day = 20514; day < 20514 + HF_CALENDAR_MAX_DAYS + 14; day += 7)
        holidays[n++] = day; /* Mondays from 2026-03-02 */
    mondays.holidays = holidays;
    mondays.holiday_count = n;
    assert_int_equal(hf_calendar_add(&mondays, 1772830800000, 1), INT64_MAX);
    free(holidays);
}

/* Instants at the ends of int64 neither overflow nor crash. */
static void test_extremes(void **state)
{
    (void)state;
    hf_calendar_t cal = office(rule_zone(new_york_rule()));
    assert_int_equal(hf_calendar_add(&cal, INT64_MAX - 1, HOUR_MS), INT64_MAX);
    assert_int_equal(hf_calendar_add(&cal, INT64_MAX, INT64_MAX), INT64_MAX);
    assert_int_equal(hf_calendar_add(&cal, 1772830800000, INT64_MAX), INT64_MAX);
    int64_t early = hf_calendar_add(&cal, INT64_MIN, HOUR_MS);
    assert_true(early > INT64_MIN);
    assert_true(hf_calendar_between(&cal, INT64_MIN, INT64_MAX) >= 0);
    (void)hf_calendar_is_open(&cal, INT64_MIN);
    (void)hf_calendar_is_open(&cal, INT64_MAX);
}

static void test_free_resets(void **state)
{
    (void)state;
    hf_calendar_t cal = office(rule_zone(new_york_rule()));
    cal.name = strdup("us-office");
    cal.tz.name = strdup("America/New_York");
    cal.tz.trans_at_s = malloc(sizeof *cal.tz.trans_at_s);
    cal.tz.trans_offset_s = malloc(sizeof *cal.tz.trans_offset_s);
    cal.holidays = malloc(sizeof *cal.holidays);
    assert_true(cal.name && cal.tz.name && cal.tz.trans_at_s && cal.tz.trans_offset_s &&
                cal.holidays);
    cal.tz.trans_count = 1;
    cal.holiday_count = 1;
    hf_calendar_free(&cal);
    assert_null(cal.name);
    assert_null(cal.tz.name);
    assert_null(cal.tz.trans_at_s);
    assert_null(cal.holidays);
    assert_int_equal(cal.holiday_count, 0);
    assert_int_equal(cal.tz.trans_count, 0);
    hf_calendar_free(&cal);
    hf_calendar_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_civil_days),     cmocka_unit_test(test_rule_new_york),
        cmocka_unit_test(test_rule_berlin),    cmocka_unit_test(test_rule_southern),
        cmocka_unit_test(test_rule_odd_times), cmocka_unit_test(test_rule_julian),
        cmocka_unit_test(test_transitions),    cmocka_unit_test(test_local_to_utc),
        cmocka_unit_test(test_add_new_york),   cmocka_unit_test(test_add_berlin),
        cmocka_unit_test(test_lunch_break),    cmocka_unit_test(test_dst_day_lengths),
        cmocka_unit_test(test_is_open),        cmocka_unit_test(test_between_matches_add),
        cmocka_unit_test(test_always),         cmocka_unit_test(test_no_working_time),
        cmocka_unit_test(test_extremes),       cmocka_unit_test(test_free_resets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
