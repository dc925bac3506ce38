/* Business calendars: UTC offsets from a zone's transitions and POSIX rule, local
 * wall time back to UTC, and working time added to or counted between instants.
 * Pure arithmetic (see calendar.h): the zone comes compiled, nothing here reads
 * the clock, the environment or libc's time-zone state. */
#include "calendar.h"

#include <assert.h>
#include <stdlib.h>

#include "util/timespan.h"

#define DAY_S 86400
#define HOUR_S 3600

/* RFC 8536 bounds a zone's offset to -24:59:59 .. +25:59:59, so every UTC instant a
 * local time can name lies within this many seconds of it. */
#define OFFSET_REACH_S (27 * HOUR_S)

/* Instants are clamped to about a billion years either side of 1970 before any
 * calendar arithmetic, so that no intermediate sum can overflow.  Milliseconds
 * divided by 1000 stay well inside. */
#define TZ_LIMIT_S ((int64_t)1 << 55)

/* 1970-01-01 was a Thursday. */
#define EPOCH_WDAY 4

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
    return a - floor_div(a, b) * b;
}

static int64_t clamp_s(int64_t t_s)
{
    return t_s < -TZ_LIMIT_S ? -TZ_LIMIT_S : t_s > TZ_LIMIT_S ? TZ_LIMIT_S : t_s;
}

/* @t_s in ms, saturated to the range of int64. */
static int64_t s_to_ms_sat(int64_t t_s)
{
    if (t_s > INT64_MAX / 1000)
        return INT64_MAX;
    if (t_s < INT64_MIN / 1000)
        return INT64_MIN;
    return t_s * 1000;
}

static bool is_leap_year(int64_t y)
{
    return floor_mod(y, 4) == 0 && (floor_mod(y, 100) != 0 || floor_mod(y, 400) == 0);
}

static int32_t days_in_month(int64_t y, int32_t m)
{
    static const int32_t days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap_year(y) ? 29 : days[m - 1];
}

/* 0 = Sunday. */
static int32_t weekday_of(int64_t days)
{
    return (int32_t)floor_mod(days + EPOCH_WDAY, 7);
}

/* ---- the POSIX rule ---- */

/* The local date (days since 1970) on which @date falls in year @y. */
static int64_t rule_day(const hf_tz_date_t *date, int64_t y)
{
    switch (date->kind) {
    case HF_TZ_DATE_JULIAN_NOLEAP:
        assert(date->day >= 1 && date->day <= 365);
        /* J60 is March 1 in every year: February 29 is never counted. */
        return hf_days_from_civil(y, 1, 1) + date->day - 1 + (is_leap_year(y) && date->day >= 60);
    case HF_TZ_DATE_JULIAN:
        assert(date->day >= 0 && date->day <= 365);
        return hf_days_from_civil(y, 1, 1) + date->day;
    case HF_TZ_DATE_MONTH_WEEK_DAY:
    default:
        break;
    }
    assert(date->month >= 1 && date->month <= 12);
    assert(date->week >= 1 && date->week <= 5 && date->wday >= 0 && date->wday <= 6);
    int64_t first = hf_days_from_civil(y, date->month, 1);
    int64_t day = first + floor_mod(date->wday - weekday_of(first), 7) + 7 * (date->week - 1);
    /* Week 5 means the last such weekday, which may be the fourth. */
    while (day >= first + days_in_month(y, date->month))
        day -= 7;
    return day;
}

/* The UTC instant of the change at @date in year @y, its time of day read in the
 * local time in effect before the change (@offset_before_s). */
static int64_t rule_change_s(const hf_tz_date_t *date, int64_t y, int32_t offset_before_s)
{
    return rule_day(date, y) * DAY_S + date->time_s - offset_before_s;
}

/* The rule's offset at @utc_s.  The changes of the years around @utc_s are walked
 * in order and the latest at or before it wins, so southern-hemisphere rules (DST
 * across New Year), times past 24 h and all-year DST ("EST5EDT,0/0,J365/25", whose
 * end meets the next start) need no special case. */
