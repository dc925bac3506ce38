/* IANA time zones from TZif files (RFC 8536) and POSIX TZ strings, compiled into
 * the pure hf_tz_t of processors/sla/calendar.h.
 *
 * The reader is a boundary: every count is checked against the bytes that are
 * there before anything is read, so a truncated or corrupt file is -EINVAL with a
 * message, never a crash.  Leap-second files ("right/...") count leap seconds in
 * their timestamps and are refused rather than read an error of up to half a
 * minute into every deadline. */
#include "tzfile.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TZFILE_DEFAULT_DIR "/usr/share/zoneinfo"
#define TZFILE_MAX_BYTES (1024 * 1024)
#define TZFILE_NAME_MAX 255
#define TZIF_HEADER_BYTES 44
#define TZIF_TTINFO_BYTES 6
/* The footer of any real zone is a few dozen characters. */
#define TZIF_FOOTER_MAX 255

/* The rules POSIX assumes for a DST name without them (the US rules since 2007). */
#define POSIX_DEFAULT_RULES ",M3.2.0,M11.1.0"

__attribute__((format(printf, 4, 5))) static int tz_error(char *err, size_t errsz, int rc,
                                                          const char *fmt, ...)
{
    if (err && errsz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errsz, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* ---- POSIX TZ strings ---- */

/* At most @max_digits decimal digits (at least one) as a number. */
static bool posix_number(const char **p, int max_digits, int32_t *out)
{
    const char *s = *p;
    int32_t value = 0;
    int digits = 0;
    while (isdigit((unsigned char)*s) && digits < max_digits) {
        value = value * 10 + (*s++ - '0');
        digits++;
    }
    if (digits == 0 || isdigit((unsigned char)*s))
        return false;
    *p = s;
    *out = value;
    return true;
}

/* A zone abbreviation: three or more letters, or <...> of letters, digits, + and -. */
static bool posix_name(const char **p)
{
    const char *s = *p, *q = s;
    if (*s == '<') {
        for (q = s + 1; isalnum((unsigned char)*q) || *q == '+' || *q == '-'; q++)
            ;
        if (*q != '>' || q - (s + 1) < 3)
            return false;
        *p = q + 1;
        return true;
    }
    while (isalpha((unsigned char)*q))
        q++;
    if (q - s < 3)
        return false;
    *p = q;
    return true;
}

/* [+-]hh[:mm[:ss]] with hh <= @max_hours, in seconds with the sign as written. */
static bool posix_hms(const char **p, int32_t max_hours, int32_t *out_s)
{
    const char *s = *p;
    int32_t sign = 1, hours, minutes = 0, seconds = 0;
    if (*s == '+' || *s == '-')
        sign = *s++ == '-' ? -1 : 1;
    if (!posix_number(&s, 3, &hours) || hours > max_hours)
        return false;
    if (*s == ':') {
        s++;
        if (!posix_number(&s, 2, &minutes) || minutes > 59)
            return false;
        if (*s == ':') {
            s++;
            if (!posix_number(&s, 2, &seconds) || seconds > 59)
                return false;
        }
    }
    *p = s;
    *out_s = sign * (hours * 3600 + minutes * 60 + seconds);
    return true;
}

/* Mm.w.d, Jn or n, then an optional /time (default 02:00; TZif v3 allows -167 h to
 * +167 h). */
static bool posix_date(const char **p, hf_tz_date_t *out)
{
    const char *s = *p;
    hf_tz_date_t date = {.time_s = 2 * 3600};
    if (*s == 'M') {
        s++;
        date.kind = HF_TZ_DATE_MONTH_WEEK_DAY;
        if (!posix_number(&s, 2, &date.month) || date.month < 1 || date.month > 12 || *s++ != '.' ||
            !posix_number(&s, 1, &date.week) || date.week < 1 || date.week > 5 || *s++ != '.' ||
            !posix_number(&s, 1, &date.wday) || date.wday > 6)
            return false;
    } else if (*s == 'J') {
        s++;
        date.kind = HF_TZ_DATE_JULIAN_NOLEAP;
        if (!posix_number(&s, 3, &date.day) || date.day < 1 || date.day > 365)
            return false;
    } else {
        date.kind = HF_TZ_DATE_JULIAN;
        if (!posix_number(&s, 3, &date.day) || date.day > 365)
            return false;
    }
    if (*s == '/') {
        s++;
        if (!posix_hms(&s, 167, &date.time_s))
            return false;
    }
    *p = s;
    *out = date;
    return true;
}

/* ",start[/time],end[/time]" to the end of the string. */
static bool posix_rules(const char *s, hf_tz_rule_t *rule)
{
    if (*s != ',')
        return false;
    s++;
    if (!posix_date(&s, &rule->dst_start) || *s != ',')
        return false;
    s++;
    return posix_date(&s, &rule->dst_end) && *s == '\0';
}

/* RFC 8536 §3.2: UT offsets SHOULD lie in [-89999, 93599] seconds (-25 h to +26 h);
 * the calendar arithmetic relies on it. */
static bool tz_offset_sane(int64_t off)
{
    return off >= -89999 && off <= 93599;
}

int tzfile_parse_posix(hf_tz_rule_t *out, const char *spec)
{
    if (!spec)
        return -EINVAL;
    const char *p = spec;
    hf_tz_rule_t rule = {0};
    int32_t west_s;
    if (!posix_name(&p) || !posix_hms(&p, 24, &west_s))
        return -EINVAL;
    rule.std_offset_s = -west_s; /* POSIX counts west of Greenwich positive */
    if (*p != '\0') {
        if (!posix_name(&p))
            return -EINVAL;
        rule.has_dst = true;
        rule.dst_offset_s = rule.std_offset_s + 3600;
        if (*p != '\0' && *p != ',') {
            if (!posix_hms(&p, 24, &west_s))
                return -EINVAL;
            rule.dst_offset_s = -west_s;
        }
        if (!posix_rules(*p ? p : POSIX_DEFAULT_RULES, &rule))
            return -EINVAL;
        /* no real zone moves its clocks by more than a day at once, and the calendar
         * arithmetic relies on that (processors/sla/calendar.c) */
        int64_t jump = (int64_t)rule.dst_offset_s - rule.std_offset_s;
        if (jump > 86400 || jump < -86400 || !tz_offset_sane(rule.dst_offset_s))
            return -EINVAL;
    }
    if (!tz_offset_sane(rule.std_offset_s))
        return -EINVAL;
    *out = rule;
    return 0;
}

/* ---- TZif ---- */

typedef struct tzif_header {
    uint8_t version; /* 0 (version 1), or '2', '3', '4', ... */
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tzif_header_t;

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* The header at @p (@len bytes left), its counts checked against each other. */
static int tzif_header(const uint8_t *p, size_t len, tzif_header_t *h, const char *name, char *err,
                       size_t errsz)
{
    if (len < TZIF_HEADER_BYTES || memcmp(p, "TZif", 4) != 0)
        return tz_error(err, errsz, -EINVAL, "time zone \"%s\": not a TZif file", name);
    *h = (tzif_header_t){.version = p[4],
                         .isutcnt = be32(p + 20),
                         .isstdcnt = be32(p + 24),
                         .leapcnt = be32(p + 28),
                         .timecnt = be32(p + 32),
                         .typecnt = be32(p + 36),
                         .charcnt = be32(p + 40)};
    if (h->version != 0 && h->version < '2')
        return tz_error(err, errsz, -EINVAL, "time zone \"%s\": unknown TZif version 0x%02x", name,
                        h->version);
    if (h->typecnt == 0 || h->charcnt == 0 || (h->isutcnt && h->isutcnt != h->typecnt) ||
        (h->isstdcnt && h->isstdcnt != h->typecnt))
        return tz_error(err, errsz, -EINVAL,
                        "time zone \"%s\": corrupt TZif header (typecnt %" PRIu32
                        ", charcnt %" PRIu32 ", isutcnt %" PRIu32 ", isstdcnt %" PRIu32 ")",
                        name, h->typecnt, h->charcnt, h->isutcnt, h->isstdcnt);
    return 0;
}

/* Bytes of the data block after header @h, with @time_bytes per timestamp (4 in
 * the version 1 block, 8 in the later one).  Cannot overflow: 32-bit counts. */
static uint64_t tzif_block_bytes(const tzif_header_t *h, unsigned time_bytes)
{
    return (uint64_t)h->timecnt * (time_bytes + 1) + (uint64_t)h->typecnt * TZIF_TTINFO_BYTES +
           h->charcnt + (uint64_t)h->leapcnt * (time_bytes + 4) + h->isstdcnt + h->isutcnt;
}

/* Checks the local time types (ttinfo records) at @types. */
static int tzif_check_types(const uint8_t *types, const tzif_header_t *h, const char *name,
                            char *err, size_t errsz)
{
    for (uint32_t i = 0; i < h->typecnt; i++) {
        const uint8_t *t = types + (size_t)i * TZIF_TTINFO_BYTES;
        if (!tz_offset_sane((int32_t)be32(t)) || t[4] > 1 || t[5] >= h->charcnt)
            return tz_error(err, errsz, -EINVAL,
                            "time zone \"%s\": corrupt local time type %" PRIu32, name, i);
    }
    return 0;
}

static int32_t tzif_type_offset(const uint8_t *types, uint8_t type)
{
    return (int32_t)be32(types + (size_t)type * TZIF_TTINFO_BYTES);
}

/* Reads the transitions of the data block at @p into @tz.  A transition to the
 * offset already in effect is dropped, except the last one, after which the footer
 * rule takes over. */
static int tzif_transitions(hf_tz_t *tz, const uint8_t *p, const tzif_header_t *h,
                            unsigned time_bytes, const char *name, char *err, size_t errsz)
{
    const uint8_t *indices = p + (size_t)h->timecnt * time_bytes;
    const uint8_t *types = indices + h->timecnt;
    int rc = tzif_check_types(types, h, name, err, errsz);
    if (rc)
        return rc;
    /* RFC 8536 section 3.2: local time before the first transition is type 0's. */
    tz->initial_offset_s = tzif_type_offset(types, 0);
    if (h->timecnt == 0)
        return 0;

    tz->trans_at_s = malloc(h->timecnt * sizeof *tz->trans_at_s);
    tz->trans_offset_s = malloc(h->timecnt * sizeof *tz->trans_offset_s);
    if (!tz->trans_at_s || !tz->trans_offset_s)
        return tz_error(err, errsz, -ENOMEM, "time zone \"%s\": out of memory", name);
    int32_t in_effect_s = tz->initial_offset_s;
    int64_t previous_s = INT64_MIN;
    for (uint32_t i = 0; i < h->timecnt; i++) {
        const uint8_t *at = p + (size_t)i * time_bytes;
        int64_t at_s = time_bytes == 8 ? be64(at) : (int32_t)be32(at);
        if (indices[i] >= h->typecnt)
            return tz_error(err, errsz, -EINVAL,
                            "time zone \"%s\": transition %" PRIu32 " has no local time type %u",
                            name, i, indices[i]);
        if (i > 0 && at_s <= previous_s)
            return tz_error(err, errsz, -EINVAL,
                            "time zone \"%s\": transition %" PRIu32 " out of order", name, i);
        previous_s = at_s;
        int32_t offset_s = tzif_type_offset(types, indices[i]);
        if ((int64_t)offset_s - in_effect_s > 86400 || (int64_t)in_effect_s - offset_s > 86400)
            return tz_error(err, errsz, -EINVAL,
                            "time zone \"%s\": transition %" PRIu32
                            " moves the clock by more than a day",
                            name, i);
        if (offset_s == in_effect_s && i + 1 < h->timecnt)
            continue;
        tz->trans_at_s[tz->trans_count] = at_s;
        tz->trans_offset_s[tz->trans_count++] = offset_s;
        in_effect_s = offset_s;
    }
    return 0;
}

/* The footer "\n<POSIX TZ string>\n" at @p (@len bytes left); empty = no rule. */
static int tzif_footer(hf_tz_t *tz, const uint8_t *p, size_t len, const char *name, char *err,
                       size_t errsz)
{
    const uint8_t *end = len > 1 && p[0] == '\n' ? memchr(p + 1, '\n', len - 1) : NULL;
    if (!end)
        return tz_error(err, errsz, -EINVAL, "time zone \"%s\": TZif footer missing", name);
    size_t footer_len = (size_t)(end - (p + 1));
    char footer[TZIF_FOOTER_MAX + 1];
    if (footer_len > TZIF_FOOTER_MAX || memchr(p + 1, '\0', footer_len))
        return tz_error(err, errsz, -EINVAL, "time zone \"%s\": corrupt TZif footer", name);
    memcpy(footer, p + 1, footer_len);
    footer[footer_len] = '\0';
    if (footer_len == 0)
        return 0;
    if (tzfile_parse_posix(&tz->rule, footer) < 0)
        return tz_error(err, errsz, -EINVAL, "time zone \"%s\": bad TZ string \"%s\" in footer",
                        name, footer);
    tz->has_rule = true;
    return 0;
}

/* Version 2 and later repeat the data with 64-bit times after the version 1 block,
 * then add the footer; only that second part is read. */
int tzfile_parse(hf_tz_t *out, const char *name, const uint8_t *data, size_t len, char *err,
                 size_t errsz)
{
    const char *shown = name ? name : "(unnamed)";
    hf_tz_t tz = {0};
    tzif_header_t h;
    unsigned time_bytes = 4;
    size_t at = 0;
    int rc = data ? tzif_header(data, len, &h, shown, err, errsz)
                  : tz_error(err, errsz, -EINVAL, "time zone \"%s\": no data", shown);
    if (rc)
        goto fail;
    if (h.version >= '2') {
        uint64_t v1_bytes = TZIF_HEADER_BYTES + tzif_block_bytes(&h, 4);
        if (v1_bytes > len) {
            rc = tz_error(err, errsz, -EINVAL, "time zone \"%s\": truncated TZif data", shown);
            goto fail;
        }
        at = (size_t)v1_bytes;
        time_bytes = 8;
        if ((rc = tzif_header(data + at, len - at, &h, shown, err, errsz)))
            goto fail;
    }
    uint64_t block_bytes = tzif_block_bytes(&h, time_bytes);
    if (block_bytes > len - at - TZIF_HEADER_BYTES) {
        rc = tz_error(err, errsz, -EINVAL,
                      "time zone \"%s\": truncated TZif data (%" PRIu64 " bytes, %zu left)", shown,
                      block_bytes, len - at - TZIF_HEADER_BYTES);
        goto fail;
    }
    if (h.leapcnt) {
        rc = tz_error(err, errsz, -ENOTSUP,
                      "time zone \"%s\": leap-second zones (\"right/...\") are not supported",
                      shown);
        goto fail;
    }
    at += TZIF_HEADER_BYTES;
    if ((rc = tzif_transitions(&tz, data + at, &h, time_bytes, shown, err, errsz)))
        goto fail;
    at += (size_t)block_bytes;
    if (time_bytes == 8 && (rc = tzif_footer(&tz, data + at, len - at, shown, err, errsz)))
        goto fail;
    if (name && !(tz.name = strdup(name))) {
        rc = tz_error(err, errsz, -ENOMEM, "time zone \"%s\": out of memory", shown);
        goto fail;
    }
    *out = tz;
    return 0;
fail:
    hf_tz_free(&tz);
    return rc;
}

/* ---- loading ---- */

/* A zone name is a path below the tzdata directory, never out of it. */
static int tzfile_check_name(const char *name, char *err, size_t errsz)
{
    if (!name || !*name)
        return tz_error(err, errsz, -EINVAL, "empty time zone name");
    if (strlen(name) > TZFILE_NAME_MAX)
        return tz_error(err, errsz, -EINVAL, "time zone name longer than %d characters",
                        TZFILE_NAME_MAX);
    if (name[0] == '/')
        return tz_error(err, errsz, -EINVAL,
                        "bad time zone name \"%s\": a name, not a path (no leading '/')", name);
    if (strstr(name, ".."))
        return tz_error(err, errsz, -EINVAL, "bad time zone name \"%s\": \"..\" not allowed", name);
    for (const char *c = name; *c; c++)
        if (!isalnum((unsigned char)*c) && !strchr("/_+-", *c))
            return tz_error(err, errsz, -EINVAL,
                            "bad time zone name \"%s\": only A-Z a-z 0-9 / _ + - allowed", name);
    return 0;
}

/* The whole of the regular file open at @fd, at most TZFILE_MAX_BYTES.  On success
 * *out (malloc'd, the caller's) and *out_len; on failure nothing is kept. */
static int tzfile_read_all(int fd, uint8_t **out, size_t *out_len)
{
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (len == cap) {
            if (cap > TZFILE_MAX_BYTES) {
                rc = -EFBIG;
                goto fail;
            }
            size_t grown = cap ? cap * 2 : 64 * 1024;
            cap = grown > TZFILE_MAX_BYTES + 1 ? TZFILE_MAX_BYTES + 1 : grown;
            uint8_t *bigger = realloc(buf, cap);
            if (!bigger) {
                rc = -ENOMEM;
                goto fail;
            }
            buf = bigger;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            goto fail;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    *out = buf;
    *out_len = len;
    return 0;
fail:
    free(buf);
    return rc;
}

/* Reads @path into *out / *out_len, or a negative errno.  O_NONBLOCK: a FIFO in the
 * directory must not hang the config load (regular files ignore the flag). */
static int tzfile_read(const char *path, uint8_t **out, size_t *out_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    struct stat st;
    int rc = fstat(fd, &st) < 0     ? -errno
             : S_ISDIR(st.st_mode)  ? -EISDIR
             : !S_ISREG(st.st_mode) ? -EINVAL
                                    : 0;
    if (rc == 0)
        rc = tzfile_read_all(fd, out, out_len);
    close(fd);
    return rc;
}

int tzfile_load(hf_tz_t *out, const char *name, const char *dir, char *err, size_t errsz)
{
    int rc = tzfile_check_name(name, err, errsz);
    if (rc)
        return rc;
    if (!dir) {
        dir = getenv("TZDIR");
        if (!dir || !*dir)
            dir = TZFILE_DEFAULT_DIR;
    }
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return tz_error(err, errsz, -ENAMETOOLONG, "time zone \"%s\": path too long", name);

    uint8_t *data = NULL;
    size_t len = 0;
    rc = tzfile_read(path, &data, &len);
    if (rc == -ENOENT || rc == -ENOTDIR)
        return tz_error(err, errsz, rc,
                        "unknown time zone \"%s\": no %s (is the tzdata package installed?)", name,
                        path);
    if (rc == -EISDIR)
        return tz_error(err, errsz, rc, "unknown time zone \"%s\": %s is a directory", name, path);
    if (rc == -EFBIG)
        return tz_error(err, errsz, rc, "time zone \"%s\": %s is larger than %d bytes", name, path,
                        TZFILE_MAX_BYTES);
    if (rc)
        return tz_error(err, errsz, rc, "time zone \"%s\": cannot read %s: %s", name, path,
                        strerror(-rc));
    rc = tzfile_parse(out, name, data, len, err, errsz);
    free(data);
    return rc;
}
