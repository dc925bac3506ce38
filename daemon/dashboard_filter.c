/* The dashboard's filter: the query of GET / and GET /v1/dashboard read into a
 * dashboard_filter_t (dashboard.h).  Pure: strings in, a filter out; fuzzed in
 * tests/fuzz/http_fuzz.c. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "dashboard.h"

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The @len bytes at @s %-decoded ('+' as a space) into @out (room for @max + 1).
 * False when longer, badly escaped or holding a control character. */
static bool query_decode(const char *s, size_t len, char *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= len)
                return false;
            int a = hex_value(s[i + 1]), b = hex_value(s[i + 2]);
            if (a < 0 || b < 0)
                return false;
            c = a * 16 + b;
            i += 2;
        }
        if (c < 0x20 || c == 0x7f || n >= max)
            return false;
        out[n++] = (char)c;
    }
    out[n] = 0;
    return true;
}

/* "YYYY-MM-DD" as YYYYMMDD, or 0. */
static int32_t parse_date(const char *s)
{
    int y, m, d;
    char extra;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
        sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3)
        return 0;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return 0;
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > 31)
        return 0;
    return y * 10000 + m * 100 + d;
}

const char *dashboard_filter_parse(const char *query, dashboard_filter_t *f)
{
    dashboard_filter_t got = {{0}};
    for (const char *p = query; p && *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t klen = eq ? (size_t)(eq - p) : len;
        const char *v = eq ? eq + 1 : p + len;
        size_t vlen = (size_t)(p + len - v);
        char value[DASHBOARD_TEAM_MAX + 1];
        bool team = klen == 4 && memcmp(p, "team", 4) == 0;
        bool from = klen == 4 && memcmp(p, "from", 4) == 0;
        bool to = klen == 2 && memcmp(p, "to", 2) == 0;
        if (team || from || to) {
            if (!query_decode(v, vlen, value, DASHBOARD_TEAM_MAX))
                return team ? "team: at most 96 bytes, no control characters"
                            : "from, to: a date YYYY-MM-DD";
            if (team) {
                memcpy(got.team, value, strlen(value) + 1);
            } else if (value[0]) {
                int32_t day = parse_date(value);
                if (!day)
                    return "from, to: a date YYYY-MM-DD";
                *(from ? &got.from_day : &got.to_day) = day;
            }
        }
        p += len + (amp ? 1 : 0);
    }
    if (got.from_day && got.to_day && got.from_day > got.to_day)
        return "from is after to";
    *f = got;
    return NULL;
}