static int32_t rule_offset(const hf_tz_rule_t *rule, int64_t utc_s)
{
    if (!rule->has_dst)
        return rule->std_offset_s;
    int64_t t = clamp_s(utc_s), year;
    int32_t month, mday, offset = rule->std_offset_s;
    hf_civil_from_days(floor_div(t + rule->std_offset_s, DAY_S), &year, &month, &mday);

    int64_t latest = INT64_MIN;
    for (int64_t y = year - 2; y <= year + 1; y++) {
        int64_t start = rule_change_s(&rule->dst_start, y, rule->std_offset_s);
        int64_t end = rule_change_s(&rule->dst_end, y, rule->dst_offset_s);
        int64_t at[2] = {start, end};
        int32_t to[2] = {rule->dst_offset_s, rule->std_offset_s};
        bool end_first = end < start; /* southern hemisphere */
        for (int k = 0; k < 2; k++) {
            int i = end_first ? 1 - k : k;
            if (at[i] <= t && at[i] >= latest) {
                latest = at[i];
                offset = to[i];
            }
        }
    }
    return offset;
}

/* ---- zones ---- */

int32_t hf_tz_offset_at(const hf_tz_t *tz, int64_t utc_s)
{
    size_t n = tz->trans_count;
    if (n == 0)
        return tz->has_rule ? rule_offset(&tz->rule, utc_s) : tz->initial_offset_s;
    if (utc_s < tz->trans_at_s[0])
        return tz->initial_offset_s;
    if (utc_s > tz->trans_at_s[n - 1] && tz->has_rule)
        return rule_offset(&tz->rule, utc_s);

    /* The last transition at or before @utc_s: trans_at_s[lo] <= utc_s < trans_at_s[hi]. */
    size_t lo = 0, hi = n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->trans_at_s[mid] <= utc_s)
            lo = mid;
        else
            hi = mid;
    }
    return tz->trans_offset_s[lo];
}

/* A change of offset near @local_s shows in the offsets a little more than the
 * largest offset either side of it.  Each offset gives a candidate instant that is
 * right when the offset is in effect there: both right is an overlap (the first,
 * with the larger offset, wins), neither is a gap (read with the offset before). */
int64_t hf_tz_local_to_utc(const hf_tz_t *tz, int64_t local_s)
{
    int64_t local = clamp_s(local_s);
    int32_t before_s = hf_tz_offset_at(tz, local - OFFSET_REACH_S);
    int32_t after_s = hf_tz_offset_at(tz, local + OFFSET_REACH_S);
    int64_t utc_before = local - before_s, utc_after = local - after_s;
    bool before_holds = hf_tz_offset_at(tz, utc_before) == before_s;
    bool after_holds = hf_tz_offset_at(tz, utc_after) == after_s;

    if (before_holds && after_holds)
        return utc_before < utc_after ? utc_before : utc_after;
    return after_holds ? utc_after : utc_before;
}

void hf_tz_free(hf_tz_t *tz)
{
    if (!tz)
        return;
    free(tz->name);
    free(tz->trans_at_s);
    free(tz->trans_offset_s);
    *tz = (hf_tz_t){0};
}

/* ---- working spans ---- */

static bool is_holiday(const hf_calendar_t *cal, int64_t day)
{
    size_t lo = 0, hi = cal->holiday_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cal->holidays[mid] < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < cal->holiday_count && cal->holidays[lo] == day;
}

/* The local date of @utc_ms in the calendar's zone. */
static int64_t local_day_of(const hf_tz_t *tz, int64_t utc_ms)
{
    int64_t utc_s = clamp_s(floor_div(utc_ms, 1000));
    return floor_div(utc_s + hf_tz_offset_at(tz, utc_s), DAY_S);
}

/* A walk over the working spans of a calendar, in UTC and in order.  The cursor
 * clips each span to start no earlier than the walk's start and the previous
 * span's end, so the spans never overlap even where a DST change folds local
 * time; hf_calendar_add, _between and _is_open all walk the same spans, which
 * keeps them consistent with each other. */
typedef struct span_walk {
    const hf_calendar_t *cal;
    int64_t day;       /* local date being walked, days since 1970 */
    int64_t last_day;  /* the walk ends after this date */
    uint32_t span;     /* next span of @day */
    int64_t cursor_ms; /* no span yielded starts before this */
} span_walk_t;

