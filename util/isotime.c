#include "isotime.h"

#include <stdio.h>

/* Floor division, for instants before 1970. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Year, month (1-12) and day (1-31) of @days since 1970-01-01: H. Hinnant's
 * civil_from_days, exact for every day an int64 of milliseconds reaches
 * (|days| < 2^37), without libc's time_t or time zone. */
static void civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
    days += 719468; /* from 0000-03-01 */
    int64_t era = floor_div(days, 146097);
    int64_t doe = days - era * 146097;                                   /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
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
    int month, day;
    civil_from_days(days, &year, &month, &day);
    int n;
    if (year < 0)
        n = snprintf(out, HF_ISO8601_SIZE, "-%04lld", (long long)-year);
    else
        n = snprintf(out, HF_ISO8601_SIZE, year > 9999 ? "+%lld" : "%04lld", (long long)year);
    n += snprintf(out + n, HF_ISO8601_SIZE - (size_t)n, "-%02d-%02dT%02d:%02d:%02d.%03dZ", month,
                  day, (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), ms);
    return (size_t)n;
}
