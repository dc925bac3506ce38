/* Business calendars: the time an SLA is measured in (docs/ARCHITECTURE.md "SLA and
 * feedback").
 *
 * A calendar is a time zone, working hours per weekday and holidays.  The time zone
 * comes compiled: the UTC offsets of an IANA zone as config/tzfile.c reads them from
 * the system's tzdata (its transitions, then the POSIX rule of its footer for the
 * years after them).  Everything here is arithmetic on that: no I/O, no clock, no
 * libc time-zone state, so SLA deadlines are the same on every machine and in every
 * test.
 *
 * Local times that do not exist (the hour skipped when clocks go forward) and that
 * exist twice (the hour repeated when they go back) follow RFC 5545's rule: a
 * skipped local time is read with the offset before the change (09:30 in a gap
 * that runs 02:00-03:00 ... is 03:30 after it), a repeated one as its first
 * occurrence. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/isotime.h" /* hf_days_from_civil(), hf_civil_from_days() */

/* A POSIX TZ rule ("EST5EDT,M3.2.0,M11.1.0"): the zone's offsets for the years after
 * its last listed transition. */
typedef enum hf_tz_date_kind {
    HF_TZ_DATE_MONTH_WEEK_DAY = 0, /* Mm.w.d: day d (0 = Sunday) of week w (5 = last) of month m */
    HF_TZ_DATE_JULIAN_NOLEAP,      /* Jn: day n in 1..365, February 29 never counted */
    HF_TZ_DATE_JULIAN,             /* n: day n in 0..365, counting February 29 */
} hf_tz_date_kind_t;

typedef struct hf_tz_date {
    hf_tz_date_kind_t kind;
    int32_t month, week, wday; /* HF_TZ_DATE_MONTH_WEEK_DAY */
    int32_t day;               /* the Julian kinds */
    int32_t time_s;            /* local time of day of the change (may be < 0 or > 24 h) */
} hf_tz_date_t;

typedef struct hf_tz_rule {
    int32_t std_offset_s; /* seconds east of UTC (the POSIX sign inverted) */
    bool has_dst;
    int32_t dst_offset_s;
    hf_tz_date_t dst_start; /* in standard local time */
    hf_tz_date_t dst_end;   /* in daylight local time */
} hf_tz_rule_t;

typedef struct hf_tz {
    char *name;               /* "America/New_York"; owned */
    int32_t initial_offset_s; /* before the first transition */
    int64_t *trans_at_s;      /* transitions, UTC seconds, ascending; owned */
    int32_t *trans_offset_s;  /* offset in effect from trans_at_s[i] on; owned */
    size_t trans_count;
    bool has_rule; /* after the last transition (else the last offset stays) */
    hf_tz_rule_t rule;
} hf_tz_t;

/* Seconds east of UTC in effect at @utc_s. */
int32_t hf_tz_offset_at(const hf_tz_t *tz, int64_t utc_s);

/* The UTC instant of local wall time @local_s (seconds since 1970-01-01T00:00 local),
 * with the gap and overlap rule above. */
int64_t hf_tz_local_to_utc(const hf_tz_t *tz, int64_t local_s);

void hf_tz_free(hf_tz_t *tz);

/* Working hours of one weekday: up to HF_CALENDAR_SPANS spans [open, close) in
 * seconds from local midnight, ascending and not overlapping; no span = closed. */
#define HF_CALENDAR_SPANS 4
typedef struct hf_day_hours {
    int32_t open_s[HF_CALENDAR_SPANS];
    int32_t close_s[HF_CALENDAR_SPANS];
    uint32_t span_count;
} hf_day_hours_t;

typedef struct hf_calendar {
    char *name; /* owned */
    hf_tz_t tz;
    bool always;             /* 24x7: every millisecond counts; tz and hours unused */
    hf_day_hours_t hours[7]; /* index 0 = Sunday ... 6 = Saturday */
    int32_t *holidays;       /* local dates, days since 1970-01-01, ascending; owned */
    size_t holiday_count;
} hf_calendar_t;

/* The instant @business_ms of working time after @from_ms (UTC ms): a deadline.
 * @business_ms <= 0 gives @from_ms.  A NULL @cal is 24x7.  Looks at most
 * HF_CALENDAR_MAX_DAYS days ahead; INT64_MAX when the calendar has no working time
 * within them. */
#define HF_CALENDAR_MAX_DAYS 3700
int64_t hf_calendar_add(const hf_calendar_t *cal, int64_t from_ms, int64_t business_ms);

/* Working time between @a_ms and @b_ms (0 when @b_ms <= @a_ms), counted over the same
 * HF_CALENDAR_MAX_DAYS days as hf_calendar_add looks at from @a_ms. */
int64_t hf_calendar_between(const hf_calendar_t *cal, int64_t a_ms, int64_t b_ms);

/* True when @at_ms falls in working time. */
bool hf_calendar_is_open(const hf_calendar_t *cal, int64_t at_ms);

void hf_calendar_free(hf_calendar_t *cal);