/* Starts a walk at @from_ms over @days local dates after the one of @from_ms. */
static span_walk_t span_walk_start(const hf_calendar_t *cal, int64_t from_ms, int64_t days)
{
    int64_t day = local_day_of(&cal->tz, from_ms);
    /* The day before too: its spans may still run at @from_ms after a DST change. */
    return (span_walk_t){cal, day - 1, day + days, 0, from_ms};
}

/* The next working span [*start_ms, *end_ms); false when the walk is over. */
static bool span_walk_next(span_walk_t *w, int64_t *start_ms, int64_t *end_ms)
{
    const hf_calendar_t *cal = w->cal;
    while (w->day <= w->last_day) {
        const hf_day_hours_t *hours = &cal->hours[weekday_of(w->day)];
        assert(hours->span_count <= HF_CALENDAR_SPANS);
        if (w->span >= hours->span_count || (w->span == 0 && is_holiday(cal, w->day))) {
            w->day++;
            w->span = 0;
            continue;
        }
        uint32_t i = w->span++;
        int64_t midnight_s = w->day * DAY_S;
        int64_t start = s_to_ms_sat(hf_tz_local_to_utc(&cal->tz, midnight_s + hours->open_s[i]));
        int64_t end = s_to_ms_sat(hf_tz_local_to_utc(&cal->tz, midnight_s + hours->close_s[i]));
        if (start < w->cursor_ms)
            start = w->cursor_ms;
        if (end <= start)
            continue; /* before the walk, or folded away by a DST change */
        w->cursor_ms = end;
        *start_ms = start;
        *end_ms = end;
        return true;
    }
    return false;
}

/* ---- business time ---- */

int64_t hf_calendar_add(const hf_calendar_t *cal, int64_t from_ms, int64_t business_ms)
{
    if (business_ms <= 0)
        return from_ms;
    if (!cal || cal->always)
        return timespan_add_sat(from_ms, business_ms);

    span_walk_t walk = span_walk_start(cal, from_ms, HF_CALENDAR_MAX_DAYS);
    int64_t left_ms = business_ms, start, end;
    while (span_walk_next(&walk, &start, &end)) {
        uint64_t span_ms = timespan_ms(end, start);
        if ((uint64_t)left_ms <= span_ms)
            return start + left_ms; /* <= end: cannot overflow */
        left_ms -= (int64_t)span_ms;
    }
    return INT64_MAX;
}

/* Counted over the same HF_CALENDAR_MAX_DAYS days as hf_calendar_add, so that
 * between(a, add(a, d)) == d whenever the deadline is finite. */
int64_t hf_calendar_between(const hf_calendar_t *cal, int64_t a_ms, int64_t b_ms)
{
    if (b_ms <= a_ms)
        return 0;
    if (!cal || cal->always) {
        uint64_t wall_ms = timespan_ms(b_ms, a_ms);
        return wall_ms > INT64_MAX ? INT64_MAX : (int64_t)wall_ms;
    }

    span_walk_t walk = span_walk_start(cal, a_ms, HF_CALENDAR_MAX_DAYS);
    uint64_t total_ms = 0;
    int64_t start, end;
    while (span_walk_next(&walk, &start, &end) && start < b_ms)
        total_ms += timespan_ms(end < b_ms ? end : b_ms, start);
    return total_ms > INT64_MAX ? INT64_MAX : (int64_t)total_ms;
}

bool hf_calendar_is_open(const hf_calendar_t *cal, int64_t at_ms)
{
    if (!cal || cal->always)
        return true;
    /* The first span ending after @at_ms is clipped to start at it when it runs. */
    span_walk_t walk = span_walk_start(cal, at_ms, 1);
    int64_t start, end;
    return span_walk_next(&walk, &start, &end) && start == at_ms;
}

void hf_calendar_free(hf_calendar_t *cal)
{
    if (!cal)
        return;
    free(cal->name);
    hf_tz_free(&cal->tz);
    free(cal->holidays);
    *cal = (hf_calendar_t){0};
}
