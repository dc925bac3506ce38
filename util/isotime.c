#include "isotime.h"

#include <stdio.h>

/* Floor division, for instants before 1970. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* ---- civil dates (proleptic Gregorian, 400-year eras of 146097 days) ---- */

/* Counting years from March makes February 29 the last day of its year, so the
 * day of the year is a closed formula of the month and no leap test is needed. */
int64_t hf_days_from_civil(int64_t y, int32_t m, int32_t d)
{
    int64_t year = m <= 2 ? y - 1 : y;
    int64_t era = floor_div(year, 400);
    int64_t year_of_era = year - era * 400;                         /* 0 .. 399 */
    int64_t month_from_march = m > 2 ? m - 3 : m + 9;               /* 0 = March */
    int64_t day_of_year = (153 * month_from_march + 2) / 5 + d - 1; /* 0 .. 365 */
    int64_t day_of_era =
        year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year; /* 0 .. 146096 */
    return era * 146097 + day_of_era - 719468; /* 719468: 0000-03-01 to 1970-01-01 */
}

void hf_civil_from_days(int64_t days, int64_t *y, int32_t *m, int32_t *d)
{
    int64_t since_0000_03_01 = days + 719468;
    int64_t era = floor_div(since_0000_03_01, 146097);
    int64_t day_of_era = since_0000_03_01 - era * 146097; /* 0 .. 146096 */
    /* Years of 365 days, less the leap days already passed (the last day of a
     * 4-, 100- and 400-year cycle would otherwise start a new year). */
    int64_t year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t month_from_march = (5 * day_of_year + 2) / 153;
    int32_t month = (int32_t)(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
    *d = (int32_t)(day_of_year - (153 * month_from_march + 2) / 5 + 1);
    *m = month;
    *y = year_of_era + era * 400 + (month <= 2);
}

size_t hf_iso8601_ms(char out[HF_ISO8601_SIZE], int64_t epoch_ms)
{
    /* the remainder first: secs * 1000 overflows for the most negative instants */
    int ms = (int)(epoch_ms % 1000);
    int64_t secs = epoch_ms / 1000;
    if (ms < 0) {
        ms += 1000;
        secs--;
    }
    int64_t days = floor_div(secs, 86400);
    int64_t sod = secs - days * 86400;
    int64_t year;
    int32_t month, day;
    hf_civil_from_days(days, &year, &month, &day);
    int n;
    if (year < 0)
        n = snprintf(out, HF_ISO8601_SIZE, "-%04lld", (long long)-year);
    else
        n = snprintf(out, HF_ISO8601_SIZE, year > 9999 ? "+%lld" : "%04lld", (long long)year);
    n += snprintf(out + n, HF_ISO8601_SIZE - (size_t)n, "-%02d-%02dT%02d:%02d:%02d.%03dZ", month,
                  day, (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), ms);
    return (size_t)n;
}
