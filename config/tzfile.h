/* IANA time zones from the system's tzdata (TZif files, RFC 8536), compiled into the
 * pure hf_tz_t of processors/sla/calendar.h: the transitions of the file's 64-bit
 * block, and the POSIX TZ rule of its footer for the years after them.  Read once
 * at config load; nothing here touches libc's own time-zone state (TZ, tzset). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "processors/sla/calendar.h"

/* Loads zone @name ("America/New_York", "UTC") from @dir (NULL: $TZDIR, else
 * /usr/share/zoneinfo).  A name with "..", a leading '/', or characters outside
 * [A-Za-z0-9/_+-] is refused.  Returns 0 with *out filled (free with hf_tz_free), or
 * a negative errno with one line in @err saying why (e.g. "unknown time zone
 * \"Mars/Olympus\": no /usr/share/zoneinfo/Mars/Olympus (is the tzdata package
 * installed?)"). */
int tzfile_load(hf_tz_t *out, const char *name, const char *dir, char *err, size_t errsz);

/* The same from the bytes of a TZif file (version 1, 2, 3 or 4). */
int tzfile_parse(hf_tz_t *out, const char *name, const uint8_t *data, size_t len, char *err,
                 size_t errsz);

/* Parses a POSIX TZ string ("EST5EDT,M3.2.0,M11.1.0", "CET-1CEST,M3.5.0,M10.5.0/3",
 * "<+0330>-3:30", "UTC0") into @out.  Returns 0 or -EINVAL. */
int tzfile_parse_posix(hf_tz_rule_t *out, const char *spec);
