/* Overflow-free arithmetic on event times.  Event times come from producers and may
 * be anything a long holds, so differences and sums must not overflow. */
#pragma once

#include <stdint.h>

/* @newer - @older as an unsigned span; requires newer >= older (always fits). */
static inline uint64_t timespan_ms(int64_t newer, int64_t older)
{
    return (uint64_t)newer - (uint64_t)older;
}

/* True when @t lies more than @window_ms (>= 0) before @newest. */
static inline int timespan_older_than(int64_t t, int64_t newest, int64_t window_ms)
{
    return t < newest && timespan_ms(newest, t) > (uint64_t)window_ms;
}

/* @t + @d_ms, saturated to the range of int64. */
static inline int64_t timespan_add_sat(int64_t t, int64_t d_ms)
{
    if (d_ms > 0 && t > INT64_MAX - d_ms)
        return INT64_MAX;
    if (d_ms < 0 && t < INT64_MIN - d_ms)
        return INT64_MIN;
    return t + d_ms;
}
