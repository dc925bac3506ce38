/* ISO 8601 time stamps in UTC with milliseconds, from epoch milliseconds, and the
 * civil-date arithmetic under them: pure
 * arithmetic (no libc time zone, no clock), so that any thread and any value an
 * int64 holds can be printed the same way. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Room for the longest stamp: "-292275055-05-16T16:47:04.192Z" and its NUL. */
#define HF_ISO8601_SIZE 32

/* Writes @epoch_ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" (proleptic Gregorian calendar)
 * into @out, NUL-terminated.  Years before 0 or after 9999 take a sign and as many
 * digits as they need (ISO 8601's expanded form: "+10000-01-01T00:00:00.000Z",
 * "-0001-12-31T23:59:59.999Z").  Returns the length written (24 for years 0 to
 * 9999). */
size_t hf_iso8601_ms(char out[HF_ISO8601_SIZE], int64_t epoch_ms);

/* Days since 1970-01-01 of the proleptic Gregorian date @y-@m-@d (month 1-12, day
 * 1-31), and back: H. Hinnant's algorithms, exact for every day an int64 of
 * milliseconds reaches, without libc's time_t or time zone. */
int64_t hf_days_from_civil(int64_t y, int32_t m, int32_t d);
void hf_civil_from_days(int64_t days, int64_t *y, int32_t *m, int32_t *d);
